"""The SLAs of a handoff: planned, met, moved, breached and escalated, each written to the journal."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain import deadlines
from domain.errors import ErrorType, Refused
from domain.machine_handoff import Handoff
from domain.messages import DeadlineExtension
from domain.recipients import Audience
from domain.roles import Role, SlaName
from domain.state import DeadlineStatus, Escalated
from domain.timeline import Kind

# Deadlines the 30-day check child settles by its result rather than by their own timer. A tuple in a
# fixed order (the check itself, then the partner's part of it): escalations are effects, and their
# order reaches the workflow's commands, so it must not depend on hashing.
SETTLED_BY_CHECK = (SlaName.POST_CHECK, SlaName.PARTNER_CHECK)


class Deadlines:
    def __init__(self, handoff: Handoff) -> None:
        self._h = handoff

    def plan(self, sla: SlaName, anchor: datetime, **details: Any) -> None:
        """`details`: what the entry should also say, e.g. which SLA-start rule set the anchor."""
        h = self._h
        spec = h.policy.sla(sla, h.approach)
        deadline = deadlines.plan(sla, spec, anchor, h.now, h.policy.calendar)
        h.state.deadlines[sla] = deadline
        h.journal.record(Kind.DEADLINE_SET, sla=sla.value, due=deadline.due.isoformat(), **details)

    def meet(self, sla: SlaName) -> None:
        deadline = self._h.state.deadlines.get(sla)
        if deadline is None:
            return
        if deadlines.meet(deadline, self._h.now):
            self._h.journal.record(Kind.DEADLINE_MET, sla=sla.value, due=deadline.due.isoformat())
        elif self._h.state.people_rules and deadlines.met_late(deadline):
            # Breached, then done: the rest of its ladder has nobody to chase (the VP is not told at
            # 5bd about an intro the AE scheduled at 4bd). It stays breached in every report.
            self._h.journal.record(Kind.DEADLINE_MET, sla=sla.value, due=deadline.due.isoformat(), late=True)

    def cancel_all(self) -> None:
        for deadline in self._h.state.deadlines.values():
            if deadlines.cancel(deadline):
                self._h.journal.record(Kind.DEADLINE_CANCELLED, sla=deadline.sla.value)

    def any_watching(self) -> bool:
        return any(d.watching for d in self._h.state.deadlines.values())

    def fire_due(self) -> None:
        """Breaches and escalation steps reached by now, each recorded at its own instant."""
        h = self._h
        for fired in deadlines.fire_due(h.state.deadlines, h.now, skip=SETTLED_BY_CHECK):
            at = self._instant_of(fired)
            if fired.breached:
                h.journal.record(Kind.SLA_BREACHED, at=at, sla=fired.sla.value)
            if fired.escalate_to:
                self.escalate(fired.sla, fired.escalate_to, at=at)

    def next_wake(self) -> tuple[datetime, str] | None:
        """The next instant a timer-kept deadline fires, and what it guards (for the timer summary)."""
        nxt = deadlines.next_instant(self._h.state.deadlines, skip=SETTLED_BY_CHECK)
        return (nxt[0], f"SLA {nxt[1].value}") if nxt else None

    def escalate(self, sla: SlaName, role: Role, at: datetime | None = None, note: str = "") -> None:
        h = self._h
        if h.state.people_rules:
            self._escalate_to_people(sla, role, at or h.now, note)
            return
        person = self._person(role)
        h.state.escalations.append(Escalated(sla=sla, to=role, at=at or h.now, person=person))
        h.journal.record(Kind.ESCALATED, at=at, sla=sla.value, to=role.value, note=note or None)
        h.journal.notify(
            "escalated",
            [person or role.value],
            f"Escalation: {sla.value}",
            f"{h.state.deal.account}: {sla.value} needs you ({note or 'SLA missed'}).",
            {"sla": sla.value, "to": role.value},
        )

    def _escalate_to_people(self, sla: SlaName, role: Role, at: datetime, note: str) -> None:
        """The escalation goes on the timeline with its people once the notice is resolved."""
        h = self._h
        h.state.escalations.append(Escalated(sla=sla, to=role, at=at))
        deadline = h.state.deadlines.get(sla)
        details: dict[str, Any] = {"sla": sla.value, "to": role.value, "note": note or None}
        if deadline is not None:
            details["due"] = deadline.due.isoformat()
        h.journal.notify(
            "escalated",
            [Audience(role.value)],
            f"Escalation: {sla.value.replace('_', ' ')} for {h.state.deal.account or h.state.deal.deal_id}",
            f"{h.state.deal.account}: {sla.value.replace('_', ' ')} needs you ({note or 'the SLA was missed'}).",
            {k: v for k, v in details.items() if v is not None},
            escalation=len(h.state.escalations) - 1,
        )

    def settle_check(self, sla: SlaName, passed: bool, failures: list[str]) -> None:
        """A check-owned deadline met or failed by the 30-day check's result; a failure escalates."""
        deadline = self._h.state.deadlines.get(sla)
        if deadline is None or not deadline.open:
            return
        if passed:
            deadlines.meet(deadline, self._h.now)
            self._h.journal.record(Kind.CHECK_PASSED, sla=sla.value)
        else:
            deadline.status, deadline.breached_at = DeadlineStatus.BREACHED, self._h.now
            self._h.journal.record(Kind.CHECK_FAILED, sla=sla.value, failures=failures)
            self.escalate(sla, deadline.on_breach or Role.CS_MANAGER, note="; ".join(failures))

    def pull_kickoff_forward(self, intro_held_at: datetime) -> None:
        """Kickoff is due by the earlier of its own SLA and the policy's span after the intro is held."""
        h = self._h
        kickoff = h.state.deadlines.get(SlaName.KICKOFF)
        if kickoff is None or not kickoff.open or kickoff.extensions:
            return
        after_intro = h.policy.calendar.add(intro_held_at, h.policy.kickoff_after_intro)
        if after_intro < kickoff.due:
            kickoff.due = after_intro
            h.journal.record(
                Kind.DEADLINE_SET, sla=SlaName.KICKOFF.value, due=after_intro.isoformat(), reason="intro held"
            )

    # ---- a person moving a deadline (an update) ---------------------------------------------

    def check_extension(self, msg: DeadlineExtension) -> None:
        self._h.refuse_if_ended()
        deadline = self._h.state.deadlines.get(msg.sla)
        if deadline is None or not deadline.open:
            status = deadline.status.value if deadline else "not set"
            raise Refused(ErrorType.INVALID_TRANSITION, f"deadline {msg.sla.value} cannot move: it is {status}")
        if msg.sla in SETTLED_BY_CHECK and self._h.state.facts.post_check_requested_at is not None:
            # The check's answers are due a window after the due it started at; moving it now would
            # move nothing the check waits for.
            raise Refused(
                ErrorType.INVALID_TRANSITION, f"deadline {msg.sla.value} cannot move: the 30-day check has started"
            )
        if not msg.reason.strip():
            raise Refused(ErrorType.INVALID_VALUE, "reason: an extension needs a reason")
        if (msg.new_due is None) == (msg.extend_by is None):
            raise Refused(ErrorType.INVALID_VALUE, "give exactly one of new_due or extend_by")
        if msg.new_due is not None and (msg.new_due.tzinfo is None or msg.new_due <= deadline.due):
            raise Refused(ErrorType.INVALID_VALUE, "new_due must be later than the current due, with a UTC offset")

    def apply_extension(self, msg: DeadlineExtension) -> None:
        h = self._h
        deadline = h.state.deadlines[msg.sla]
        if msg.new_due is not None:
            new_due = msg.new_due
        else:
            assert msg.extend_by is not None  # check_extension allows exactly one of the two
            new_due = h.policy.calendar.add(deadline.due, msg.extend_by)
        previous = deadline.due
        deadlines.extend(deadline, new_due, msg.reason, msg.by, h.now)
        h.journal.record(
            Kind.DEADLINE_EXTENDED,
            sla=msg.sla.value,
            previous_due=previous.isoformat(),
            due=new_due.isoformat(),
            reason=msg.reason,
            by=msg.by,
        )

    # ---- private ----------------------------------------------------------------------------------

    def _instant_of(self, fired: deadlines.Fired) -> datetime:
        deadline = self._h.state.deadlines[fired.sla]
        if fired.breached:
            return deadline.due
        return max((step.at for step in deadline.escalations if step.to is fired.escalate_to), default=self._h.now)

    def _person(self, role: Role) -> str:
        """Who a role is on this deal, where the deal or the policy says so."""
        owners = self._h.state.owners
        if role is Role.SALES_MANAGER:
            return owners.sales_manager
        if role is Role.VP_SALES:
            return owners.vp_sales
        if role is Role.CS_MANAGER:
            team = next((t for t in self._h.policy.teams if t.name == owners.cs_team), None)
            return team.manager if team else ""
        return ""
