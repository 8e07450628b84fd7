"""What RevOps reviews each month: completion and quality per CS team, and the churn autopsy.

Completion rate = the mean of the handoffs' completeness (fields populated / required, DECISIONS.md), in
%, over the handoffs won with their close in the calendar month (UTC).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlmodel import Session, col

from store.reports import NO_GROUP, OVERALL, TIERS, close_of, mean, utc_midnight, won_between
from store.tables import ChurnRow, HandoffRow, SlaRow

ROOT_CAUSE_THRESHOLD = 80.0


class GovernanceRow(BaseModel):
    group: str
    handoffs: int
    completion_rate: float | None
    quality_score: float | None
    csm_rating: float | None


class GovernanceReport(BaseModel):
    month: str
    start: date
    end: date
    overall: GovernanceRow
    teams: list[GovernanceRow]

    def completion_of(self, group: str) -> float | None:
        if group == OVERALL:
            return self.overall.completion_rate
        return next((row.completion_rate for row in self.teams if row.group == group), None)


def month_bounds(day: date) -> tuple[date, date]:
    start = day.replace(day=1)
    end = date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return start, end


def previous_month(day: date) -> date:
    start = day.replace(day=1)
    return date(start.year - 1, 12, 1) if start.month == 1 else start.replace(month=start.month - 1)


def _governance_row(group: str, rows: list[HandoffRow]) -> GovernanceRow:
    return GovernanceRow(
        group=group,
        handoffs=len(rows),
        completion_rate=mean(r.completeness for r in rows)[0],
        quality_score=mean(r.score for r in rows)[0],
        csm_rating=mean(r.csm_rating for r in rows)[0],
    )


def governance(session: Session, month: date) -> GovernanceReport:
    """The review of the calendar month containing `month`."""
    start, end = month_bounds(month)
    rows = list(session.scalars(won_between(utc_midnight(start), utc_midnight(end))))
    teams: dict[str, list[HandoffRow]] = defaultdict(list)
    for row in rows:
        teams[row.cs_team or NO_GROUP].append(row)
    return GovernanceReport(
        month=start.strftime("%Y-%m"),
        start=start,
        end=end,
        overall=_governance_row(OVERALL, rows),
        teams=[_governance_row(name, teams[name]) for name in sorted(teams)],
    )


def needs_root_cause(history: list[float | None], threshold: float = ROOT_CAUSE_THRESHOLD) -> bool:
    """Completion under `threshold` in each of the last two months (seed, Edge Case 5); a month without
    handoffs (None) breaks the run."""
    last_two = history[-2:]
    return len(last_two) == 2 and all(rate is not None and rate < threshold for rate in last_two)


def root_cause_groups(current: GovernanceReport, previous: GovernanceReport, threshold: float) -> list[str]:
    """Overall and each team whose completion was under `threshold` this month and the month before."""
    groups = [OVERALL] + [row.group for row in current.teams]
    return [g for g in groups if needs_root_cause([previous.completion_of(g), current.completion_of(g)], threshold)]


# --- churn autopsy ------------------------------------------------------------------------------


class ChurnedAccount(BaseModel):
    account: str
    churned_on: date
    reason: str


class ChurnedHandoff(ChurnedAccount):
    workflow_id: str
    ae: str | None
    csm: str | None
    closed_at: datetime
    score: float | None
    tier: str | None
    completeness: float | None
    breaches: int


class TierChurn(BaseModel):
    tier: str
    handoffs: int
    churned: int
    rate: float | None


class ChurnReport(BaseModel):
    matched: list[ChurnedHandoff]
    by_tier: list[TierChurn]
    unmatched: list[ChurnedAccount]


def churn_report(session: Session) -> ChurnReport:
    """Each churned account against the latest handoff of that account (name compared case-insensitively)
    won on or before the churn day, and the churn rate of each tier over all won handoffs."""
    churns = session.scalars(select(ChurnRow).order_by(col(ChurnRow.churned_on), col(ChurnRow.account))).all()
    names = {c.account.lower() for c in churns}
    by_account: dict[str, list[HandoffRow]] = defaultdict(list)
    won = session.scalars(won_between(None, None).where(func.lower(HandoffRow.account).in_(names))).all()
    for row in won:
        by_account[row.account.lower()].append(row)
    breaches: dict[str, int] = dict(
        session.execute(
            select(col(SlaRow.workflow_id), func.count())
            .where(col(SlaRow.breached_at).is_not(None), col(SlaRow.workflow_id).in_([r.workflow_id for r in won]))
            .group_by(col(SlaRow.workflow_id))
        ).all()
    )
    matched: list[ChurnedHandoff] = []
    unmatched: list[ChurnedAccount] = []
    for churn in churns:
        account = ChurnedAccount(account=churn.account, churned_on=churn.churned_on, reason=churn.reason)
        # A handoff won after the churn is a win-back, not the handoff the churn reflects on.
        before = [r for r in by_account[churn.account.lower()] if close_of(r).date() <= churn.churned_on]
        if not before:
            unmatched.append(account)
            continue
        row = max(before, key=lambda r: (close_of(r), r.updated_at))
        matched.append(
            ChurnedHandoff(
                **account.model_dump(),
                workflow_id=row.workflow_id,
                ae=row.ae,
                csm=row.csm,
                closed_at=close_of(row),
                score=row.score,
                tier=row.tier,
                completeness=row.completeness,
                breaches=breaches.get(row.workflow_id, 0),
            )
        )
    totals: dict[str, int] = dict(
        session.execute(
            select(col(HandoffRow.tier), func.count())
            .where(col(HandoffRow.won_at).is_not(None), col(HandoffRow.tier).is_not(None))
            .group_by(col(HandoffRow.tier))
        ).all()
    )
    churned_ids = {(m.tier, m.workflow_id) for m in matched if m.tier}
    by_tier = []
    for tier in TIERS:
        churned = sum(1 for t, _ in churned_ids if t == tier)
        total = totals.get(tier, 0)
        by_tier.append(
            TierChurn(
                tier=tier, handoffs=total, churned=churned, rate=round(100 * churned / total, 2) if total else None
            )
        )
    return ChurnReport(matched=matched, by_tier=by_tier, unmatched=unmatched)
