"""The handoff's journal: timeline entries stamped with the machine's clock, and the effects it asks for."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from domain.effects import Effect, Notify
from domain.recipients import Audience, Resolution
from domain.state import HandoffState
from domain.timeline import Kind, TimelineEntry

# What the customer hears is sent by the introduction step, to the document's contacts; a notice about
# the handoff is for the people working on it. Runs before the people rules listed the customer.
CUSTOMER = "customer"


class Journal:
    """Everything the machine tells the world goes through here, so each entry gets the next `seq` and
    each effect a key that is the same on every replay of the same history."""

    def __init__(self, state: HandoffState, now: datetime) -> None:
        self._state = state
        # The instant of the message or tick being applied: the machine never reads a clock itself.
        self.now = now
        self.effects: list[Effect] = []

    def record(self, kind: Kind, at: datetime | None = None, **details: Any) -> TimelineEntry:
        """A timeline entry at `at` (default: now); details left None are not written."""
        timeline = self._state.timeline
        seq = timeline[-1].seq + 1 if timeline else 1
        # Built from the rules' own values, so not validated again: the simulator records a great many.
        entry = TimelineEntry.model_construct(
            seq=seq, at=at or self.now, kind=kind, details={k: v for k, v in details.items() if v is not None}
        )
        timeline.append(entry)
        return entry

    def notify(
        self,
        event: str,
        to: Sequence[Audience | str],
        subject: str,
        text: str,
        details: dict[str, Any] | None = None,
        escalation: int | None = None,
    ) -> None:
        """A notice to the people holding the places `to` names.

        Under the people rules it is keyed by its number and goes on the timeline once its people are
        known (`addressed`); before them it went on the timeline at once, keyed by that entry, to the
        deal's names where it had them and to role names where it had not."""
        s = self._state
        if s.people_rules:
            audience = [place if isinstance(place, Audience) else Audience(place) for place in to if place != CUSTOMER]
            if not audience:
                return
            s.notices += 1
            self.ask(
                Notify(
                    key=f"{s.workflow_id}:notice:{s.notices}",
                    event=event,
                    to=[place.value for place in audience],
                    subject=subject,
                    text=text,
                    details=details or {},
                    escalation=escalation,
                    addressed=False,
                )
            )
            return
        names = [self._legacy_name(place) for place in to]
        entry = self.record(Kind.NOTIFIED, event=event, to=names)
        self.ask(
            Notify(
                key=f"{s.workflow_id}:{entry.seq}",
                event=event,
                to=names,
                subject=subject,
                text=text,
                details=details or {},
            )
        )

    def addressed(self, notice: Notify, resolution: Resolution) -> None:
        """The people a notice was resolved to, on the timeline: the escalation it carries out (with the
        role escalated to and its people), each place nobody held (sent to the fallback instead), and
        the notice itself with its people."""
        s = self._state
        people = resolution.ids
        if notice.escalation is not None and notice.escalation < len(s.escalations):
            step = s.escalations[notice.escalation]
            step.person = ", ".join(people)
            self.record(
                Kind.ESCALATED,
                at=step.at,
                sla=step.sla.value,
                to=step.to.value,
                people=people,
                note=notice.details.get("note"),
            )
        fallback = next((r.id for r in resolution.recipients if Audience.REVOPS in r.audience), None)
        for place in resolution.unresolved:
            self.record(Kind.RECIPIENT_UNRESOLVED, event=notice.event, place=place.value, sent_to=fallback)
        self.record(Kind.NOTIFIED, event=notice.event, to=people, key=notice.key)

    def _legacy_name(self, place: Audience | str) -> str:
        """The name a notice went to before the people rules: the deal's own, else the role's."""
        owners = self._state.owners
        known = {
            Audience.AE.value: owners.ae,
            Audience.CSM.value: owners.csm,
            Audience.SALES_MANAGER.value: owners.sales_manager,
            Audience.RECOVERY_OWNER.value: owners.recovery_owner,
        }
        return known.get(str(place), "") or str(place)

    def ask(self, effect: Effect) -> None:
        self.effects.append(effect)

    def key(self, what: str) -> str:
        """An idempotency key for an outside write, unique within this handoff's history."""
        return f"{self._state.workflow_id}:{what}:{len(self._state.timeline)}"
