"""Random numbers: the RAT-STATS 2010 single-stage generator (bit-exact) and NumPy's PCG64.

Both generators turn a recorded seed into a sequence of *distinct* integers in [low, high], in
the order drawn: the first n are the sample, the next k the spares. A value drawn twice is
rejected and drawn again (selection without replacement), as RAT-STATS does.

``ratstats`` emulates RAT-STATS 2010 (HHS-OIG) exactly, so a sample can be re-created in
RAT-STATS and vice versa (UG2010 ch. 2, "Single Stage Random Numbers"):

1. The seed is rounded to 2 decimals; seeds <= 0 or >= 10**15 are refused.
2. Visual Basic 6 ``Rnd`` is a 24-bit LCG ``s <- (s*1140671485 + 12820163) mod 2**24``; the
   program's state before seeding is 3758214 (what ``Rnd(-1)`` then one ``Rnd()`` leave).
   ``Randomize seed`` takes the high 32 bits ``hi`` of the IEEE-754 double of the seed and sets
   ``s = (((hi & 0xFFFF) ^ (hi >> 16)) << 8) | (s & 0xFF)``. Only 16 bits of the seed survive,
   so there are at most 65,536 distinct streams (seeds 4194304..4194307 give one sample).
3. Three Wichmann-Hill seeds are drawn from VB's ``Rnd``: for m = 30269, 30307, 30323, repeat
   {advance s; v = m*s/2**24 + 1} until v < m; seed = floor(v).
4. Wichmann-Hill AS 183 (with RAT-STATS' ``<= 0`` tests) gives u in [0, 1); the value is
   ``floor(u*(high-low+1)) + low``.

``pcg64`` is NumPy's PCG64 bit generator from an integer seed; values are drawn with
``Generator.integers`` one at a time with the same rejection of repeats, so that the spares
follow the sample exactly as with ``ratstats``.

Per-stratum streams (stratified designs) are derived from the audit seed and the stratum's label
(:func:`stratum_seed`), so adding or removing a stratum never changes another stratum's sample.
"""

from __future__ import annotations

import hashlib
import math
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

import numpy as np

from audit_kit.errors import Problem, StatisticsError

__all__ = [
    "RATSTATS_STREAMS",
    "Draw",
    "GeneratorName",
    "draw_distinct",
    "new_seed",
    "ratstats_seed",
    "ratstats_stream",
    "ratstats_wh_seeds",
    "stratum_seed",
]

RATSTATS_STREAMS = 65_536
_VB_A = 1140671485
_VB_C = 12820163
_VB_M = 1 << 24
_VB_START = 3758214
_WH_MODULI = (30269, 30307, 30323)
# Python's own hard ceiling for one draw: NumPy integers() accepts int64 bounds.
_MAX_RANGE = 2**62


class GeneratorName(StrEnum):
    PCG64 = "pcg64"
    RATSTATS = "ratstats"


@dataclass(frozen=True, slots=True, kw_only=True)
class Draw:
    """Distinct values drawn in order: ``sample`` (first n) then ``spares`` (next k)."""

    generator: GeneratorName
    seed: float | int
    seed_used: float | int
    low: int
    high: int
    values: tuple[int, ...]
    sample_size: int
    wh_seeds: tuple[int, int, int] | None = None
    draws_total: int = 0  # including rejected repeats

    @property
    def sample(self) -> tuple[int, ...]:
        return self.values[: self.sample_size]

    @property
    def spares(self) -> tuple[int, ...]:
        return self.values[self.sample_size :]

    @property
    def total(self) -> int:
        """Sum of the sample and spare values, as RAT-STATS prints it."""
        return sum(self.values)


