"""Activities that write the read model. Sync: the worker runs them on its thread pool."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from pydantic import BaseModel, Field
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DataError, IntegrityError
from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.approach_kinds import Approach
from domain.csm_choice import directory_team, keeps_account_csm
from domain.directory import Directory, DirectoryError
from domain.state import HandoffState
from domain.teams import CsTeam
from infra.directory_file import configured_directory
from store import assignment, repository
from store.engine import session_scope

# The database refused the values themselves (too long, out of range, a constraint): the same write
# would be refused on every attempt, and retrying it for ever would hold the handoff's read model back.
STORE_REFUSED = "StoreRefused"
# The directory file is there but cannot be used (an edit broke it): retried, since someone fixes it.
DIRECTORY_UNUSABLE = "DirectoryUnusable"


class AssignCsm(BaseModel):
    workflow_id: str
    # The policy's team: who chooses when no directory is configured (and in runs started before the
    # directory existed, whose recorded requests carry nothing else).
    team: CsTeam
    day: date
    approach: Approach | None = Field(default=None, description="the directory's team for it serves, when one is")
    account: str = Field(default="", description="an expansion or renewal stays with this account's CSM")


class CsmChoice(BaseModel):
    csm: str | None
    team: str
    reason: str


class StoreActivities:
    """Owns the store's engine; the worker builds one instance from its settings."""

    def __init__(self, engine: Engine, directory: Callable[[], Directory | None] = configured_directory) -> None:
        self.engine = engine
        # Read at each choice, not at start: seats, capacities and holidays change while handoffs run.
        self._directory = directory

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
        """From the directory's CS team for the approach when a directory with CS teams is configured,
        else from the policy's team in the request."""
        team, still_here = request.team, None
        directory = self._read_directory() if request.approach is not None else None
        if request.approach is not None and directory is not None and directory.cs_teams:
            found = directory_team(directory, request.approach)
            if found is None:
                reason = f"no CS team in the directory serves {request.approach.value} handoffs"
                return CsmChoice(csm=None, team=request.team.name, reason=reason)
            team, still_here = found, _in_directory(directory)
        keep = request.account if keeps_account_csm(request.approach) else ""
        with session_scope(self.engine, write=True) as session:
            pick = assignment.choose_csm(
                session, request.workflow_id, team, request.day, keep_for_account=keep, still_here=still_here
            )
        return CsmChoice(csm=pick.csm, team=team.name, reason=pick.reason)

    def _read_directory(self) -> Directory | None:
        try:
            return self._directory()
        except DirectoryError as err:
            raise ApplicationError(f"the people directory cannot be used: {err}", type=DIRECTORY_UNUSABLE) from None


def _in_directory(directory: Directory) -> Callable[[str], bool]:
    return lambda person_id: directory.person(person_id) is not None
