"""CSM assignment: round robin per CS team, skipping who is away or at capacity, shared by all workers."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import and_, exists, func, or_, select, update
from sqlmodel import Session, col

from domain.csm_choice import CsmPick, pick_csm
from domain.state import Outcome
from domain.teams import CsTeam
from store.repository import begin_write, insert_ignoring_conflicts
from store.tables import CsmAssignmentRow, HandoffRow, RoundRobinRow


def _open_load(session: Session, csm_id: str) -> int:
    """Handoffs assigned to a CSM that have not ended (an assignment without a row yet counts)."""
    finished = exists().where(
        col(HandoffRow.workflow_id) == col(CsmAssignmentRow.workflow_id),
        or_(col(HandoffRow.ended_at).is_not(None), col(HandoffRow.outcome) == Outcome.LOST.value),
    )
    return (
        session.scalar(
            select(func.count())
            .select_from(CsmAssignmentRow)
            .where(and_(col(CsmAssignmentRow.csm_id) == csm_id, ~finished))
        )
        or 0
    )


def _lock_team(session: Session, team: str) -> int:
    """The team's round-robin position, locked until the transaction ends."""
    bind = session.get_bind()
    # SQLite has one writer: holding its lock from BEGIN serialises concurrent picks.
    begin_write(session)
    session.execute(
        insert_ignoring_conflicts(session, RoundRobinRow)
        .values(team=team, position=0)
        .on_conflict_do_nothing(index_elements=["team"])
    )
    query = select(col(RoundRobinRow.position)).where(col(RoundRobinRow.team) == team)
    if bind.dialect.name == "postgresql":
        query = query.with_for_update()
    return session.scalar(query) or 0


def choose_csm(session: Session, workflow_id: str, team: CsTeam, day: date) -> CsmPick:
    """`assign_csm` with the reason for its choice, for the workflow's timeline."""
    position = _lock_team(session, team.name)
    # Checked under the team's lock, so two retries of one assignment cannot both pick.
    existing = session.get(CsmAssignmentRow, workflow_id)
    if existing is not None:
        return CsmPick(existing.csm_id, f"already assigned to {existing.csm_id} (team {existing.team})", position)
    pick = pick_csm(team, position, day, lambda csm_id: _open_load(session, csm_id))
    if pick.csm is not None:
        session.add(
            CsmAssignmentRow(workflow_id=workflow_id, csm_id=pick.csm, team=team.name, assigned_at=datetime.now(UTC))
        )
        session.execute(
            update(RoundRobinRow).where(col(RoundRobinRow.team) == team.name).values(position=pick.position)
        )
        session.flush()
    return pick


def assign_csm(session: Session, workflow_id: str, team: CsTeam, day: date) -> str | None:
    """The CSM for a handoff: round robin over the team, skipping who is away or at capacity.

    Idempotent per workflow id. The position lives here, not in a worker, so it survives restarts and
    is shared by all workers; the team's row is locked for the pick. None: nobody is available.
    """
    return choose_csm(session, workflow_id, team, day).csm
