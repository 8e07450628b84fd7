"""When the real workflows have done everything an instant holds, so `--temporal` can move on.

The pure simulator finishes each instant before the next message (the run's timers, then what they
asked for, then the signals that follow). On a server, those steps are workflow tasks, activities and
signals that each take a few milliseconds of real time, and the state a query returns may lag what is
already on its way; a message sent too soon would land between them. So before each message (and at
the end) the driver waits until the handoff's own state shows nothing left that the instant holds:
nothing it asked the outside world for is unanswered, no timer of this second is unprocessed (a
child's included), and what was sent to a child has reached the handoff.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.machine import HandoffMachine
from domain.onboarding import milestones_complete, transition_due
from domain.policy import Policy
from domain.roles import SlaName
from domain.stages import StageKind
from domain.state import ChildKind, HandoffState
from domain.timeline import Kind

# The workflows run a little late of the instants they work for (milliseconds) and their rules count
# whole seconds: anything before the next second belongs to the instant being finished.
SAME_SECOND = timedelta(seconds=1)


@dataclass
class Sent:
    """What the driver sent that must show in the handoff's state before the next step."""

    milestones: int = 0  # accepted by the onboarding child, each signalled on to the handoff
    answered: bool = False  # the 30-day check took answers, so it concludes
    stage: StageKind | None = None  # the last CRM stage change signalled


def waiting_for(state: HandoffState, policy: Policy, through: datetime, sent: Sent) -> str | datetime | None:
    """None: the instant `through` is finished. An instant: a timer of this second the server has not
    reached yet (advance the clock to it). Text: something on its way (ask again)."""
    if not state.timeline:
        return "the handoff to start"
    if sent.stage is StageKind.LOST and not state.ended:
        return "the lost deal to close the handoff"
    if state.ended:
        return None  # the run returns; children of a lost deal are cancelled, not awaited
    if sent.stage is StageKind.WON and state.facts.won_at is None:
        return "the won deal to reach the handoff"
    if state.owners.awaiting_csm:
        return "the CSM choice"
    facts, children = state.facts, state.children
    if facts.kickoff_at is not None and ChildKind.ONBOARDING not in children:
        return "onboarding to start"
    if facts.post_check_requested_at is not None and ChildKind.POST_CHECK not in children:
        return "the 30-day check to start"
    horizon = through + SAME_SECOND
    wake = HandoffMachine(state, policy).next_wake()
    if wake is not None and wake[0] < horizon:
        return wake[0]
    onboarding = children.get(ChildKind.ONBOARDING)
    if onboarding is not None and onboarding.finished_at is None:
        close = state.deal.closed_at or facts.won_at
        hand_over = transition_due(policy.onboarding, close, policy.calendar) if close else None
        if hand_over is not None and hand_over < horizon:
            return hand_over
        if milestones_complete(policy.onboarding, state.milestones):
            return "onboarding to hand over"
    if _milestones_heard(state) < sent.milestones:
        return "a milestone to reach the handoff"
    check = children.get(ChildKind.POST_CHECK)
    if check is not None and check.finished_at is None:
        answer_by = policy.calendar.add(state.deadlines[SlaName.POST_CHECK].due, policy.post_check.answer_window)
        if answer_by < horizon:
            return answer_by
        if sent.answered:
            return "the 30-day check to conclude"
    return None


def _milestones_heard(state: HandoffState) -> int:
    return sum(
        1
        for entry in state.timeline
        if entry.kind is Kind.MILESTONE
        or (entry.kind is Kind.MESSAGE_IGNORED and entry.details.get("message") == "milestone_reached")
    )
