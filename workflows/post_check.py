"""PostHandoffCheckWorkflow: the check 30 days after close that the transition really worked."""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.usage import UsageActivities, UsageRequest
    from domain.child_runs import PostCheckRun
    from domain.errors import Refused
    from domain.messages import PostCheckAnswers
    from domain.onboarding import PostCheckInput, PostCheckResult, UsageReport
    from workflows.call_policy import ATTEMPT_TIMEOUT, RETRY_THROUGH_OUTAGES, USAGE_WITHIN
    from workflows.message_names import HandoffSignal, PostCheckMessage
    from workflows.wake_timers import TIMERS_NEVER_CANCELLED, WakeTimers

_WINDOW = "post_check: waiting for the CSM's answers"


@workflow.defn
class PostHandoffCheckWorkflow:
    """Update `answers` (the CSM's answers); query `result`. Checks milestones on schedule, product
    usage, concerns raised and the CSM's context; the parent escalates any failure to the CS manager."""

    @workflow.init
    def __init__(self, input: PostCheckInput) -> None:
        self._run = PostCheckRun(input, workflow.now())

    @workflow.run
    async def run(self, input: PostCheckInput) -> PostCheckResult:
        usage = await self._usage(input)
        answered = lambda: self._run.answers is not None  # noqa: E731 (read at each wake-up)
        if workflow.patched(TIMERS_NEVER_CANCELLED):
            await WakeTimers().wait(answered, self._run.answer_by, _WINDOW)
        else:
            try:
                await workflow.wait_condition(
                    answered, timeout=input.policy.answer_window.as_timedelta(), timeout_summary=_WINDOW
                )
            except TimeoutError:
                pass
        result = self._run.conclude(usage, workflow.now())
        await workflow.wait_condition(workflow.all_handlers_finished)
        parent = workflow.get_external_workflow_handle(input.parent_id)
        await parent.signal(HandoffSignal.CHILD_FINISHED, self._run.finished(workflow.info().workflow_id))
        return result

    @workflow.update(name=PostCheckMessage.ANSWERS)
    def answers(self, msg: PostCheckAnswers) -> PostCheckAnswers:
        self._run.apply_answers(msg)
        return msg

    @answers.validator
    def _check_answers(self, msg: PostCheckAnswers) -> None:
        try:
            self._run.check_answers(msg)
        except Refused as refused:
            raise ApplicationError(refused.message, type=refused.type.value) from None

    @workflow.query(name=PostCheckMessage.RESULT)
    def result(self) -> PostCheckResult | None:
        return self._run.result

    async def _usage(self, input: PostCheckInput) -> UsageReport:
        request = UsageRequest(account=input.deal.account, crm=input.deal.crm, deal_id=input.deal.deal_id)
        try:
            return await workflow.execute_activity_method(
                UsageActivities.lookup,
                request,
                start_to_close_timeout=ATTEMPT_TIMEOUT,
                schedule_to_close_timeout=USAGE_WITHIN,
                retry_policy=RETRY_THROUGH_OUTAGES,
                summary="product usage",
            )
        except ActivityError:
            return UsageReport(measured=False, source="unavailable")
