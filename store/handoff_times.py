"""Days from close to intro held and to kickoff, one value per handoff, for the scorecard's charts
(store.reports gives their median and p90; a chart needs the spread)."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Session

from store.reports import CLOSE, MS_PER_DAY, utc_midnight, won_between
from store.sql_time import millis_between
from store.tables import HandoffRow


def days_to_intro_and_kickoff(
    session: Session, start: date | None, end: date | None, now: datetime
) -> tuple[list[float], list[float]]:
    query = won_between(
        utc_midnight(start) if start else None,
        utc_midnight(end) if end else now,
        millis_between(HandoffRow.intro_held_at, CLOSE),
        millis_between(HandoffRow.kickoff_at, CLOSE),
    )
    intro, kickoff = [], []
    for intro_ms, kickoff_ms in session.execute(query):
        if intro_ms is not None:
            intro.append(intro_ms / MS_PER_DAY)
        if kickoff_ms is not None:
            kickoff.append(kickoff_ms / MS_PER_DAY)
    return intro, kickoff
