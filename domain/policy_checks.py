"""Comparing two policy durations, for checks across keys that no single key's validator can make."""

from __future__ import annotations

from datetime import datetime, timedelta

from domain.calendar import BusinessCalendar
from domain.durations import Duration

# Anchors every hour over two ordinary weeks (no clock change in either hemisphere): a business and
# a clock duration compare differently by weekday and hour, so "earlier" means earlier for some anchor.
_SAMPLE_FROM = datetime(2025, 1, 6)
_SAMPLE_HOURS = 14 * 24


def can_fall_before(first: Duration, second: Duration, calendar: BusinessCalendar) -> bool:
    """True when `first` after some anchor comes before `second` after the same anchor, in weeks
    without holidays (a holiday moves business durations only, which a file cannot foresee)."""
    if first.unit is second.unit:
        return first.amount < second.amount
    plain = calendar.model_copy(update={"holidays": []})
    for hour in range(_SAMPLE_HOURS):
        anchor = (_SAMPLE_FROM + timedelta(hours=hour)).replace(tzinfo=plain.tz)
        if plain.add(anchor, first) < plain.add(anchor, second):
            return True
    return False
