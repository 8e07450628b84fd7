"""PostHandoffCheckWorkflow: the check 30 days after close that the transition really worked."""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.usage import UsageActivities, UsageRequest
    from domain.errors import ErrorType
    from domain.messages import ChildFinished, PostCheckAnswers
    from domain.onboarding import PostCheckInput, PostCheckResult, UsageReport, evaluate
    from domain.state import ChildKind
    from workflows.call_policy import ATTEMPT_TIMEOUT, RETRY_THROUGH_OUTAGES, USAGE_WITHIN
    from workflows.message_names import HandoffSignal, PostCheckMessage


@workflow.defn
class PostHandoffCheckWorkflow:
    """Update `answers` (the CSM's answers); query `result`. Checks milestones on schedule, product
    usage, concerns raised and the CSM's context; the parent escalates any failure to the CS manager."""

    @workflow.init
    def __init__(self, input: PostCheckInput) -> None:
        self._answers: PostCheckAnswers | None = None
        self._result: PostCheckResult | None = None

    @workflow.run
    async def run(self, input: PostCheckInput) -> PostCheckResult:
        usage = await self._usage(input)
        try:
            await workflow.wait_condition(
                lambda: self._answers is not None,
                timeout=input.policy.answer_window.as_timedelta(),
                timeout_summary="post_check: waiting for the CSM's answers",
            )
        except TimeoutError:
            pass
        result = evaluate(input, usage, self._answers, workflow.now())
        self._result = result
        await workflow.wait_condition(workflow.all_handlers_finished)
        parent = workflow.get_external_workflow_handle(input.parent_id)
        await parent.signal(
            HandoffSignal.CHILD_FINISHED,
            ChildFinished(
                kind=ChildKind.POST_CHECK,
                workflow_id=workflow.info().workflow_id,
                passed=result.passed,
                summary={"failures": result.failures, "usage": result.usage.model_dump(mode="json")},
                checks_failed=result.checks_failed,
            ),
        )
        return result

    @workflow.update(name=PostCheckMessage.ANSWERS)
    def answers(self, msg: PostCheckAnswers) -> PostCheckAnswers:
        self._answers = msg
        return msg

    @answers.validator
    def _check_answers(self, msg: PostCheckAnswers) -> None:
        if self._answers is not None or self._result is not None:
            raise ApplicationError(
                "the 30-day check has already been answered", type=ErrorType.INVALID_TRANSITION.value
            )

    @workflow.query(name=PostCheckMessage.RESULT)
    def result(self) -> PostCheckResult | None:
        return self._result

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
