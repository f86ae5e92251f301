"""Frame numbers: the units numbered 1..N_h in unit-id order within each stratum.

:meth:`Frame.pick` finds them without sorting any stratum (one sort of packed stratum+key
values, ties broken on whole keys); these tests compare it with the plain definition: sort
each stratum's units by key and count.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from audit_kit.sampling._frame import Frame, _all_distinct, _decimal_keys


def frame_of(keys: np.ndarray) -> Frame:
    n = len(keys)
    return Frame(
        rows=np.arange(n, dtype=np.uint32),
        ids=pl.Series([str(k) for k in keys.tolist()]),
        keys=keys,
        by_code=np.zeros(n, dtype=np.int64),
        by_values=[],
        variables={},
        file_rows=n,
        excluded=[],
        order_rule="text",
    )


def plain_pick(keys: np.ndarray, stratum: np.ndarray, h: int, numbers: list[int]) -> list[int]:
    members = np.flatnonzero(stratum == h)
    ordered = members[np.argsort(keys[members], kind="stable")]
    return [int(ordered[k - 1]) for k in numbers]


@settings(max_examples=200, deadline=None)
@given(
    data=st.data(),
    size=st.integers(1, 400),
    strata=st.integers(1, 40),
    spread=st.sampled_from(["small", "wide", "top"]),
)
def test_pick_matches_sorting_each_stratum(
    data: st.DataObject, size: int, strata: int, spread: str
) -> None:
    seed = data.draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    if spread == "small":  # keys fit beside the stratum bits: no shift
        keys = rng.choice(10 * size, size=size, replace=False).astype(np.uint64)
    elif spread == "wide":  # keys over all 64 bits: shifted, so packed values can tie
        keys = np.unique(rng.integers(0, 2**64 - 1, size=size * 2, dtype=np.uint64))[:size]
        rng.shuffle(keys)
        size = len(keys)
    else:  # keys that differ only in their lowest bits but span the top ones
        low = rng.choice(4 * size, size=size, replace=False).astype(np.uint64)
        keys = low | np.where(rng.random(size) < 0.5, np.uint64(2**63), np.uint64(0))
        keys = np.unique(keys)
        rng.shuffle(keys)
        size = len(keys)
    stratum = rng.integers(0, strata, size=size).astype(np.uint16)
    present = sorted(set(stratum.tolist()))
    requests = []
    for h in present:
        population = int((stratum == h).sum())
        count = data.draw(st.integers(1, population))
        numbers = rng.choice(np.arange(1, population + 1), size=count, replace=False).tolist()
        requests.append((h, numbers))
    picked = frame_of(keys).pick(stratum, requests)
    for (h, numbers), got in zip(requests, picked, strict=True):
        assert got.tolist() == plain_pick(keys, stratum, h, numbers)


def test_pick_of_a_whole_stratum_is_its_units_in_key_order() -> None:
    keys = np.array([50, 10, 40, 30, 20, 2**64 - 1, 0], dtype=np.uint64)
    stratum = np.array([1, 0, 1, 0, 1, 1, 0], dtype=np.uint8)
    picked = frame_of(keys).pick(stratum, [(1, [1, 2, 3, 4]), (0, [3, 1, 2])])
    # stratum 1 by key: 20 (4), 40 (2), 50 (0), 2**64-1 (5); stratum 0: 0 (6), 10 (1), 30 (3)
    assert [p.tolist() for p in picked] == [[4, 2, 0, 5], [3, 6, 1]]


# -- unit-id keys -----------------------------------------------------------------------------


def byte_keys(ids: list[str], offset: int) -> np.ndarray:
    """The 8 bytes of each id from ``offset`` (NUL-padded) as big-endian integers."""
    return np.array(
        [int.from_bytes(i.encode()[offset : offset + 8].ljust(8, b"\0"), "big") for i in ids],
        dtype=np.uint64,
    )


@settings(max_examples=300, deadline=None)
@given(
    prefix=st.text(alphabet="ABZ0-", max_size=3),
    width=st.integers(1, 8),
    numbers=st.lists(st.integers(0, 10**8 - 1), min_size=1, max_size=60),
    offset_back=st.integers(0, 3),
)
def test_decimal_keys_keep_the_order_of_the_ids(
    prefix: str, width: int, numbers: list[int], offset_back: int
) -> None:
    ids = [prefix + str(n % 10**width).zfill(width) for n in numbers]
    offset = max(0, len(prefix) - offset_back)
    assume(len(ids[0]) - offset <= 8)  # as in _byte_keys: the 8 bytes hold the rest of the id
    keys = byte_keys(ids, offset)
    got = _decimal_keys(keys)
    order = sorted(range(len(ids)), key=lambda i: (ids[i].encode(), i))
    ranked = sorted(range(len(ids)), key=lambda i: (int(got[i]), i))
    assert [ids[i] for i in ranked] == [ids[i] for i in order]  # same order
    assert len(set(got.tolist())) == len(set(ids))  # equal ids, and only they, share a key
    if all(i.encode()[offset:].isdigit() for i in ids):
        # Digits from the offset on: keys are the numbers less a constant (the leading digits
        # every id shares), so they are dense.
        written = [int(i.encode()[offset:]) for i in ids]
        assert [int(g) - int(got.min()) for g in got] == [w - min(written) for w in written]


@pytest.mark.parametrize(
    "ids",
    [
        ["E1a", "E1b", "E10"],  # a letter among the varying bytes: not numbers
        ["12", "1", "123"],  # different widths (NUL padding varies)
        ["1/", "10"],  # bytes just outside '0'..'9'
        ["19", "1:", "10"],
    ],
)
def test_decimal_keys_leave_other_ids_as_bytes(ids: list[str]) -> None:
    keys = byte_keys(ids, 0)
    assert _decimal_keys(keys).tolist() == keys.tolist()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 2**64 - 1), min_size=1, max_size=50), st.booleans())
def test_distinct_agrees_with_a_set(values: list[int], dense: bool) -> None:
    if dense:  # small range: the bitmap path
        values = [v % 97 + 10**12 for v in values]
    keys = np.array(values, dtype=np.uint64)
    assert _all_distinct(keys) == (len(set(values)) == len(values))
