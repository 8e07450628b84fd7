"""One handoff as every part of the machine sees it: its state, its policy snapshot and its journal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.approach_kinds import Approach
from domain.approach_policy import ApproachProfile
from domain.errors import ErrorType, Refused
from domain.machine_journal import Journal
from domain.policy import Policy
from domain.roles import SlaName
from domain.state import HandoffState


@dataclass(frozen=True)
class Handoff:
    state: HandoffState
    policy: Policy
    journal: Journal

    @property
    def now(self) -> datetime:
        return self.journal.now

    @property
    def approach(self) -> Approach:
        # Before the CRM fetch has chosen one, rules read the approach most deals get.
        return self.state.approach.approach if self.state.approach else Approach.STRUCTURED

    @property
    def profile(self) -> ApproachProfile:
        return self.policy.approaches[self.approach]

    @property
    def has_intro(self) -> bool:
        return SlaName.INTRO_SCHEDULED in self.profile.slas

    def due_of(self, sla: SlaName) -> dict[str, str]:
        """What a notice says is due and by when (`sla`, `due`), for an SLA still open; the sinks
        show it in each recipient's own time zone. Nothing for runs from before the people rules."""
        deadline = self.state.deadlines.get(sla)
        if not self.state.people_rules or deadline is None or not deadline.open:
            return {}
        return {"sla": sla.value, "due": deadline.due.isoformat()}

    def refuse_if_ended(self) -> None:
        if self.state.ended:
            raise Refused(ErrorType.CLOSED, f"the handoff has ended ({self.state.outcome.value})")

    def refuse_unless_won(self) -> None:
        if self.state.facts.won_at is None:
            raise Refused(ErrorType.INVALID_TRANSITION, "the deal is not won yet")
