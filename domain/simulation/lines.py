"""The timeline as `baton simulate` prints it: one flat object per entry, in scenario time.

Shared by both simulators, so equal timelines print the same bytes. Instants print to the second:
the workflows run on a server whose clock moves on by milliseconds while they work, and whole
seconds are what a scenario is written in (and what the workflow's rules count in). Lines come in time order; within one second, in the
order the run recorded them, a refused message after what its run had recorded when it refused it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from domain.simulation.routing import Refusal
from domain.timeline import TimelineEntry

# Timeline details that hold instants, printed in scenario time like `at`.
INSTANT_DETAILS = ("due", "previous_due", "scheduled_for")
# Texts for people that name days (the 30-day check: "not reached by 2026-03-10").
DATED_TEXTS = ("failures", "note")
_DAY = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")


def timeline_lines(
    entries: Sequence[TimelineEntry], refusals: Sequence[Refusal], tz: tzinfo, shift: timedelta = timedelta(0)
) -> list[dict[str, Any]]:
    """`shift`: how far the run's clock was ahead of scenario time (the `--temporal` server's)."""
    placed: list[tuple[datetime, float, dict[str, Any]]] = []
    for entry in entries:
        line: dict[str, Any] = {"at": _printed(entry.at, shift, tz), "kind": entry.kind.value, **entry.details}
        for key in INSTANT_DETAILS:
            if isinstance(line.get(key), str):
                line[key] = _printed(datetime.fromisoformat(line[key]), shift, tz)
        if shift:
            for key in DATED_TEXTS:
                if key in line:
                    line[key] = _days_back(line[key], shift, entry.at)
        placed.append((_second(entry.at - shift), entry.seq, line))
    for refused in refusals:
        line = {
            "at": _printed(refused.at, shift, tz),
            "kind": "message_refused",
            "message": refused.message.value,
            "error_type": refused.error_type.value,
            "reason": refused.reason,
        }
        placed.append((_second(refused.at - shift), refused.after_seq + 0.5, line))
    placed.sort(key=lambda item: (item[0], item[1]))
    return [line for _, _, line in placed]


def _days_back(value: Any, shift: timedelta, around: datetime) -> Any:
    """Days the run wrote in server time, named in scenario time. Only days within a year of the
    entry move: a date a person typed (a concern) is decades away from the server's."""
    if isinstance(value, list):
        return [_days_back(item, shift, around) for item in value]
    if not isinstance(value, str):
        return value

    def back(found: re.Match[str]) -> str:
        try:
            day = date(int(found[1]), int(found[2]), int(found[3]))
        except ValueError:
            return found[0]
        if abs((day - around.date()).days) > 366:
            return found[0]
        return (day - timedelta(days=shift.days)).isoformat()

    return _DAY.sub(back, value)


def _second(moment: datetime) -> datetime:
    """To the second: the server's clock runs a little late of the instants it works for, never early
    (the handoff's rules see whole seconds; what its outside calls report comes some time after)."""
    return moment.replace(microsecond=0)


def _printed(moment: datetime, shift: timedelta, tz: tzinfo) -> str:
    return _second(moment - shift).astimezone(tz).isoformat()
