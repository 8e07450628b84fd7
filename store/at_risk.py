"""Open handoffs at risk: a breached SLA, one due soon, or a document in the gaps or blocked tier."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import and_, or_, select
from sqlmodel import Session, col

from store.tables import HandoffRow, SlaRow

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
    flagged = select(col(SlaRow.workflow_id)).where(
        or_(col(SlaRow.status) == "breached", and_(col(SlaRow.status).in_(OPEN_SLA), col(SlaRow.due) <= horizon))
    )
    rows = session.scalars(
        select(HandoffRow).where(
            col(HandoffRow.outcome) == "open",
            or_(col(HandoffRow.tier).in_(tuple(TIER_RANK)), col(HandoffRow.workflow_id).in_(flagged)),
        )
    ).all()
    slas: dict[str, list[SlaRow]] = defaultdict(list)
    for sla in session.scalars(select(SlaRow).where(col(SlaRow.workflow_id).in_([r.workflow_id for r in rows]))):
        slas[sla.workflow_id].append(sla)

    ranked: list[tuple[tuple, AtRisk]] = []
    for row in rows:
        breached = sorted(
            (s for s in slas[row.workflow_id] if s.status == "breached"), key=lambda s: s.breached_at or s.due
        )
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
            workflow_id=row.workflow_id,
            account=row.account,
            ae=row.ae,
            csm=row.csm,
            phase=row.phase,
            tier=row.tier,
            score=row.score,
            reasons=reasons,
            next_due=pending[0].due if pending else None,
        )
        ranked.append(((*key, TIER_RANK.get(row.tier or "", 2), row.workflow_id), item))
    return [item for _, item in sorted(ranked, key=lambda pair: pair[0])][:limit]


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")
