"""The handoff's journal: timeline entries stamped with the machine's clock, and the effects it asks for."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.effects import Effect, Notify
from domain.state import HandoffState
from domain.timeline import Kind, TimelineEntry


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

    def notify(self, event: str, to: list[str], subject: str, text: str, details: dict[str, Any] | None = None) -> None:
        """A notice, recorded on the timeline and keyed by that entry, so a retried send is recognised."""
        entry = self.record(Kind.NOTIFIED, event=event, to=to)
        self.ask(
            Notify(
                key=f"{self._state.workflow_id}:{entry.seq}",
                event=event,
                to=to,
                subject=subject,
                text=text,
                details=details or {},
            )
        )

    def ask(self, effect: Effect) -> None:
        self.effects.append(effect)

    def key(self, what: str) -> str:
        """An idempotency key for an outside write, unique within this handoff's history."""
        return f"{self._state.workflow_id}:{what}:{len(self._state.timeline)}"
