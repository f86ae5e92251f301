# Two commands do all setup on a fresh clone: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint format bench clean docs

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[postgres,spark]' --group dev
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/audit-kit demo --out demo-audit --force

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check audit_kit tests examples benchmarks
	$(BIN)/ruff format --check audit_kit tests examples benchmarks
	$(BIN)/mypy audit_kit

format: $(STAMP)
	$(BIN)/ruff format audit_kit tests examples benchmarks
	$(BIN)/ruff check --fix audit_kit tests examples benchmarks

bench: $(STAMP)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) demo-audit demo-audit-inputs demo-audit-program build dist .pytest_cache .mypy_cache .ruff_cache
