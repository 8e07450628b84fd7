"""Business calendar: which local days and hours count when a deadline is in ``bd`` or ``bh``.

All methods take timezone-aware datetimes and return aware datetimes in the
calendar's timezone. Arithmetic on instants is done in UTC because Python
compares and subtracts datetimes sharing one tzinfo by wall clock, which is
wrong across DST changes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from domain.durations import Duration, DurationUnit


class Weekday(StrEnum):
    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"


_BY_INDEX = list(Weekday)  # position matches date.weekday()


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    # Loaded lazily, never at import, so the module stays safe in the Temporal sandbox.
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ValueError(f"unknown IANA timezone {name!r}") from exc


class BusinessCalendar(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    timezone: str = "America/New_York"
    workdays: list[Weekday] = Field(default_factory=lambda: _BY_INDEX[:5])
    holidays: list[date] = Field(default_factory=list)
    day_start: time = time(9, 0)
    day_end: time = time(17, 0)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        _zone(value)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> BusinessCalendar:
        if not self.workdays:
            raise ValueError("a business calendar needs at least one workday")
        if self.day_start.tzinfo or self.day_end.tzinfo:
            raise ValueError("day_start and day_end are local wall-clock times; drop their tzinfo")
        if self.day_start >= self.day_end:
            raise ValueError(f"day_start {self.day_start} must be before day_end {self.day_end}")
        return self

    @property
    def tz(self) -> ZoneInfo:
        return _zone(self.timezone)

    def is_working_day(self, d: date) -> bool:
        if isinstance(d, datetime):
            d = self._local(d).date()
        return _BY_INDEX[d.weekday()] in self.workdays and d not in self.holidays

    def add_business_days(self, start: datetime, n: int) -> datetime:
        """Same local wall-clock time on the n-th following working day.

        From a non-working day, counting starts at ``day_start`` of the next working
        day, so Saturday + 0bd is Monday opening. Wall-clock time survives DST.
        """
        _check_count(n)
        local = self._local(start)
        day, wall = local.date(), local.time()
        if self.is_working_day(day):
            if n == 0:
                return local
        else:
            day, wall = self._next_working_day(day, inclusive=True), self.day_start
        for _ in range(n):
            day = self._next_working_day(day, inclusive=False)
        return self._at(day, wall)

    def add_business_hours(self, start: datetime, n: int) -> datetime:
        """Advance through working periods ``[day_start, day_end)`` only.

        Outside a working period the count starts at the next opening; a count that
        ends exactly at closing returns ``day_end`` of that day, not the next opening.
        """
        _check_count(n)
        remaining = timedelta(hours=n)
        cursor = self._local(start).astimezone(UTC)
        day = cursor.astimezone(self.tz).date()
        while True:
            if self.is_working_day(day):
                opens = self._at(day, self.day_start).astimezone(UTC)
                closes = self._at(day, self.day_end).astimezone(UTC)
                begin = max(cursor, opens)
                if begin < closes:
                    if remaining <= closes - begin:
                        return (begin + remaining).astimezone(self.tz)
                    remaining -= closes - begin
            day += timedelta(days=1)

    def add(self, start: datetime, duration: Duration) -> datetime:
        """Resolve a deadline ``duration`` after ``start``.

        Clock durations are absolute elapsed time: ``48h`` is 48 real hours and
        ``7d`` is 168 real hours, even across a DST change. Business units follow
        :meth:`add_business_days` and :meth:`add_business_hours`.
        """
        if duration.unit is DurationUnit.BUSINESS_DAYS:
            return self.add_business_days(start, duration.amount)
        if duration.unit is DurationUnit.BUSINESS_HOURS:
            return self.add_business_hours(start, duration.amount)
        utc = self._local(start).astimezone(UTC)
        return (utc + duration.as_timedelta()).astimezone(self.tz)

    def _local(self, moment: datetime) -> datetime:
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"expected a timezone-aware datetime, got naive {moment.isoformat()}")
        return moment.astimezone(self.tz)

    def _at(self, day: date, wall: time) -> datetime:
        # The UTC round trip resolves a wall time inside a spring-forward gap to the
        # real instant an hour later, and picks the first of two ambiguous instants.
        naive_wall = wall.replace(tzinfo=None, fold=0)
        return datetime.combine(day, naive_wall, tzinfo=self.tz).astimezone(UTC).astimezone(self.tz)

    def _next_working_day(self, day: date, *, inclusive: bool) -> date:
        # Terminates: at least one weekday works and holidays are finite.
        if not inclusive:
            day += timedelta(days=1)
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day


def _check_count(n: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"business count must be a non-negative int, got {n!r}")
