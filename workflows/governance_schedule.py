"""The Temporal Schedule that starts the monthly governance review."""

from __future__ import annotations

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
    ScheduleState,
)

from workflows.governance import GovernanceInput, MonthlyGovernanceWorkflow

SCHEDULE_ID = "baton-monthly-governance"
# 06:00 UTC on the 1st: the month just ended is complete, and the report is waiting when RevOps starts.
MONTHLY = ScheduleSpec(calendars=[ScheduleCalendarSpec(day_of_month=[ScheduleRange(1)], hour=[ScheduleRange(6)])])
NOTE = "Monthly handoff governance: completion rate and quality score per CS team for the month just ended."


def governance_schedule(task_queue: str, threshold: float = 80.0) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            MonthlyGovernanceWorkflow.run,
            GovernanceInput(threshold=threshold),
            id="baton-governance",
            task_queue=task_queue,
            static_summary="Monthly handoff governance review",
            static_details=NOTE,
        ),
        spec=MONTHLY,
        # A review that is still retrying its notification should not race the next month's.
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
        state=ScheduleState(note=NOTE),
    )


async def ensure_schedule(client: Client, task_queue: str, schedule_id: str = SCHEDULE_ID) -> bool:
    """Create the schedule; True when created, False when it already existed (then it is left as is,
    so an operator's pause or edit in the UI survives a worker restart)."""
    try:
        await client.create_schedule(
            schedule_id, governance_schedule(task_queue), memo={"owner": "revops", "purpose": NOTE}
        )
    except ScheduleAlreadyRunningError:
        return False
    return True
