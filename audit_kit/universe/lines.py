"""Where the lines of a text file start, found in one pass and kept as one bit per byte.

A CSV universe is read by polars, and the sampled rows are fetched again by byte offset: the
file is scanned once for its newlines (in the background, with its SHA-256). Keeping a bit per
byte (``numpy.packbits``) is cheaper to build than a list of offsets and about as small; the
offsets of the few lines fetched are worked out from the bits when asked for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: A line is "short" when it holds at most this many bytes with its newline ("\n", "\r\n", or
#: one character): such lines have no delimiters, and the field count check allows for them.
SHORT = 2
_WORD = 8  # bytes of packed bits per 64-bit word


@dataclass(slots=True)
class LineIndex:
    """The newlines of ``end`` bytes of text.

    Line 0 starts at byte 0 and line k after the k-th newline; a last line without a newline
    counts, an empty one after the last newline does not.
    """

    bits: np.ndarray[Any, np.dtype[np.uint8]]  # packbits(byte == "\n"), padded to whole words
    end: int
    newlines: int
    short: int  # lines of at most SHORT bytes, newline included
    _before: np.ndarray[Any, np.dtype[np.signedinteger[Any]]] | None = field(
        default=None, repr=False
    )

    @property
    def lines(self) -> int:
        last_open = self.end > 0 and not self._newline_at(self.end - 1)
        return self.newlines + int(last_open)

    def _newline_at(self, offset: int) -> bool:
        return bool(self.bits[offset >> 3] & (0x80 >> (offset & 7)))

    def newline_offsets(
        self, ranks: np.ndarray[Any, np.dtype[np.int64]]
    ) -> np.ndarray[Any, np.dtype[np.int64]]:
        """Byte offsets of the newlines of the given 1-based ranks (1 = the first newline)."""
        if self._before is None:  # newlines before each word: built once, on first use
            counts = np.bitwise_count(self.bits.view(np.uint64))  # byte order: same count
            wide = np.int64 if self.newlines >= 2**31 else np.int32  # half the memory
            cumulative: np.ndarray[Any, np.dtype[np.signedinteger[Any]]] = np.zeros(
                len(counts) + 1, dtype=wide
            )
            np.cumsum(counts, dtype=wide, out=cumulative[1:])
            self._before = cumulative[:-1]
        before = self._before
        # Ranks in the counts' own type: searchsorted would otherwise convert the counts.
        word = np.searchsorted(before, ranks.astype(before.dtype), side="left") - 1
        within = ranks - before[word]  # the within-th set bit of that word
        bits = np.unpackbits(self.bits.reshape(-1, _WORD)[word], axis=1)
        place = np.argmax(np.cumsum(bits, axis=1) >= within[:, None], axis=1)
        out: np.ndarray[Any, np.dtype[np.int64]] = word * 64 + place
        return out

    def spans(
        self, lines: np.ndarray[Any, np.dtype[np.int64]]
    ) -> tuple[np.ndarray[Any, np.dtype[np.int64]], np.ndarray[Any, np.dtype[np.int64]]]:
        """Byte offsets where the given 0-based lines (each < :attr:`lines`) start and end (the
        end after the newline, or the end of the text)."""
        lines = np.asarray(lines, dtype=np.int64)
        # Line k starts after newline k and ends after newline k + 1: one lookup for both.
        after = np.concatenate([lines, lines + 1])
        inner = (after > 0) & (after < self.lines)
        offsets = np.zeros(len(after), dtype=np.int64)
        if inner.any():
            offsets[inner] = self.newline_offsets(after[inner]) + 1
        ends = offsets[len(lines) :]
        ends[after[len(lines) :] >= self.lines] = self.end
        return offsets[: len(lines)], ends

    def starts(
        self, lines: np.ndarray[Any, np.dtype[np.int64]]
    ) -> np.ndarray[Any, np.dtype[np.int64]]:
        """Byte offsets where the given 0-based lines start (each < :attr:`lines`)."""
        return self.spans(lines)[0]

    def ends(
        self, lines: np.ndarray[Any, np.dtype[np.int64]]
    ) -> np.ndarray[Any, np.dtype[np.int64]]:
        """Byte offsets where the given 0-based lines end (newline included)."""
        return self.spans(lines)[1]


class LineScan:
    """Builds a :class:`LineIndex` from a text's bytes fed in order, chunk by chunk.

    ``size`` (the bytes to come, if known) lets the bits be written into one array as they
    come; ``chunk_size`` is the largest chunk fed. Every buffer is made once: new memory is
    slow to touch, and this runs beside the reader of a large file.
    """

    def __init__(self, chunk_size: int, size: int = 0) -> None:
        words = -(-chunk_size // 64)
        self._newline = np.empty(chunk_size, dtype=bool)
        self._words = np.zeros(words, dtype=np.uint64)
        self._before = np.empty(words, dtype=np.uint64)
        self._near = np.empty(words, dtype=np.uint64)
        self._shifted = np.empty(words, dtype=np.uint64)
        self._bits = np.zeros(-(-size // 64) * _WORD, dtype=np.uint8)
        self._filled = 0  # bytes of ``_bits`` written
        self._newlines = 0
        self._short = 0
        self._end = 0
        self._tail = b""
        # The 64 newline bits before the chunk: a virtual newline just before the text.
        self._last = np.uint64(1)

    @property
    def newlines(self) -> int:
        """Newlines fed so far."""
        return self._newlines

    def feed(self, chunk: np.ndarray[Any, np.dtype[np.uint8]]) -> None:
        """Scan the next bytes (a multiple of 64 bytes, except in the last chunk)."""
        n = len(chunk)
        newline = self._newline[:n]
        np.equal(chunk, 10, out=newline)
        packed = np.packbits(newline)
        self._store(packed)
        m = -(-n // 64)
        words, before = self._words[:m], self._before[:m]
        near, shifted = self._near[:m], self._shifted[:m]
        np.copyto(words, _as_words(packed, m))  # 64 bytes a word, the first in the highest bit
        self._newlines += int(np.bitwise_count(words).sum())
        # A line is short when the newline ending it follows a newline 1 or 2 bytes earlier:
        # shift the bits by 1 and 2 bytes (carrying across words) and count the coincidences.
        before[0] = self._last
        before[1:] = words[:-1]
        np.right_shift(words, np.uint64(1), out=near)
        np.left_shift(before, np.uint64(63), out=shifted)
        np.bitwise_or(near, shifted, out=near)
        np.right_shift(words, np.uint64(2), out=shifted)
        np.bitwise_or(near, shifted, out=near)
        np.left_shift(before, np.uint64(62), out=shifted)
        np.bitwise_or(near, shifted, out=near)
        np.bitwise_and(near, words, out=near)
        self._short += int(np.bitwise_count(near).sum())
        self._last = words[-1]
        self._tail = (self._tail + chunk[-3:].tobytes())[-3:]
        self._end += n

    def _store(self, packed: np.ndarray[Any, np.dtype[np.uint8]]) -> None:
        end = self._filled + len(packed)
        if end > len(self._bits):  # more bytes than announced: grow
            grown = np.zeros(max(end, 2 * len(self._bits)), dtype=np.uint8)
            grown[: self._filled] = self._bits[: self._filled]
            self._bits = grown
        self._bits[self._filled : end] = packed
        self._filled = end

    def result(self) -> LineIndex:
        short = self._short
        tail = self._tail if self._end >= 3 else b"\n" + self._tail  # the virtual newline
        if tail and tail[-1:] != b"\n" and b"\n" in tail[-3:-1]:
            short += 1  # the last line, without a newline, has 1 or 2 bytes
        size = -(-self._filled // _WORD) * _WORD
        bits = self._bits[:size] if size <= len(self._bits) else np.resize(self._bits, size)
        bits[self._filled :] = 0
        return LineIndex(bits=bits, end=self._end, newlines=self._newlines, short=short)


def _as_words(
    packed: np.ndarray[Any, np.dtype[np.uint8]], words: int
) -> np.ndarray[Any, np.dtype[Any]]:
    """Packed bits as big-endian 64-bit words (the last one padded with zeros)."""
    padding = words * _WORD - len(packed)
    if padding:
        packed = np.concatenate([packed, np.zeros(padding, dtype=np.uint8)])
    return packed.view(">u8")


def index_lines(data: bytes, chunk_size: int = 1 << 22) -> LineIndex:
    """The :class:`LineIndex` of bytes held in memory."""
    scan = LineScan(chunk_size, len(data))
    array = np.frombuffer(data, dtype=np.uint8)
    for begin in range(0, len(array), chunk_size):
        scan.feed(array[begin : begin + chunk_size])
    return scan.result()
