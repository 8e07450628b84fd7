"""Report queries over the read model: the handoff scorecard and the open handoffs at risk.

Plain SELECTs that run alike on SQLite and PostgreSQL; medians, percentiles and rates are computed in
Python from the fetched columns, since the two dialects share no percentile function.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from pydantic import BaseModel
from sqlalchemy import and_, func, or_, select
from sqlmodel import Session

from store.repository import CSM_RATING, FIRST_TOUCH_NPS
from store.tables import HandoffRow, RatingRow, SlaRow

GroupBy = Literal["ae", "cs_team", "segment", "month"]
Op = Literal[">=", "<"]
NO_GROUP = "(none)"
OVERALL = "overall"
TIERS = ("ready", "gaps", "blocked")
INTAKE_WINDOW = timedelta(hours=24)
# The close the SLAs count from (`HandoffMachine` uses the CRM's close date, else the moment of the win).
CLOSE = func.coalesce(HandoffRow.closed_at, HandoffRow.won_at)


class Figure(BaseModel):
    """One number of a report; `n` is how many handoffs (or SLAs) it was computed from."""

    value: float | None
    n: int
    target: float | None = None
    op: Op | None = None
    met: bool | None = None


class SlaCompliance(BaseModel):
    met: int
    breached: int
    rate: float | None


class ScorecardRow(BaseModel):
    group: str
    handoffs: int
    completeness: Figure
    specific_share: Figure
    quality_score: Figure
    tiers: dict[str, int]
    time_to_intro_median: Figure
    time_to_intro_p90: Figure
    time_to_kickoff_median: Figure
    time_to_kickoff_p90: Figure
    sla_compliance: dict[str, SlaCompliance]
    intake_within_24h: Figure
    csm_rating: Figure
    first_touch_nps: Figure
    rework_rate: Figure


class Scorecard(BaseModel):
    group_by: GroupBy
    start: date | None
    end: date | None
    generated_at: datetime
    rows: list[ScorecardRow]
    overall: ScorecardRow


def utc_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def won_between(start: datetime | None, end: datetime | None):
    """Handoffs won whose close falls in [start, end): the population of every report."""
    query = select(HandoffRow).where(HandoffRow.won_at.is_not(None))
    if start is not None:
        query = query.where(CLOSE >= start)
    if end is not None:
        query = query.where(CLOSE < end)
    return query


def close_of(row: HandoffRow) -> datetime:
    return row.closed_at or row.won_at  # type: ignore[return-value]


def mean(values: Iterable[float | None]) -> tuple[float | None, int]:
    known = [v for v in values if v is not None]
    return (round(statistics.fmean(known), 2) if known else None), len(known)


def percent(flags: Iterable[bool]) -> tuple[float | None, int]:
    flags = list(flags)
    return (round(100 * sum(flags) / len(flags), 2) if flags else None), len(flags)


def p90(values: list[float]) -> float:
    # Linear interpolation between closest ranks (numpy's default, "inclusive"): a p90 of 10 values
    # lies between the 9th and 10th, not on the maximum.
    return values[0] if len(values) == 1 else statistics.quantiles(values, n=10, method="inclusive")[8]


def figure(found: tuple[float | None, int], target: float | None = None, op: Op | None = None) -> Figure:
    value, n = found
    met = None
    if value is not None and target is not None:
        met = value >= target if op == ">=" else value < target
    return Figure(value=value, n=n, target=target, op=op, met=met)


def _days(rows: list[HandoffRow], step: Callable[[HandoffRow], datetime | None]) -> list[float]:
    return sorted((at - close_of(r)).total_seconds() / 86400 for r in rows if (at := step(r)) is not None)


def _spread(days: list[float], target: float) -> tuple[Figure, Figure]:
    if not days:
        return figure((None, 0), target, "<"), figure((None, 0), target, "<")
    median = round(statistics.median(days), 2)
    return figure((median, len(days)), target, "<"), figure((round(p90(days), 2), len(days)), target, "<")


def _intake_on_time(row: HandoffRow, now: datetime) -> bool | None:
    """Within 24h of submission; None while a review may still come in time (not counted yet)."""
    if row.submitted_at is None:
        return None
    reviewed = row.intake_reviewed_at or row.briefed_at
    if reviewed is None:
        return False if now - row.submitted_at > INTAKE_WINDOW else None
    return reviewed - row.submitted_at <= INTAKE_WINDOW


def _compliance(slas: list[SlaRow]) -> dict[str, SlaCompliance]:
    # A breach stays a breach when the SLA is later cancelled; pending and extended ones are unsettled.
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for sla in slas:
        if sla.breached_at is not None:
            counts[sla.sla][1] += 1
        elif sla.status == "met":
            counts[sla.sla][0] += 1
    return {
        name: SlaCompliance(met=met, breached=breached, rate=round(100 * met / (met + breached), 2))
        for name, (met, breached) in sorted(counts.items())
    }


def _row(group: str, rows: list[HandoffRow], slas: dict, ratings: dict, now: datetime) -> ScorecardRow:
    ids = [r.workflow_id for r in rows]
    intro = _spread(_days(rows, lambda r: r.intro_held_at), 5.0)
    kickoff = _spread(_days(rows, lambda r: r.kickoff_at), 10.0)
    on_time = [ok for r in rows if (ok := _intake_on_time(r, now)) is not None]
    return ScorecardRow(
        group=group,
        handoffs=len(rows),
        completeness=figure(mean(r.completeness for r in rows), 100.0, ">="),
        specific_share=figure(mean(r.specific_share for r in rows)),
        quality_score=figure(mean(r.score for r in rows)),
        tiers={tier: sum(r.tier == tier for r in rows) for tier in TIERS},
        time_to_intro_median=intro[0],
        time_to_intro_p90=intro[1],
        time_to_kickoff_median=kickoff[0],
        time_to_kickoff_p90=kickoff[1],
        sla_compliance=_compliance([s for i in ids for s in slas.get(i, [])]),
        intake_within_24h=figure(percent(on_time)),
        csm_rating=figure(mean(ratings.get((i, CSM_RATING)) for i in ids), 4.0, ">="),
        first_touch_nps=figure(mean(ratings.get((i, FIRST_TOUCH_NPS)) for i in ids), 8.0, ">="),
        rework_rate=figure(percent(r.rework for r in rows)),
    )


def group_key(row: HandoffRow, group_by: GroupBy) -> str:
    if group_by == "month":
        return close_of(row).astimezone(UTC).strftime("%Y-%m")
    return getattr(row, group_by) or NO_GROUP


def scorecard(session: Session, group_by: GroupBy, start: date | None, end: date | None, now: datetime) -> Scorecard:
    """Handoffs won with their close in [start, end) (end defaults to `now`), per group and overall."""
    if group_by not in ("ae", "cs_team", "segment", "month"):
        raise ValueError(f"group_by is one of ae, cs_team, segment, month (got {group_by!r})")
    window = won_between(utc_midnight(start) if start else None, utc_midnight(end) if end else now)
    rows = list(session.scalars(window))
    population = window.with_only_columns(HandoffRow.workflow_id)
    slas: dict[str, list[SlaRow]] = defaultdict(list)
    for sla in session.scalars(select(SlaRow).where(SlaRow.workflow_id.in_(population))):
        slas[sla.workflow_id].append(sla)
    ratings = {
        (r.workflow_id, r.kind): float(r.value)
        for r in session.scalars(select(RatingRow).where(RatingRow.workflow_id.in_(population)))
    }
    groups: dict[str, list[HandoffRow]] = defaultdict(list)
    for row in rows:
        groups[group_key(row, group_by)].append(row)
    return Scorecard(
        group_by=group_by,
        start=start,
        end=end,
        generated_at=now,
        rows=[_row(name, groups[name], slas, ratings, now) for name in sorted(groups)],
        overall=_row(OVERALL, rows, slas, ratings, now),
    )


# --- open handoffs at risk ----------------------------------------------------------------------

OPEN_SLA = ("pending", "extended")
TIER_RANK = {"blocked": 0, "gaps": 1}
FAR = datetime.max.replace(tzinfo=UTC)


class AtRisk(BaseModel):
    workflow_id: str
    account: str
    ae: str | None
    csm: str | None
    phase: str
    tier: str | None
    score: float | None
    reasons: list[str]
    next_due: datetime | None


def at_risk(session: Session, now: datetime, soon: timedelta = timedelta(hours=24), limit: int = 100) -> list[AtRisk]:
    """Open handoffs with a breached SLA, an SLA due within `soon`, or a gaps/blocked tier, most urgent first:
    breached (oldest breach first), then due soonest, then blocked before gaps."""
    horizon = now + soon
    flagged = select(SlaRow.workflow_id).where(
        or_(SlaRow.status == "breached", and_(SlaRow.status.in_(OPEN_SLA), SlaRow.due <= horizon))
    )
    rows = session.scalars(
        select(HandoffRow).where(
            HandoffRow.outcome == "open",
            or_(HandoffRow.tier.in_(tuple(TIER_RANK)), HandoffRow.workflow_id.in_(flagged)),
        )
    ).all()
    slas: dict[str, list[SlaRow]] = defaultdict(list)
    for sla in session.scalars(select(SlaRow).where(SlaRow.workflow_id.in_([r.workflow_id for r in rows]))):
        slas[sla.workflow_id].append(sla)

    ranked: list[tuple[tuple, AtRisk]] = []
    for row in rows:
        breached = sorted((s for s in slas[row.workflow_id] if s.status == "breached"), key=lambda s: s.breached_at or s.due)
        pending = sorted((s for s in slas[row.workflow_id] if s.status in OPEN_SLA), key=lambda s: s.due)
        due_soon = [s for s in pending if s.due <= horizon]
        reasons = [f"{s.sla} breached {_iso(s.breached_at or s.due)}" for s in breached]
        reasons += [f"{s.sla} {'overdue since' if s.due <= now else 'due'} {_iso(s.due)}" for s in due_soon]
        if row.tier in TIER_RANK:
            reasons.append(f"tier {row.tier}")
        if breached:
            key = (0, breached[0].breached_at or breached[0].due)
        elif due_soon:
            key = (1, due_soon[0].due)
        else:
            key = (2, FAR)
        item = AtRisk(
            workflow_id=row.workflow_id, account=row.account, ae=row.ae, csm=row.csm, phase=row.phase,
            tier=row.tier, score=row.score, reasons=reasons, next_due=pending[0].due if pending else None,
        )
        ranked.append(((*key, TIER_RANK.get(row.tier or "", 2), row.workflow_id), item))
    return [item for _, item in sorted(ranked, key=lambda pair: pair[0])][:limit]


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")

