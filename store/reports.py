"""Report queries over the read model: the handoff scorecard (open handoffs at risk: store.at_risk).

Plain SELECTs that run alike on SQLite and PostgreSQL; medians, percentiles and rates are computed in
Python from the fetched numbers, since the two dialects share no percentile function.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, time
from typing import Literal

from pydantic import BaseModel
from sqlalchemy import and_, case, func, literal, select
from sqlmodel import Session, col

from store.repository import CSM_RATING, FIRST_TOUCH_NPS
from store.sql_time import millis_between, month_of
from store.tables import HandoffRow, RatingRow, SlaRow, UtcDateTime

GroupBy = Literal["ae", "cs_team", "segment", "month"]
Op = Literal[">=", "<"]
NO_GROUP = "(none)"
OVERALL = "overall"
TIERS = ("ready", "gaps", "blocked")
INTAKE_WINDOW_MS = 24 * 3_600_000
MS_PER_DAY = 86_400_000
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


def won_between(start: datetime | None, end: datetime | None, *columns):
    """Handoffs won whose close falls in [start, end): the population of every report (whole rows, or
    just `columns`)."""
    query = select(*columns) if columns else select(HandoffRow)
    query = query.where(col(HandoffRow.won_at).is_not(None))
    if start is not None:
        query = query.where(start <= CLOSE)
    if end is not None:
        query = query.where(end > CLOSE)
    return query


def close_of(row: HandoffRow) -> datetime:
    """The close of a won handoff (a row from `won_between`, so `won_at` is set)."""
    close = row.closed_at or row.won_at
    if close is None:
        raise ValueError(f"{row.workflow_id} was never won: it has no close")
    return close


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


def _spread(days: list[float], target: float) -> tuple[Figure, Figure]:
    if not days:
        return figure((None, 0), target, "<"), figure((None, 0), target, "<")
    days.sort()
    median = round(statistics.median(days), 2)
    return figure((median, len(days)), target, "<"), figure((round(p90(days), 2), len(days)), target, "<")


def _compliance(counts: dict[str, list[int]]) -> dict[str, SlaCompliance]:
    return {
        name: SlaCompliance(met=met, breached=breached, rate=round(100 * met / (met + breached), 2))
        for name, (met, breached) in sorted(counts.items())
    }


def _group(group_by: GroupBy):
    return month_of(CLOSE) if group_by == "month" else getattr(HandoffRow, group_by)


def _scored_rows(group_by: GroupBy, start: datetime | None, end: datetime | None, now: datetime):
    """One row of plain numbers per handoff: the database works out the durations (store.sql_time), so
    no timestamp becomes a Python object; that, and not loading ORM objects, keeps 100,000 handoffs
    within a second."""
    group = _group(group_by)
    reviewed = func.coalesce(HandoffRow.intake_reviewed_at, HandoffRow.briefed_at)
    return won_between(
        start, end,
        HandoffRow.workflow_id, group.label("group"), HandoffRow.completeness, HandoffRow.specific_share,
        HandoffRow.score, HandoffRow.tier, HandoffRow.rework,
        col(HandoffRow.submitted_at).is_not(None).label("submitted"),
        millis_between(HandoffRow.intro_held_at, CLOSE).label("intro_ms"),
        millis_between(HandoffRow.kickoff_at, CLOSE).label("kickoff_ms"),
        millis_between(reviewed, HandoffRow.submitted_at).label("review_ms"),
        millis_between(literal(now, UtcDateTime()), HandoffRow.submitted_at).label("waiting_ms"),
    )  # fmt: skip


class _Tally:
    """One scorecard row's numbers, gathered in a single pass over the handoffs."""

    def __init__(self) -> None:
        self.handoffs = 0
        self.completeness: list[float | None] = []
        self.specific_share: list[float | None] = []
        self.score: list[float | None] = []
        self.tiers = dict.fromkeys(TIERS, 0)
        self.intro_days: list[float] = []
        self.kickoff_days: list[float] = []
        self.intake_on_time: list[bool] = []
        self.rework: list[bool] = []
        self.slas: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # name: [met, breached]
        self.csm_rating: list[float | None] = []
        self.first_touch_nps: list[float | None] = []

    def add(self, row: tuple, ratings: dict) -> None:
        """`row` as `_scored_rows` selects it (unpacked by position: it runs once per handoff)."""
        (
            _,
            _,
            completeness,
            specific_share,
            score,
            tier,
            rework,
            submitted,
            intro_ms,
            kickoff_ms,
            review_ms,
            waiting_ms,
        ) = row
        self.handoffs += 1
        self.completeness.append(completeness)
        self.specific_share.append(specific_share)
        self.score.append(score)
        if tier in self.tiers:
            self.tiers[tier] += 1
        if intro_ms is not None:
            self.intro_days.append(intro_ms / MS_PER_DAY)
        if kickoff_ms is not None:
            self.kickoff_days.append(kickoff_ms / MS_PER_DAY)
        # Within 24h of submission; not counted while a review may still come in time.
        if submitted:
            if review_ms is not None:
                self.intake_on_time.append(review_ms <= INTAKE_WINDOW_MS)
            elif waiting_ms > INTAKE_WINDOW_MS:
                self.intake_on_time.append(False)
        self.rework.append(bool(rework))
        self.csm_rating.append(ratings.get(CSM_RATING))
        self.first_touch_nps.append(ratings.get(FIRST_TOUCH_NPS))

    @classmethod
    def merged(cls, parts: Iterable[_Tally]) -> _Tally:
        """The tally of all the parts' handoffs together (the overall row from the group rows)."""
        whole = cls()
        for part in parts:
            whole.handoffs += part.handoffs
            for name in (
                "completeness",
                "specific_share",
                "score",
                "intro_days",
                "kickoff_days",
                "intake_on_time",
                "rework",
                "csm_rating",
                "first_touch_nps",
            ):
                getattr(whole, name).extend(getattr(part, name))
            for tier, count in part.tiers.items():
                whole.tiers[tier] += count
            for name, (met, breached) in part.slas.items():
                whole.slas[name][0] += met
                whole.slas[name][1] += breached
        return whole

    def row(self, group: str) -> ScorecardRow:
        intro = _spread(self.intro_days, 5.0)
        kickoff = _spread(self.kickoff_days, 10.0)
        return ScorecardRow(
            group=group,
            handoffs=self.handoffs,
            completeness=figure(mean(self.completeness), 100.0, ">="),
            specific_share=figure(mean(self.specific_share)),
            quality_score=figure(mean(self.score)),
            tiers=self.tiers,
            time_to_intro_median=intro[0],
            time_to_intro_p90=intro[1],
            time_to_kickoff_median=kickoff[0],
            time_to_kickoff_p90=kickoff[1],
            sla_compliance=_compliance(self.slas),
            intake_within_24h=figure(percent(self.intake_on_time)),
            csm_rating=figure(mean(self.csm_rating), 4.0, ">="),
            first_touch_nps=figure(mean(self.first_touch_nps), 8.0, ">="),
            rework_rate=figure(percent(self.rework)),
        )


