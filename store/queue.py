"""The CS leads' queue: open handoffs at risk, filtered and paged in SQL.

The same rule and order as store.at_risk (breached, oldest breach first; then due soonest within the
horizon; then blocked before gaps), worked out by the database so a page of 50 costs the same with
10,000 open handoffs as with 100.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, case, func, or_, select
from sqlmodel import Session, col

from store.at_risk import OPEN_SLA, TIER_RANK
from store.tables import HandoffRow, SlaRow


@dataclass(frozen=True)
class QueueFilter:
    team: str | None = None
    csm: str | None = None
    approach: str | None = None
    phase: str | None = None


@dataclass
class QueueRow:
    workflow_id: str
    crm: str
    deal_id: str
    account: str
    ae: str | None
    csm: str | None
    cs_team: str | None
    approach: str | None
    phase: str
    tier: str | None
    score: float | None
    first_breach: datetime | None
    next_due: datetime | None
    reasons: list[str] = field(default_factory=list)


@dataclass
class QueuePage:
    rows: list[QueueRow]
    total: int


def queue(
    session: Session,
    now: datetime,
    where: QueueFilter,
    soon: timedelta = timedelta(hours=24),
    limit: int = 50,
    offset: int = 0,
) -> QueuePage:
    horizon = now + soon
    # The two instants live on the handoff row (written with its SLAs), so the page reads handoffs
    # only, and carries the filtered count (a window): one pass per page.
    first_breach, next_due = col(HandoffRow.first_breach_at), col(HandoffRow.next_due_at)
    soon_due = and_(next_due.is_not(None), next_due <= horizon)
    bucket = case((first_breach.is_not(None), 0), (soon_due, 1), else_=2)
    instant = case((first_breach.is_not(None), first_breach), (soon_due, next_due))
    tier_rank = case(TIER_RANK, value=col(HandoffRow.tier), else_=2)
    conditions = [
        col(HandoffRow.outcome) == "open",
        or_(first_breach.is_not(None), soon_due, col(HandoffRow.tier).in_(tuple(TIER_RANK))),
    ]
    for column, value in (
        (col(HandoffRow.cs_team), where.team),
        (col(HandoffRow.csm), where.csm),
        (col(HandoffRow.approach), where.approach),
        (col(HandoffRow.phase), where.phase),
    ):
        if value:
            conditions.append(column == value)
    joined = (
        select(
            col(HandoffRow.workflow_id), col(HandoffRow.crm), col(HandoffRow.deal_id), col(HandoffRow.account), col(HandoffRow.ae),
            col(HandoffRow.csm), col(HandoffRow.cs_team), col(HandoffRow.approach), col(HandoffRow.phase), col(HandoffRow.tier),
            col(HandoffRow.score), first_breach, next_due,
            func.count().over().label("total"),  # the whole filtered count, in the same pass as the page
        )
        .where(*conditions)
    )  # fmt: skip
    ordered = joined.order_by(bucket, instant, tier_rank, col(HandoffRow.workflow_id)).limit(limit).offset(offset)
    found = session.execute(ordered).all()
    rows = [QueueRow(*row[:-1]) for row in found]
    if found:
        total = int(found[0][-1])
    else:  # past the last page: the count needs its own query
        total = int(session.execute(select(func.count()).select_from(joined.subquery())).scalar_one())
    _explain(session, rows, now, horizon)
    return QueuePage(rows=rows, total=total)


def _explain(session: Session, rows: list[QueueRow], now: datetime, horizon: datetime) -> None:
    """Why each row of the page is at risk, worded as store.at_risk words it."""
    slas: dict[str, list[SlaRow]] = defaultdict(list)
    ids = [row.workflow_id for row in rows]
    for sla in session.scalars(select(SlaRow).where(col(SlaRow.workflow_id).in_(ids))) if ids else []:
        slas[sla.workflow_id].append(sla)
    for row in rows:
        mine = slas[row.workflow_id]
        breached = sorted((s for s in mine if s.status == "breached"), key=lambda s: s.breached_at or s.due)
        due_soon = sorted((s for s in mine if s.status in OPEN_SLA and s.due <= horizon), key=lambda s: s.due)
        row.reasons = [f"{s.sla.replace('_', ' ')} breached" for s in breached]
        row.reasons += [f"{s.sla.replace('_', ' ')} {'overdue' if s.due <= now else 'due soon'}" for s in due_soon]
        if row.tier in TIER_RANK:
            row.reasons.append(f"tier {row.tier}")
