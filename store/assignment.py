"""CSM assignment: round robin per CS team, skipping who is away or at capacity, shared by all workers;
an expansion or renewal stays with the CSM of the account's earlier handoff."""

from __future__ import annotations

from collections.abc import Callable
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


def account_csm(session: Session, workflow_id: str, account: str) -> str | None:
    """The CSM of the account's latest earlier handoff (by close, then last update), whoever named them:
    the rule or a CS lead. Lost deals are left out: their CSM never took the account on."""
    if not account.strip():
        return None
    query = (
        select(col(HandoffRow.csm))
        .where(
            col(HandoffRow.account) == account,
            col(HandoffRow.workflow_id) != workflow_id,
            col(HandoffRow.csm).is_not(None),
            col(HandoffRow.csm) != "",
            col(HandoffRow.outcome) != Outcome.LOST.value,
        )
        .order_by(col(HandoffRow.closed_at).desc().nulls_last(), col(HandoffRow.updated_at).desc())
        .limit(1)
    )
    found: str | None = session.scalar(query)
    return found


def choose_csm(
    session: Session,
    workflow_id: str,
    team: CsTeam,
    day: date,
    *,
    keep_for_account: str = "",
    still_here: Callable[[str], bool] | None = None,
) -> CsmPick:
    """`assign_csm` with the reason for its choice, for the workflow's timeline.

    `keep_for_account`: the account whose current CSM keeps this handoff (an expansion or renewal),
    unless none is known or `still_here` says they left; then the round robin picks."""
    position = _lock_team(session, team.name)
    # Checked under the team's lock, so two retries of one assignment cannot both pick.
    existing = session.get(CsmAssignmentRow, workflow_id)
    if existing is not None:
        return CsmPick(existing.csm_id, f"already assigned to {existing.csm_id} (team {existing.team})", position)
    why_not_kept = ""
    if keep_for_account:
        current = account_csm(session, workflow_id, keep_for_account)
        if current is not None and (still_here is None or still_here(current)):
            # Neither away nor capacity moves an account from its CSM; a delegate covers their notices.
            _assigned(session, workflow_id, current, team.name)
            return CsmPick(current, f"the account's CSM from its earlier handoff: {current}", position)
        why_not_kept = (
            "no earlier handoff of the account has a CSM"
            if current is None
            else f"the account's CSM {current} is no longer in the directory"
        )
    pick = pick_csm(team, position, day, lambda csm_id: _open_load(session, csm_id))
    if pick.csm is not None:
        _assigned(session, workflow_id, pick.csm, team.name)
        session.execute(
            update(RoundRobinRow).where(col(RoundRobinRow.team) == team.name).values(position=pick.position)
        )
        session.flush()
    if why_not_kept:
        return CsmPick(pick.csm, f"{pick.reason} ({why_not_kept})", pick.position)
    return pick


def _assigned(session: Session, workflow_id: str, csm: str, team: str) -> None:
    session.add(CsmAssignmentRow(workflow_id=workflow_id, csm_id=csm, team=team, assigned_at=datetime.now(UTC)))
    session.flush()


def assign_csm(session: Session, workflow_id: str, team: CsTeam, day: date) -> str | None:
    """The CSM for a handoff: round robin over the team, skipping who is away or at capacity.

    Idempotent per workflow id. The position lives here, not in a worker, so it survives restarts and
    is shared by all workers; the team's row is locked for the pick. None: nobody is available.
    """
    return choose_csm(session, workflow_id, team, day).csm
