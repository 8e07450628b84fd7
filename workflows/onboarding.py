"""OnboardingTransitionWorkflow: tracks onboarding milestones and hands the customer over to CS."""

from __future__ import annotations

import asyncio
from datetime import datetime

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.notify import NotifyActivities
    from domain.errors import ErrorType
    from domain.messages import ChildFinished, MilestoneReached, MilestoneSignal
    from domain.notifications import Notification
    from domain.onboarding import OnboardingInput, OnboardingSummary, milestones_complete, summarise, transition_due
    from domain.onboarding_policy import Milestone
    from domain.state import ChildKind
    from workflows.call_policy import ATTEMPT_TIMEOUT, RETRY_THROUGH_OUTAGES
    from workflows.message_names import HandoffSignal, OnboardingMessage


@workflow.defn
class OnboardingTransitionWorkflow:
    """Update `milestone` (one per onboarding milestone); query `summary`. Hands over on the policy's
    trigger (milestones, time, or whichever first), then tells CS and the parent handoff."""

    @workflow.init
    def __init__(self, input: OnboardingInput) -> None:
        self._input = input
        self._reached: dict[Milestone, datetime] = {}
        self._notes: list[MilestoneReached] = []
        self._done: OnboardingSummary | None = None
        self._forwarding: list[asyncio.Task[None]] = []

    @workflow.run
    async def run(self, input: OnboardingInput) -> OnboardingSummary:
        due = transition_due(input.policy, input.closed_at)
        timeout = max((due - workflow.now()).total_seconds(), 0) if due else None
        trigger = "milestones"
        try:
            await workflow.wait_condition(
                lambda: milestones_complete(input.policy, self._reached),
                timeout=timeout,
                timeout_summary="onboarding-to-CS transition (time trigger)",
            )
        except TimeoutError:
            trigger = "time"
        summary = summarise(input.policy, self._notes, self._reached, trigger)
        self._done = summary
        await workflow.wait_condition(workflow.all_handlers_finished)
        await asyncio.gather(*self._forwarding)
        await workflow.execute_activity_method(
            NotifyActivities.notify,
            Notification(
                key=f"{workflow.info().workflow_id}:cs-introduction",
                workflow_id=input.parent_id,
                event="cs_introduction",
                to=["csm", "customer"],
                subject="Introducing your CS manager",
                text=f"Onboarding of {input.deal.account} is {summary.completion}% complete; CS takes over now.",
                details=summary.model_dump(mode="json"),
            ),
            start_to_close_timeout=ATTEMPT_TIMEOUT,
            retry_policy=RETRY_THROUGH_OUTAGES,
            summary="notify: CS introduction",
        )
        parent = workflow.get_external_workflow_handle(input.parent_id)
        await parent.signal(
            HandoffSignal.CHILD_FINISHED,
            ChildFinished(
                kind=ChildKind.ONBOARDING,
                workflow_id=workflow.info().workflow_id,
                passed=True,
                summary=summary.model_dump(mode="json"),
            ),
        )
        return summary

    @workflow.update(name=OnboardingMessage.MILESTONE)
    def milestone(self, msg: MilestoneReached) -> OnboardingSummary:
        now = workflow.now()
        self._reached[msg.milestone] = now
        self._notes.append(msg)
        # The caller gets its answer at once; the parent hears of it in the background.
        parent = workflow.get_external_workflow_handle(self._input.parent_id)
        self._forwarding.append(
            asyncio.create_task(
                parent.signal(HandoffSignal.MILESTONE_REACHED, MilestoneSignal(milestone=msg.milestone, at=now))
            )
        )
        return summarise(self._input.policy, self._notes, self._reached, "pending")

    @milestone.validator
    def _check_milestone(self, msg: MilestoneReached) -> None:
        if self._done is not None:
            raise ApplicationError("onboarding has already handed over to CS", type=ErrorType.INVALID_TRANSITION.value)
        if msg.milestone in self._reached:
            raise ApplicationError(
                f"{msg.milestone.value} was already reached", type=ErrorType.INVALID_TRANSITION.value
            )

    @workflow.query(name=OnboardingMessage.SUMMARY)
    def summary(self) -> OnboardingSummary:
        return self._done or summarise(self._input.policy, self._notes, self._reached, "pending")
