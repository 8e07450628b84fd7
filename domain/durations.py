"""Compact durations for policy and scenario files: ``30s``, ``48h``, ``2d3h``, ``3bd``, ``4bh``.

Clock durations (``s``, ``m``, ``h``, ``d``) are absolute elapsed time; ``d`` is
24 hours. Business durations (``bd``, ``bh``) only mean something against a
``BusinessCalendar``, so they stay symbolic here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

_DAY = 86_400
_CLOCK_UNITS = (("d", _DAY), ("h", 3_600), ("m", 60), ("s", 1))
_CLOCK_RE = re.compile(r"\+?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")
_BUSINESS_RE = re.compile(r"\+?(\d+)(bd|bh)")
_ACCEPTED = (
    "accepted forms: <n>s, <n>m, <n>h, <n>d, a compound of those in d-h-m-s order "
    "such as 2d3h or +1h30m, or a lone business amount <n>bd / <n>bh"
)


class DurationUnit(StrEnum):
    CLOCK = "clock"
    BUSINESS_DAYS = "bd"
    BUSINESS_HOURS = "bh"


_LIMITS = {DurationUnit.CLOCK: 365 * 86_400, DurationUnit.BUSINESS_DAYS: 260, DurationUnit.BUSINESS_HOURS: 2080}


@dataclass(frozen=True)
class Duration:
    """``amount`` is total seconds for CLOCK and a count of days/hours for business units."""

    unit: DurationUnit
    amount: int
    # Remembers how many whole days were written as ``d`` so "48h" and "2d" print
    # the way the author wrote them; it is presentation only, hence compare=False.
    days_written: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.amount, bool) or not isinstance(self.amount, int) or self.amount < 0:
            raise ValueError(f"duration amount must be a non-negative int, got {self.amount!r}")
        if self.days_written and (self.is_business or self.days_written * _DAY > self.amount):
            raise ValueError(f"days_written={self.days_written} does not fit {self.amount}s")
        # A year bounds every SLA and extension: far larger counts make the calendar walk for seconds
        # per workflow task (99999999999d failed each task for about 20 s) or overflow its dates.
        if self.amount > _LIMITS[self.unit]:
            raise ValueError(f"durations are at most 365d (260bd, 2080bh), got {self}")

    @property
    def is_business(self) -> bool:
        return self.unit is not DurationUnit.CLOCK

    @property
    def seconds(self) -> int:
        return int(self.as_timedelta().total_seconds())

    def as_timedelta(self) -> timedelta:
        if self.is_business:
            raise ValueError(f"{self} is a business duration; resolve it with a BusinessCalendar")
        return timedelta(seconds=self.amount)

    def __str__(self) -> str:
        if self.is_business:
            return f"{self.amount}{self.unit.value}"
        parts = [f"{self.days_written}d"] if self.days_written else []
        rest = self.amount - self.days_written * _DAY
        for suffix, size in _CLOCK_UNITS[1:]:
            count, rest = divmod(rest, size)
            if count:
                parts.append(f"{count}{suffix}")
        return "".join(parts) or "0s"


def parse_duration(text: str) -> Duration:
    if not isinstance(text, str):
        raise ValueError(f"invalid duration {text!r}: expected a string; {_ACCEPTED}")
    s = text.strip()
    if m := _BUSINESS_RE.fullmatch(s):
        return Duration(DurationUnit(m[2]), int(m[1]))
    m = _CLOCK_RE.fullmatch(s)
    if m is None or not any(m.groups()):
        hint = " (business units cannot be combined with other units)" if "b" in s else ""
        raise ValueError(f"invalid duration {text!r}{hint}; {_ACCEPTED}")
    counts = [int(g) if g else 0 for g in m.groups()]
    total = sum(n * size for n, (_, size) in zip(counts, _CLOCK_UNITS, strict=True))
    return Duration(DurationUnit.CLOCK, total, days_written=counts[0])


def seconds(n: int) -> Duration:
    return Duration(DurationUnit.CLOCK, n)


def minutes(n: int) -> Duration:
    return Duration(DurationUnit.CLOCK, n * 60)


def hours(n: int) -> Duration:
    return Duration(DurationUnit.CLOCK, n * 3_600)


def days(n: int) -> Duration:
    return Duration(DurationUnit.CLOCK, n * _DAY, days_written=n)


def business_days(n: int) -> Duration:
    return Duration(DurationUnit.BUSINESS_DAYS, n)


def business_hours(n: int) -> Duration:
    return Duration(DurationUnit.BUSINESS_HOURS, n)


def _coerce(value: Any) -> Duration:
    # Only ValueError becomes a pydantic ValidationError, so every rejection goes through it.
    return value if isinstance(value, Duration) else parse_duration(value)


DurationField = Annotated[
    Duration,
    BeforeValidator(_coerce),
    PlainSerializer(str, return_type=str),
    WithJsonSchema({"type": "string", "examples": ["48h", "2d3h", "3bd", "4bh"]}),
]
