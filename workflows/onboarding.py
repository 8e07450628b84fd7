"""OnboardingTransitionWorkflow: tracks onboarding milestones and hands the customer over to CS."""

from __future__ import annotations

import asyncio

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.notify import NotifyActivities
    from domain.child_runs import OnboardingRun
    from domain.errors import Refused
    from domain.messages import MilestoneReached
    from domain.onboarding import OnboardingInput, OnboardingSummary
    from workflows.call_policy import ATTEMPT_TIMEOUT, RETRY_THROUGH_OUTAGES
    from workflows.message_names import HandoffSignal, OnboardingMessage
    from workflows.wake_timers import TIMERS_NEVER_CANCELLED, WakeTimers

_TIME_TRIGGER = "onboarding-to-CS transition (time trigger)"


@workflow.defn
class OnboardingTransitionWorkflow:
    """Update `milestone` (one per onboarding milestone); query `summary`. Hands over on the policy's
    trigger (milestones, time, or whichever first), then tells CS and the parent handoff."""

    @workflow.init
    def __init__(self, input: OnboardingInput) -> None:
        self._run = OnboardingRun(input)
        self._forwarding: list[asyncio.Task[None]] = []

    @workflow.run
    async def run(self, input: OnboardingInput) -> OnboardingSummary:
        by_milestones = await self._wait_for_trigger()
        summary = self._run.hand_over(by_milestones)
        await workflow.wait_condition(workflow.all_handlers_finished)
        await asyncio.gather(*self._forwarding)
        workflow_id = workflow.info().workflow_id
        if input.tells_cs:
            await workflow.execute_activity_method(
                NotifyActivities.notify,
                self._run.introduction(workflow_id),
                start_to_close_timeout=ATTEMPT_TIMEOUT,
                retry_policy=RETRY_THROUGH_OUTAGES,
                summary="notify: CS introduction",
            )
        parent = workflow.get_external_workflow_handle(input.parent_id)
        await parent.signal(HandoffSignal.CHILD_FINISHED, self._run.finished(workflow_id))
        return summary

    @workflow.update(name=OnboardingMessage.MILESTONE)
    def milestone(self, msg: MilestoneReached) -> OnboardingSummary:
        signal = self._run.apply_milestone(msg, workflow.now())
        # The caller gets its answer at once; the parent hears of it in the background.
        parent = workflow.get_external_workflow_handle(self._run.input.parent_id)
        self._forwarding.append(asyncio.create_task(parent.signal(HandoffSignal.MILESTONE_REACHED, signal)))
        return self._run.summary()

    @milestone.validator
    def _check_milestone(self, msg: MilestoneReached) -> None:
        try:
            self._run.check_milestone(msg)
        except Refused as refused:
            raise ApplicationError(refused.message, type=refused.type.value) from None

    @workflow.query(name=OnboardingMessage.SUMMARY)
    def summary(self) -> OnboardingSummary:
        return self._run.summary()

    async def _wait_for_trigger(self) -> bool:
        """True: the milestones handed over; False: the time trigger did."""
        due = self._run.hand_over_at
        if workflow.patched(TIMERS_NEVER_CANCELLED):
            return await WakeTimers().wait(self._run.milestones_complete, due, _TIME_TRIGGER)
        timeout = max((due - workflow.now()).total_seconds(), 0) if due else None
        try:
            await workflow.wait_condition(self._run.milestones_complete, timeout=timeout, timeout_summary=_TIME_TRIGGER)
        except TimeoutError:
            return False
        return True
