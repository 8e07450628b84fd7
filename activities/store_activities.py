"""Activities that write the read model. Sync: the worker runs them on its thread pool."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DataError, IntegrityError
from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.state import HandoffState
from domain.teams import CsTeam
from store import assignment, repository
from store.engine import session_scope

# The database refused the values themselves (too long, out of range, a constraint): the same write
# would be refused on every attempt, and retrying it for ever would hold the handoff's read model back.
STORE_REFUSED = "StoreRefused"


class AssignCsm(BaseModel):
    workflow_id: str
    team: CsTeam
    day: date


class CsmChoice(BaseModel):
    csm: str | None
    team: str
    reason: str


class StoreActivities:
    """Owns the store's engine; the worker builds one instance from its settings."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @activity.defn(name="store_record")
    def record(self, state: HandoffState) -> int:
        try:
            with session_scope(self.engine, write=True) as session:
                return repository.record_state(session, state)
        except (DataError, IntegrityError, ValueError, OverflowError) as err:
            # The type names the problem; the database's message quotes the values, which may be a
            # contact's data, so it stays out of the history.
            raise ApplicationError(
                f"the read model refused this handoff's values ({type(err).__name__})",
                non_retryable=True,
                type=STORE_REFUSED,
            ) from None

    @activity.defn(name="store_assign_csm")
    def assign_csm(self, request: AssignCsm) -> CsmChoice:
        with session_scope(self.engine, write=True) as session:
            pick = assignment.choose_csm(session, request.workflow_id, request.team, request.day)
        return CsmChoice(csm=pick.csm, team=request.team.name, reason=pick.reason)
