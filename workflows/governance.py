"""MonthlyGovernanceWorkflow: RevOps' monthly review of handoff completion and quality (seed, Edge Case 5)."""

from __future__ import annotations

from datetime import date, timedelta

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.notify import NotifyActivities
    from activities.report_activities import GovernanceRequest, GovernanceReview, ReportActivities, governance_text
    from domain.notifications import Notification
    from workflows.call_policy import ATTEMPT_TIMEOUT, RETRY_THROUGH_OUTAGES

# A report read from the store; a database restart is worth waiting out, so retries are patient.
REPORT_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5), backoff_coefficient=2.0, maximum_interval=timedelta(minutes=5)
)
REPORT_TIMEOUT = timedelta(minutes=5)
GIVE_UP_AFTER = timedelta(days=1)
REPORT_TO = ["revops"]
ALERT_TO = ["revops", "sales_manager", "cs_manager"]


class GovernanceInput(BaseModel):
    """`month`: any day of the month to review; None reviews the calendar month before the run's start."""

    month: date | None = None
    threshold: float = 80.0


class GovernanceResult(BaseModel):
    review: GovernanceReview
    alerted: bool


@workflow.defn
class MonthlyGovernanceWorkflow:
    """One review per run, started each month by the `baton-monthly-governance` schedule; no messages."""

    @workflow.run
    async def run(self, input: GovernanceInput) -> GovernanceResult:
        month = input.month or _previous_month(workflow.now().date())
        review = await workflow.execute_activity_method(
            ReportActivities.governance,
            GovernanceRequest(month=month, threshold=input.threshold),
            start_to_close_timeout=REPORT_TIMEOUT,
            schedule_to_close_timeout=GIVE_UP_AFTER,
            retry_policy=REPORT_RETRY,
            summary=f"governance report {month:%Y-%m}",
        )
        label = review.current.month
        await self._notify(
            Notification(
                key=f"governance-{label}-report",
                workflow_id=workflow.info().workflow_id,
                event="governance_report",
                to=REPORT_TO,
                subject=f"Handoff governance report {label}",
                text=governance_text(review),
                details={"review": review.model_dump(mode="json")},
            )
        )
        if review.root_cause:
            await self._notify(
                Notification(
                    key=f"governance-{label}-alert",
                    workflow_id=workflow.info().workflow_id,
                    event="governance_alert",
                    to=ALERT_TO,
                    subject=f"Handoff completion under {input.threshold:g}% two months running ({label})",
                    text=governance_text(review),
                    details={"groups": review.root_cause, "threshold": input.threshold},
                )
            )
        return GovernanceResult(review=review, alerted=bool(review.root_cause))

    async def _notify(self, notification: Notification) -> None:
        await workflow.execute_activity_method(
            NotifyActivities.notify,
            notification,
            start_to_close_timeout=ATTEMPT_TIMEOUT,
            schedule_to_close_timeout=GIVE_UP_AFTER,
            retry_policy=RETRY_THROUGH_OUTAGES,
            summary=notification.event,
        )


def _previous_month(today: date) -> date:
    first = today.replace(day=1)
    return (first - timedelta(days=1)).replace(day=1)
