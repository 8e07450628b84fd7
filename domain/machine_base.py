"""What every handoff rule leans on: the timeline, deadlines, notifications and the derived phase."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain import deadlines
from domain.approach_kinds import Approach
from domain.approach_policy import ApproachProfile
from domain.effects import Effect, Notify
from domain.errors import ErrorType, Refused
from domain.policy import Policy
from domain.roles import Role, SlaName
from domain.scoring import score_document
from domain.state import Escalated, HandoffState, Phase
from domain.timeline import Kind, TimelineEntry


class MachineBase:
    state: HandoffState
    policy: Policy
    effects: list[Effect]
    now: datetime

    def _rescore(self) -> None:
        s = self.state
        report = score_document(
            s.document,
            self.policy,
            sales_cycle=s.deal.sales_cycle,
            approach=self._approach(),
            overrides=s.intake.overrides if s.intake else None,
        )
        if s.quality is None or (report.score, report.tier) != (s.quality.score, s.quality.tier):
            self._record(Kind.DOCUMENT_SCORED, score=report.score, tier=report.tier.value)
        s.quality = report

    def _plan(self, sla: SlaName, anchor: datetime, **details: Any) -> None:
        spec = self.policy.sla(sla, self._approach())
        deadline = deadlines.plan(sla, spec, anchor, self.now, self.policy.calendar)
        self.state.deadlines[sla] = deadline
        self._record(Kind.DEADLINE_SET, sla=sla.value, due=deadline.due.isoformat(), **details)

    def _meet(self, sla: SlaName) -> None:
        deadline = self.state.deadlines.get(sla)
        if deadline is not None and deadlines.meet(deadline, self.now):
            self._record(Kind.DEADLINE_MET, sla=sla.value, due=deadline.due.isoformat())

    def _escalate(self, sla: SlaName, role: Role, at: datetime | None = None, note: str = "") -> None:
        person = self._person(role)
        self.state.escalations.append(Escalated(sla=sla, to=role, at=at or self.now, person=person))
        self._record(Kind.ESCALATED, at=at, sla=sla.value, to=role.value, note=note or None)
        self._notify(
            "escalated",
            [person or role.value],
            f"Escalation: {sla.value}",
            f"{self.state.deal.account}: {sla.value} needs you ({note or 'SLA missed'}).",
            {"sla": sla.value, "to": role.value},
        )

    def _person(self, role: Role) -> str:
        owners = self.state.owners
        if role is Role.SALES_MANAGER:
            return owners.sales_manager
        if role is Role.VP_SALES:
            return owners.vp_sales
        if role is Role.CS_MANAGER:
            team = next((t for t in self.policy.teams if t.name == owners.cs_team), None)
            return team.manager if team else ""
        return ""

    def _notify(
        self, event: str, to: list[str], subject: str, text: str, details: dict[str, Any] | None = None
    ) -> None:
        entry = self._record(Kind.NOTIFIED, event=event, to=to)
        self.effects.append(
            Notify(
                key=f"{self.state.workflow_id}:{entry.seq}",
                event=event,
                to=to,
                subject=subject,
                text=text,
                details=details or {},
            )
        )

    def _record(self, kind: Kind, at: datetime | None = None, **details: Any) -> TimelineEntry:
        timeline = self.state.timeline
        seq = timeline[-1].seq + 1 if timeline else 1
        entry = TimelineEntry(
            seq=seq, at=at or self.now, kind=kind, details={k: v for k, v in details.items() if v is not None}
        )
        timeline.append(entry)
        return entry

    def _refresh_phase(self) -> None:
        phase = self._derive_phase()
        if phase is not self.state.phase:
            self._set_phase(phase)

    def _set_phase(self, phase: Phase) -> None:
        previous = self.state.phase
        self.state.phase = phase
        self._record(Kind.PHASE_CHANGED, phase=phase.value, previous=previous.value)

    def _derive_phase(self) -> Phase:
        s, facts = self.state, self.state.facts
        if facts.ended_at:
            return Phase.CLOSED
        if facts.won_at is None:
            return Phase.PRE_CLOSE
        if facts.transitioned_at:
            return Phase.TRANSITIONED
        if facts.kickoff_at:
            return Phase.ONBOARDING
        if s.returned_to_sales or facts.submitted_at is None:
            return Phase.DOCUMENTING
        if facts.briefed_at is None:
            return Phase.INTAKE_REVIEW
        if self._has_intro() and facts.intro_held_at is None:
            return Phase.INTRO
        return Phase.KICKOFF

    def _deadline_instant(self, fired: deadlines.Fired) -> datetime:
        deadline = self.state.deadlines[fired.sla]
        if fired.breached:
            return deadline.due
        return max((step.at for step in deadline.escalations if step.to is fired.escalate_to), default=self.now)

    def _profile(self) -> ApproachProfile:
        return self.policy.approaches[self._approach()]

    def _approach(self) -> Approach:
        return self.state.approach.approach if self.state.approach else Approach.STRUCTURED

    def _has_intro(self) -> bool:
        return SlaName.INTRO_SCHEDULED in self._profile().slas

    def _score_text(self) -> str:
        q = self.state.quality
        return f"{q.score} {q.tier.value}" if q else "not scored"

    def _key(self, what: str) -> str:
        return f"{self.state.workflow_id}:{what}:{len(self.state.timeline)}"

    def _open(self) -> None:
        if self.state.ended:
            raise Refused(ErrorType.CLOSED, f"the handoff has ended ({self.state.outcome.value})")

    def _won_required(self) -> None:
        if self.state.facts.won_at is None:
            raise Refused(ErrorType.INVALID_TRANSITION, "the deal is not won yet")
