"""A realistic, messy hospital billing export, deterministic (same arguments, same bytes).

As billing systems write them: title rows above the header, a ``Grand Total`` row and a
"report run" line at the end, ``$1,234.50`` amounts, accounting negatives ``($25.00)`` for
adjustments, zero and blank payments, US dates ``7/1/2026``, dotless and lower-case ICD-10-CM
codes, CPT codes with modifiers in columns of their own (``CPT 1``, ``Mod 1``, ``Mod 2``, ...),
headers such as ``Acct #``, ``DOS``, ``DOB``, ``Place of Service``, ``Coder Name``,
``Attending NPI``. The same rows can be written as CSV and as XLSX (date cells, number cells).

    python tests/messy_export.py OUT_DIR [--rows 20000]   # writes export.csv and export.xlsx

Synthetic data only: patients are "Testpatient NNNN", dates of birth and MRNs are made up.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import random
from pathlib import Path
from typing import Any

HEADER = [
    "Acct #",
    "MRN",
    "Patient Name",
    "DOB",
    "DOS",
    "Place of Service",
    "Attending NPI",
    "Attending Name",
    "Coder Name",
    "Payer",
    "Principal Dx",
    "Dx 2",
    "Dx 3",
    "CPT 1",
    "Mod 1",
    "Mod 2",
    "CPT 2",
    "Mod 3",
    "Mod 4",
    "Units",
    "Charges",
    "Paid",
]
TITLE = ["Example Health - Charge Detail Report, Q3 2026"]
RUN_LINE = "Report run 12/01/2026 08:15 by JSMITH"
CODERS = ["Ann Lee", "Bob Diaz", "Cara Wu", "Dan Roe", "Eve Kim", "Finn Ode"]
PAYERS = ["Medicare", "Medicaid", "BCBS", "Aetna", "Self-pay"]
POS = ["11", "22", "23", "21", "19"]
DX = ["E119", "I10", "J449", "N179", "E785", "Z794", "I2510", "K219", "M5450", "R079"]
CPT = [
    ("99213", 110.0),
    ("99214", 165.0),
    ("99215", 230.0),
    ("99284", 410.0),
    ("93000", 25.0),
    ("71046", 60.0),
    ("36415", 9.0),
    ("97110", 32.0),
]
MODS = ["25", "59", "26", "TC", "LT", "RT", "76", "GT"]


def rows(count: int, *, seed: int = 20261201) -> list[dict[str, Any]]:
    """The export's unit rows (typed: dates as dates, amounts as floats or None)."""
    rnd = random.Random(seed)
    out: list[dict[str, Any]] = []
    start = dt.date(2026, 7, 1)
    for i in range(count):
        code1, fee1 = rnd.choice(CPT)
        two = rnd.random() < 0.35
        code2, fee2 = rnd.choice(CPT) if two else ("", 0.0)
        units = rnd.choice([1, 1, 1, 2])
        charges = round((fee1 + fee2) * units * rnd.uniform(2.0, 3.0), 2)
        roll = rnd.random()
        if roll < 0.03:
            paid: float | None = -round(rnd.uniform(5, 200), 2)  # adjustments, refunds
        elif roll < 0.06:
            paid = 0.0  # denied
        elif roll < 0.08:
            paid = None  # not yet paid
        else:
            paid = round((fee1 + fee2) * units * rnd.uniform(0.8, 1.1), 2)
        dxs = rnd.sample(DX, 3)
        if rnd.random() < 0.2:
            dxs[0] = dxs[0].lower()
        out.append(
            {
                "Acct #": f"{400000 + i * 7 + rnd.randint(0, 6):07d}",
                "MRN": f"MR{rnd.randint(100000, 999999)}",
                "Patient Name": f"Testpatient {rnd.randint(1000, 9999)}",
                "DOB": dt.date(1930, 1, 1) + dt.timedelta(days=rnd.randint(0, 30000)),
                "DOS": start + dt.timedelta(days=rnd.randint(0, 91)),
                "Place of Service": rnd.choice(POS),
                "Attending NPI": f"1{rnd.randint(100000000, 999999999)}",
                "Attending Name": f"Dr Test {rnd.randint(1, 40)}",
                "Coder Name": rnd.choice(CODERS),
                "Payer": rnd.choice(PAYERS),
                "Principal Dx": dxs[0],
                "Dx 2": dxs[1],
                "Dx 3": dxs[2] if rnd.random() < 0.6 else "",
                "CPT 1": code1,
                "Mod 1": rnd.choice(MODS) if rnd.random() < 0.3 else "",
                "Mod 2": rnd.choice(MODS) if rnd.random() < 0.05 else "",
                "CPT 2": code2,
                "Mod 3": rnd.choice(MODS) if two and rnd.random() < 0.2 else "",
                "Mod 4": "",
                "Units": units,
                "Charges": charges,
                "Paid": paid,
            }
        )
    # Account numbers are unique by construction (i * 7 + 0..6).
    return out