def scorecard(session: Session, group_by: GroupBy, start: date | None, end: date | None, now: datetime) -> Scorecard:
    """Handoffs won with their close in [start, end) (end defaults to `now`), per group and overall."""
    if group_by not in ("ae", "cs_team", "segment", "month"):
        raise ValueError(f"group_by is one of ae, cs_team, segment, month (got {group_by!r})")
    window = _scored_rows(group_by, utc_midnight(start) if start else None, utc_midnight(end) if end else now, now)
    population = window.with_only_columns(HandoffRow.workflow_id)
    ratings: dict[str, dict[str, float]] = defaultdict(dict)
    for rating in session.execute(
        select(col(RatingRow.workflow_id), col(RatingRow.kind), col(RatingRow.value)).where(
            col(RatingRow.workflow_id).in_(population)
        )
    ):
        ratings[rating.workflow_id][rating.kind] = float(rating.value)
    groups: dict[str, _Tally] = defaultdict(_Tally)
    no_ratings: dict[str, float] = {}
    for row in session.execute(window):
        groups[row[1] or NO_GROUP].add(row, ratings.get(row[0], no_ratings))
    # SLA outcomes are counted by the database, per group: a breach stays a breach when the SLA is
    # later cancelled; pending and extended ones are unsettled and not counted.
    breached = col(SlaRow.breached_at).is_not(None)
    counted = (
        window.with_only_columns(
            _group(group_by), SlaRow.sla,
            func.sum(case((and_(~breached, col(SlaRow.status) == "met"), 1), else_=0)), func.sum(case((breached, 1), else_=0)),
        )
        .join_from(HandoffRow, SlaRow, SlaRow.workflow_id == HandoffRow.workflow_id)
        .group_by(_group(group_by), SlaRow.sla)
    )  # fmt: skip
    for group, name, met, breaches in session.execute(counted):
        if met or breaches:
            groups[group or NO_GROUP].slas[name] = [int(met), int(breaches)]
    return Scorecard(
        group_by=group_by,
        start=start,
        end=end,
        generated_at=now,
        rows=[groups[name].row(name) for name in sorted(groups)],
        overall=_Tally.merged(groups.values()).row(OVERALL),
    )
