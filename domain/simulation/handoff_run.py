"""One handoff and its two children on the virtual clock, stepped the way their workflows step them.

The handoff workflow's loop, which this mirrors: run the effects the rules asked for; apply the
signals that came in (one at a time, each after the run's own timers due by then); close once the
handoff has ended; else sleep until the next timer, a message, a signal or an outside call's answer,
and on waking let the rules see the time (`tick`). A child's timer or message becomes a signal to the
handoff, as the child workflows send one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from domain import messages as m
from domain.deal import Deal
from domain.directory import Directory
from domain.document import HandoffDocument
from domain.errors import Refused
from domain.ids import onboarding_workflow_id, post_check_workflow_id
from domain.machine import HandoffMachine
from domain.onboarding import UsageReport
from domain.policy import Policy
from domain.scenario import MessageType, TimedMessage
from domain.simulation.assignments import Assignments
from domain.simulation.effects import ChildRuns, Reply, SimulatedEffects
from domain.simulation.routing import Refusal, refusal, unreachable

# A person's message to the handoff: its check (refuses, changes nothing) and its apply.
_Check = Callable[[HandoffMachine, Any], None]
_Apply = Callable[[HandoffMachine, Any, datetime], None]
_TO_HANDOFF: dict[MessageType, tuple[_Check, _Apply]] = {
    MessageType.DOCUMENT: (HandoffMachine.check_document, HandoffMachine.apply_document),
    MessageType.CSM: (HandoffMachine.check_csm, HandoffMachine.apply_csm),
    MessageType.INTAKE_REVIEW: (HandoffMachine.check_intake, HandoffMachine.apply_intake),
    MessageType.INTRO: (HandoffMachine.check_intro, HandoffMachine.apply_intro),
    MessageType.FIRST_TOUCH: (HandoffMachine.check_first_touch, HandoffMachine.apply_first_touch),
    MessageType.KICKOFF: (HandoffMachine.check_kickoff, HandoffMachine.apply_kickoff),
    MessageType.AE_DEPARTURE: (HandoffMachine.check_ae_departure, HandoffMachine.apply_ae_departure),
    MessageType.EXTEND_DEADLINE: (HandoffMachine.check_extension, HandoffMachine.apply_extension),
}


class HandoffRun:
    def __init__(
        self,
        workflow_id: str,
        deal: Deal,
        policy: Policy,
        assignments: Assignments,
        usage: UsageReport,
        document: HandoffDocument | None = None,
        won: bool = True,
        directory: Directory | None = None,
        notices: bool = True,
    ) -> None:
        self.machine = HandoffMachine.new(workflow_id, deal, policy)
        self.refusals: list[Refusal] = []
        self.closed = False  # the workflow has returned: nothing reaches it any more
        self._deal, self._document, self._won = deal, document, won
        self._assignments = assignments
        self._children = ChildRuns()
        self._inbox: list[Reply] = []  # signals to the handoff, applied by its loop
        self._replies: list[Reply] = []  # outside calls' answers, applied as they arrive
        self._effects = SimulatedEffects(
            self.machine, self._children, assignments, usage, self._replies.append, directory, notices
        )

    @property
    def workflow_id(self) -> str:
        return self.machine.state.workflow_id

    def start(self, now: datetime) -> None:
        # The win reaches Baton as the run starts (a scenario's close, a recorded handoff's win).
        self.machine.start(self._deal, self._document, self._won, now, learned_at=now if self._won else None)
        self._until_quiet(now)

    def wake_at(self) -> datetime | None:
        """The run's next timer: the handoff's own, or a running child's."""
        if self.closed:
            return None
        wakes = [when for when in (self._own_wake(), self._child_wake()) if when is not None]
        return min(wakes) if wakes else None

    def fire(self, now: datetime) -> None:
        """The timers due by `now`: the handoff's own first, then its children's."""
        self.machine.tick(now)
        self._until_quiet(now)

    def deliver(self, message: TimedMessage, now: datetime) -> None:
        """A scenario message; refused ones are kept in `refusals`."""
        refused = unreachable(self.machine.state, message.type)
        if refused is not None:
            self._refuse(message, now, refused)
            return
        try:
            self._send(message.type, message.body, now)
        except Refused as err:
            self._refuse(message, now, err)
            return
        self.machine.tick(now)
        self._until_quiet(now)

    # ---- private --------------------------------------------------------------------------------

    def _send(self, type: MessageType, body: BaseModel, now: datetime) -> None:
        if type is MessageType.STAGE:
            assert isinstance(body, m.StageChanged)
            self._inbox.append(
                lambda at: self.machine.stage_changed(body.kind, body.stage, body.deal, body.document, at)
            )
        elif type is MessageType.MILESTONE:
            self._milestone(body, now)
        elif type is MessageType.POST_CHECK:
            self._answers(body, now)
        else:
            check, apply = _TO_HANDOFF[type]
            check(self.machine, body)
            apply(self.machine, body, now)

    def _milestone(self, body: BaseModel, now: datetime) -> None:
        onboarding = self._children.onboarding
        assert onboarding is not None and isinstance(body, m.MilestoneReached)  # routing let it through
        onboarding.check_milestone(body)
        signal = onboarding.apply_milestone(body, now)
        self._inbox.append(lambda at: self.machine.milestone(signal, at))
        if onboarding.milestones_complete():
            # The child hands over once its signal has gone; the handoff hears of both in order.
            self.machine.tick(now)
            self._until_quiet(now)
            self._hand_over(by_milestones=True)

    def _answers(self, body: BaseModel, now: datetime) -> None:
        check = self._children.post_check
        assert isinstance(body, m.PostCheckAnswers)
        if check is None:
            # Before the check starts, the handoff keeps the answers for it (or refuses them).
            self.machine.check_post_check_answers(body, now)
            self.machine.apply_post_check_answers(body, now)
            return
        check.check_answers(body)
        check.apply_answers(body)
        self._conclude(now)

    def _until_quiet(self, now: datetime) -> None:
        """Everything that happens at `now`, in the workflow loop's order, until the run sleeps."""
        while True:
            self._settle(now)
            if self._inbox:
                self._inbox.pop(0)(now)
                self.machine.tick(now)
                continue
            if self.machine.state.ended:
                self._close(now)
                return
            own = self._own_wake()
            if own is not None and own <= now:
                self.machine.tick(now)
                continue
            if self._replies:
                self._replies.pop(0)(now)
                self.machine.tick(now)
                continue
            if not self._child_timer(now):
                return

    def _settle(self, now: datetime) -> None:
        while self.machine.effects:
            self._effects.run(self.machine.effects.pop(0), now)

    def _child_timer(self, now: datetime) -> bool:
        """A child whose own timer is due by `now` finishes; False: none is."""
        onboarding, check = self._children.onboarding, self._children.post_check
        if onboarding is not None and onboarding.done is None:
            due = onboarding.hand_over_at
            if due is not None and due <= now:
                self._hand_over(by_milestones=False)
                return True
        # Answers kept by the handoff before the check started are there at its start: it concludes.
        if check is not None and check.result is None and (check.answer_by <= now or check.answers is not None):
            self._conclude(now)
            return True
        return False

    def _hand_over(self, by_milestones: bool) -> None:
        onboarding = self._children.onboarding
        assert onboarding is not None
        onboarding.hand_over(by_milestones)
        signal = onboarding.finished(onboarding_workflow_id(self.workflow_id))
        self._inbox.append(lambda at: self.machine.child_finished(signal, at))

    def _conclude(self, now: datetime) -> None:
        check = self._children.post_check
        assert check is not None
        check.conclude(self._effects.usage, now)
        signal = check.finished(post_check_workflow_id(self.workflow_id))
        self._inbox.append(lambda at: self.machine.child_finished(signal, at))

    def _close(self, now: datetime) -> None:
        """The handoff ended: the workflow waits for its outside calls, then returns."""
        while self._replies:
            self._replies.pop(0)(now)
        self.closed = True
        self._assignments.ended(self.workflow_id)

    def _own_wake(self) -> datetime | None:
        wake = self.machine.next_wake()
        return wake[0] if wake else None

    def _child_wake(self) -> datetime | None:
        onboarding, check = self._children.onboarding, self._children.post_check
        wakes = []
        if onboarding is not None and onboarding.done is None and onboarding.hand_over_at is not None:
            wakes.append(onboarding.hand_over_at)
        if check is not None and check.result is None:
            wakes.append(check.answer_by)
        return min(wakes) if wakes else None

    def _refuse(self, message: TimedMessage, now: datetime, refused: Refused) -> None:
        self.refusals.append(refusal(now, message.type, refused, self.machine.state))
