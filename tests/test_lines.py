"""The line index of a CSV universe (audit_kit.universe.lines) against a plain reading."""

from __future__ import annotations

import random

import numpy as np
import pytest

from audit_kit.universe.lines import LineScan, index_lines


def plain(data: bytes) -> tuple[list[int], int]:
    """Line starts (line 0 at byte 0, one after each newline, none at the very end) and the
    number of lines of at most 2 bytes, newline included."""
    starts = [0] + [i + 1 for i, byte in enumerate(data) if byte == 10]
    starts = [s for s in starts if s < len(data)]
    ends = [*starts[1:], len(data)] if starts else []
    return starts, sum(1 for a, b in zip(starts, ends, strict=True) if b - a <= 2)


def texts(count: int) -> list[bytes]:
    rnd = random.Random(20261127)
    out = [b"", b"\n", b"x", b"xy", b"\n\n", b"a,b\n", b"a,b\r\n1,2", b"\r\n\r\n"]
    for _ in range(count):
        size = rnd.choice([1, 2, 3, 7, 63, 64, 65, 127, 128, 129, 500, 3000])
        alphabet = rnd.choice([b"\n", b"\na", b"\n\rab", b"ab,\n\r", b"abcdefgh,\n"])
        out.append(bytes(rnd.choice(alphabet) for _ in range(size)))
    return out


@pytest.mark.parametrize("chunk_size", [64, 128, 192, 1 << 20])
def test_lines_match_a_plain_reading(chunk_size: int) -> None:
    for data in texts(400):
        index = index_lines(data, chunk_size)
        starts, short = plain(data)
        assert index.lines == len(starts), data
        assert index.short == short, data
        assert index.newlines == data.count(b"\n")
        if starts:
            lines = np.arange(len(starts))
            assert index.starts(lines).tolist() == starts, data
            assert index.ends(lines).tolist() == [*starts[1:], len(data)], data


def test_scan_grows_past_an_announced_size() -> None:
    """A file that grows while it is read (the size announced is too small) still indexes."""
    data = b"id,amount\n" + b"".join(b"%d,%d.50\n" % (i, i) for i in range(3000))
    scan = LineScan(128, size=64)
    array = np.frombuffer(data, dtype=np.uint8)
    for begin in range(0, len(array), 128):
        scan.feed(array[begin : begin + 128])
    index = scan.result()
    starts, short = plain(data)
    assert (index.lines, index.short) == (len(starts), short)
    picked = np.array([0, 1, 2, 1500, len(starts) - 1])
    assert index.starts(picked).tolist() == [starts[i] for i in picked]