def _money(value: float | None) -> str:
    if value is None:
        return ""
    text = f"${abs(value):,.2f}"
    return f"({text})" if value < 0 else text


def _us_date(day: dt.date) -> str:
    return f"{day.month}/{day.day}/{day.year}"


def write_csv(path: Path, data: list[dict[str, Any]]) -> Path:
    """The export as a billing system writes CSV: title rows, $ amounts, footer lines."""
    width = len(HEADER)
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(TITLE + [""] * (width - 1))
        out.writerow([RUN_LINE.replace("Report run", "Run date:")] + [""] * (width - 1))
        out.writerow([""] * width)
        out.writerow(HEADER)
        for row in data:
            cells = []
            for col in HEADER:
                value = row[col]
                if col in ("DOB", "DOS"):
                    cells.append(_us_date(value))
                elif col in ("Charges", "Paid"):
                    cells.append(_money(value))
                else:
                    cells.append("" if value is None else str(value))
            out.writerow(cells)
        total_paid = sum(r["Paid"] or 0.0 for r in data)
        total_charges = sum(r["Charges"] for r in data)
        footer = [""] * width
        footer[0] = "Grand Total"
        footer[HEADER.index("Charges")] = _money(total_charges)
        footer[HEADER.index("Paid")] = _money(total_paid)
        out.writerow(footer)
        out.writerow([RUN_LINE])
    return path


def write_xlsx(path: Path, data: list[dict[str, Any]]) -> Path:
    """The same rows saved from Excel: a title row, date and number cells, a total row."""
    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("Charge Detail")
    ws.append(TITLE)
    ws.append([RUN_LINE.replace("Report run", "Run date:")])
    ws.append([])
    ws.append(HEADER)
    for row in data:
        cells: list[Any] = []
        for col in HEADER:
            value = row[col]
            if col in ("DOB", "DOS"):
                cells.append(dt.datetime(value.year, value.month, value.day))
            elif col == "Units":
                cells.append(int(value))
            elif col in ("Charges", "Paid"):
                cells.append(value)
            else:
                cells.append(value if value != "" else None)
        ws.append(cells)
    footer: list[Any] = [None] * len(HEADER)
    footer[0] = "Grand Total"
    footer[HEADER.index("Charges")] = round(sum(r["Charges"] for r in data), 2)
    footer[HEADER.index("Paid")] = round(sum(r["Paid"] or 0.0 for r in data), 2)
    ws.append(footer)
    ws.append([RUN_LINE])
    wb.save(path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--rows", type=int, default=20_000)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    data = rows(args.rows)
    write_csv(args.out / "export.csv", data)
    write_xlsx(args.out / "export.xlsx", data)
    print(f"wrote {args.out / 'export.csv'} and {args.out / 'export.xlsx'} ({args.rows} rows)")


if __name__ == "__main__":
    main()


def fixture_rows() -> list[dict[str, Any]]:
    """The 40 rows of the committed fixtures (tests/data/messy/): every messy form present."""
    data = rows(40, seed=7)
    data[1]["Paid"] = -25.0  # accounting negative ($25.00)
    data[4]["Paid"] = 0.0  # denied
    data[6]["Paid"] = None  # blank: missing, not zero
    data[9]["Paid"] = 1234.5  # $1,234.50
    data[2].update({"CPT 1": "99214", "Mod 1": "25", "Mod 2": ""})
    data[3].update({"CPT 1": "97110", "Mod 1": "59", "Mod 2": "GP", "CPT 2": "97140"})
    data[3].update({"Mod 3": "59"})
    data[5]["Principal Dx"] = "e119"  # dotless, lower case
    return data


def write_fixtures(out: Path) -> None:
    """Write the committed fixtures (run once; the files are in git)."""
    out.mkdir(parents=True, exist_ok=True)
    data = fixture_rows()
    write_csv(out / "charges.csv", data)
    write_xlsx(out / "charges.xlsx", data)