def ratstats_seed(seed: float) -> float:
    """Round a seed as RAT-STATS does (2 decimals) and check its range."""
    if isinstance(seed, bool) or not isinstance(seed, int | float):
        raise StatisticsError.one(
            "Invalid seed.",
            where="seed",
            expected="a number",
            found=repr(seed),
            fix="enter a number.",
        )
    # Range first: a huge value (1e30, or an integer beyond float range) cannot be rounded.
    if not (isinstance(seed, int) or math.isfinite(seed)) or not 0 < seed < 10**15:
        raise _seed_out_of_range(seed)
    rounded = float(Decimal(repr(float(seed))).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
    if rounded <= 0 or rounded >= 1e15:
        raise _seed_out_of_range(seed)
    return rounded


def _seed_out_of_range(seed: object) -> StatisticsError:
    return StatisticsError(
        "Seed out of range for the RAT-STATS generator.",
        [
            Problem(
                where="seed",
                expected="a number greater than 0 and less than 1,000,000,000,000,000 "
                "(RAT-STATS rounds it to 2 decimals)",
                found=repr(seed)[:40],
                fix="choose a positive seed below 10^15.",
            )
        ],
    )


def _vb_randomize(state: int, seed: float) -> int:
    hi: int = struct.unpack(">Q", struct.pack(">d", seed))[0] >> 32
    x = (hi & 0xFFFF) ^ (hi >> 16)
    return ((x << 8) | (state & 0xFF)) & (_VB_M - 1)


def ratstats_wh_seeds(seed: float) -> tuple[int, int, int]:
    """Return the Wichmann-Hill triple RAT-STATS derives from a seed (after rounding)."""
    s = _vb_randomize(_VB_START, ratstats_seed(seed))
    out: list[int] = []
    for m in _WH_MODULI:
        while True:
            s = (s * _VB_A + _VB_C) % _VB_M
            v = m * s / _VB_M + 1
            if v < m:
                break
        out.append(math.floor(v))
    return out[0], out[1], out[2]


def ratstats_stream(seed: float) -> Iterator[float]:
    """Yield RAT-STATS' Wichmann-Hill uniforms for a seed, forever."""
    a, b, c = ratstats_wh_seeds(seed)
    while True:
        a = 171 * (a % 177) - 2 * (a // 177)
        if a <= 0:
            a += 30269
        b = 172 * (b % 176) - 35 * (b // 176)
        if b <= 0:
            b += 30307
        c = 170 * (c % 178) - 63 * (c // 178)
        if c <= 0:
            c += 30323
        total = a / 30269.0 + b / 30307.0 + c / 30323.0
        yield total - math.floor(total)


def _check_range(low: int, high: int, count: int) -> None:
    problems: list[Problem] = []
    if high < low:
        problems.append(
            Problem(
                where="high",
                expected=f"a value >= low ({low})",
                found=str(high),
                fix="swap low and high.",
            )
        )
    if count < 0:
        problems.append(
            Problem(where="count", expected="0 or more values", found=str(count), fix="")
        )
    span = high - low + 1
    if high >= low and count > span:
        problems.append(
            Problem(
                where="count",
                expected=f"at most {span} distinct values in [{low}, {high}]",
                found=str(count),
                fix="draw fewer values (sample plus spares) or widen the range.",
            )
        )
    if span > _MAX_RANGE:
        problems.append(
            Problem(where="high", expected=f"a range below {_MAX_RANGE}", found=str(span), fix="")
        )
    if problems:
        raise StatisticsError("Cannot draw these random numbers.", problems)


def new_seed() -> int:
    """Return a fresh seed for a new audit (recorded in the sampling record)."""
    import secrets

    return secrets.randbelow(10**9 - 1) + 1


def stratum_seed(seed: int | float, stratum: str, generator: GeneratorName) -> int | float:
    """Derive a stratum's own seed from the audit seed and the stratum label.

    ``SHA-256("<seed>|<stratum>")``, first 8 bytes as an integer; for ``pcg64`` taken whole, for
    ``ratstats`` reduced to 1..999,999,999 (RAT-STATS accepts it as a seed). Depends only on
    the seed and the label, so the strata are independent of each other.
    """
    digest = hashlib.sha256(f"{seed}|{stratum}".encode()).digest()
    value = int.from_bytes(digest[:8], "big")
    if generator is GeneratorName.RATSTATS:
        return value % 999_999_999 + 1
    return value


def draw_distinct(
    generator: GeneratorName | str,
    seed: int | float,
    *,
    low: int,
    high: int,
    sample_size: int,
    spares: int = 0,
) -> Draw:
    """Draw ``sample_size + spares`` distinct integers in [low, high], in the order drawn."""
    gen = GeneratorName(generator)
    count = sample_size + spares
    _check_range(low, high, count)
    span = high - low + 1
    seen: set[int] = set()
    values: list[int] = []
    draws = 0
    wh: tuple[int, int, int] | None = None
    if gen is GeneratorName.RATSTATS:
        seed_used: int | float = ratstats_seed(float(seed))
        wh = ratstats_wh_seeds(seed_used)
        stream = ratstats_stream(seed_used)
        while len(values) < count:
            value = math.floor(next(stream) * span) + low
            draws += 1
            if value not in seen:
                seen.add(value)
                values.append(value)
    else:
        if isinstance(seed, float) and not seed.is_integer():
            raise StatisticsError.one(
                "Invalid seed for pcg64.",
                where="seed",
                expected="a whole number >= 0",
                found=repr(seed),
                fix="use a whole number, or --generator ratstats for decimal seeds.",
            )
        if int(seed) < 0:
            raise StatisticsError.one(
                "Invalid seed for pcg64.",
                where="seed",
                expected="a whole number >= 0",
                found=str(seed),
                fix="",
            )
        seed_used = int(seed)
        rng = np.random.Generator(np.random.PCG64(seed_used))
        while len(values) < count:
            # Batches keep the order of selection identical to one-at-a-time draws.
            batch = rng.integers(low, high, size=max(16, 2 * (count - len(values))), endpoint=True)
            for raw in batch.tolist():
                draws += 1
                if raw not in seen:
                    seen.add(raw)
                    values.append(raw)
                    if len(values) == count:
                        break
    return Draw(
        generator=gen,
        seed=seed,
        seed_used=seed_used,
        low=low,
        high=high,
        values=tuple(values),
        sample_size=sample_size,
        wh_seeds=wh,
        draws_total=draws,
    )
