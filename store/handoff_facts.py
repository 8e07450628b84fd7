"""The read model's record of what a backtest replays: written with each handoff's state, read back
as `RecordedHandoff`s for the deals closed in a period."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from domain.backtest.recorded import DealRecord, RecordedHandoff, recorded
from domain.state import ChildKind, HandoffState
from domain.timeline import Kind, TimelineEntry
from store.repository import insert_ignoring_conflicts
from store.tables import HandoffFactsRow, HandoffRow, TimelineRow


def facts_values(state: HandoffState) -> dict[str, Any] | None:
    """The row for a handoff once it has a close (the CRM's, or the win's); None before."""
    close = state.deal.closed_at or state.facts.won_at
    if close is None:
        return None
    check = state.children.get(ChildKind.POST_CHECK)
    summary = check.summary if check is not None and check.finished_at is not None else None
    return {
        "workflow_id": state.workflow_id,
        "deal": DealRecord.of(state.deal, close).model_dump(mode="json"),
        "post_check": {key: summary.get(key) for key in ("answers", "usage")} if summary else None,
    }


def record_facts(session: Session, state: HandoffState) -> None:
    """Upsert the handoff's facts; the caller writes only states at least as new as what is stored."""
    values = facts_values(state)
    if values is None:
        return
    stmt = insert_ignoring_conflicts(session, HandoffFactsRow).values(values)
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["workflow_id"], set_={"deal": stmt.excluded.deal, "post_check": stmt.excluded.post_check}
        )
    )


class Loaded:
    """The handoffs a period's backtest replays, and how many it had to leave out."""

    def __init__(self) -> None:
        self.handoffs: list[RecordedHandoff] = []
        self.without_facts = 0  # recorded before the read model kept facts


def load(session: Session, closed_from: datetime, closed_to: datetime) -> Loaded:
    """Won handoffs closed in [closed_from, closed_to), oldest close first."""
    loaded = Loaded()
    rows = session.execute(
        select(
            col(HandoffRow.workflow_id),
            col(HandoffRow.won_at),
            col(HandoffFactsRow.deal),
            col(HandoffFactsRow.post_check),
        )
        .outerjoin(HandoffFactsRow, col(HandoffFactsRow.workflow_id) == col(HandoffRow.workflow_id))
        .where(
            col(HandoffRow.closed_at) >= closed_from,
            col(HandoffRow.closed_at) < closed_to,
            col(HandoffRow.won_at).is_not(None),
        )
        .order_by(col(HandoffRow.closed_at), col(HandoffRow.workflow_id))
    ).all()
    for workflow_id, won_at, deal, post_check in rows:
        if deal is None:
            loaded.without_facts += 1
            continue
        entries = list(_timeline(session, workflow_id))
        loaded.handoffs.append(recorded(DealRecord.model_validate(deal), entries, won_at, post_check))
    return loaded


def _timeline(session: Session, workflow_id: str) -> Iterator[TimelineEntry]:
    found = session.execute(
        select(col(TimelineRow.seq), col(TimelineRow.at), col(TimelineRow.kind), col(TimelineRow.details))
        .where(col(TimelineRow.workflow_id) == workflow_id)
        .order_by(col(TimelineRow.seq))
    )
    for seq, at, kind, details in found:
        yield TimelineEntry(seq=seq, at=at, kind=Kind(kind), details=details)
