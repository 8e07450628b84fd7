"""Where each scenario message goes, and why one cannot reach its run at all.

Both simulators decide this from the handoff's own state (the pure one from its machine, the
`--temporal` one from the workflow's `state` query), so they refuse the same messages for the same
reasons; what a run that is open refuses, it says itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.errors import ErrorType, Refused
from domain.scenario import MessageType
from domain.state import ChildKind, HandoffState

# Messages that go to a child run rather than to the handoff.
CHILD_OF: dict[MessageType, ChildKind] = {
    MessageType.MILESTONE: ChildKind.ONBOARDING,
    MessageType.POST_CHECK: ChildKind.POST_CHECK,
}

_NOT_STARTED = {ChildKind.ONBOARDING: "onboarding has not started: it starts at the kickoff"}
_FINISHED = {
    ChildKind.ONBOARDING: "onboarding has already handed over to CS",
    ChildKind.POST_CHECK: "the 30-day check has already concluded",
}


@dataclass(frozen=True)
class Refusal:
    """A scenario message its run refused; printed as `message_refused` after the timeline entries
    the run had recorded when it was refused (`after_seq`)."""

    at: datetime
    message: MessageType
    error_type: ErrorType
    reason: str
    after_seq: int


def unreachable(state: HandoffState, message: MessageType) -> Refused | None:
    """Why `message` cannot reach its run: the handoff has ended, or its child is not running."""
    if state.ended:
        return Refused(ErrorType.CLOSED, f"the handoff has ended ({state.outcome.value})")
    kind = CHILD_OF.get(message)
    if kind is None:
        return None
    child = state.children.get(kind)
    if child is None and kind is ChildKind.POST_CHECK:
        return None  # the handoff keeps answers for the check before it starts, or says why not
    if child is None:
        return Refused(ErrorType.INVALID_TRANSITION, _NOT_STARTED[kind])
    if child.finished_at is not None:
        return Refused(ErrorType.INVALID_TRANSITION, _FINISHED[kind])
    return None


def refusal(at: datetime, message: MessageType, refused: Refused, state: HandoffState) -> Refusal:
    return Refusal(at, message, refused.type, refused.message, state.timeline[-1].seq if state.timeline else 0)
