"""Who owns the handoff: its CSM (by rule, or named by a CS lead) and, once the AE leaves, a recovery owner."""

from __future__ import annotations

from domain.effects import AssignCsm
from domain.errors import ErrorType, Refused
from domain.machine_deadlines import Deadlines
from domain.machine_handoff import Handoff
from domain.messages import AeDeparture, CsmAssignment
from domain.recipients import Audience
from domain.roles import Role, SlaName
from domain.timeline import Kind


class Ownership:
    def __init__(self, handoff: Handoff, deadlines: Deadlines) -> None:
        self._h = handoff
        self._deadlines = deadlines

    def request_csm(self) -> None:
        """Ask for a CSM by rule from the team serving this approach (the choice comes back in `csm_chosen`)."""
        h = self._h
        team = h.policy.team_for(h.approach)
        if team is None:
            h.journal.record(Kind.WARNING, message=f"no CS team serves {h.approach.value} handoffs")
            return
        h.state.owners.cs_team = team.name
        h.state.owners.awaiting_csm = True
        h.journal.ask(AssignCsm(team=team.name))

    def csm_chosen(self, csm: str | None, team: str, reason: str) -> bool:
        """The rule's choice, unless a lead got there first or the handoff has ended; False: nothing changed."""
        h = self._h
        if h.state.owners.csm or h.state.ended:
            return False
        h.state.owners.awaiting_csm = False
        if csm:
            self._assign(csm, team, by="rule")
        else:
            h.journal.record(Kind.WARNING, message=f"no CSM available in team {team}: {reason}")
            self._deadlines.escalate(SlaName.CSM_BRIEFED, Role.CS_MANAGER, note=f"assign a CSM: {reason}")
        return True

    def check_csm(self, msg: CsmAssignment) -> None:
        self._h.refuse_if_ended()

    def apply_csm(self, msg: CsmAssignment) -> None:
        self._assign(msg.csm, msg.team or self._h.state.owners.cs_team, by=msg.by or "cs_lead")

    def check_ae_departure(self, msg: AeDeparture) -> None:
        h = self._h
        h.refuse_if_ended()
        if h.state.facts.ae_departed_at and not msg.recovery_owner:
            raise Refused(
                ErrorType.INVALID_TRANSITION, "the AE's departure is already recorded; name the recovery owner"
            )
        if h.state.owners.recovery_owner and msg.recovery_owner:
            raise Refused(ErrorType.INVALID_TRANSITION, f"{h.state.owners.recovery_owner} already owns the recovery")

    def apply_ae_departure(self, msg: AeDeparture) -> None:
        h = self._h
        s = h.state
        if s.facts.ae_departed_at is None:
            s.facts.ae_departed_at = h.now
            h.journal.record(Kind.MESSAGE, message="ae_departed", by=msg.by, ae=s.owners.ae)
            self._deadlines.plan(SlaName.RECOVERY_OWNER, anchor=h.now)
            h.journal.notify(
                "ae_departed",
                [Audience.SALES_MANAGER],
                "AE left: assign a recovery owner",
                f"The AE on {s.deal.account} has left; name a recovery owner within the SLA.",
                h.due_of(SlaName.RECOVERY_OWNER),
            )
        if msg.recovery_owner:
            s.owners.recovery_owner = msg.recovery_owner
            h.journal.record(Kind.MESSAGE, message="recovery_owner_assigned", by=msg.by, owner=msg.recovery_owner)
            self._deadlines.meet(SlaName.RECOVERY_OWNER)
            h.journal.notify(
                "recovery_owner_assigned",
                [Audience.RECOVERY_OWNER, Audience.CSM, "customer"],
                "Your handoff has a new owner",
                f"{msg.recovery_owner} completes the handoff for {s.deal.account}; the customer is told.",
            )

    def _assign(self, csm: str, team: str, by: str) -> None:
        h = self._h
        previous = h.state.owners.csm
        # A lead's choice settles it: the rule's answer, when it comes, changes nothing.
        h.state.owners.awaiting_csm = False
        h.state.owners.csm, h.state.owners.cs_team = csm, team
        h.journal.record(Kind.CSM_ASSIGNED, csm=csm, team=team, by=by, previous=previous or None)
        h.journal.notify(
            "csm_assigned",
            [Audience.CSM],
            "You own a new handoff",
            f"{h.state.deal.account} ({h.approach.value}) is yours: review its handoff document.",
            h.due_of(SlaName.CSM_BRIEFED),
        )
