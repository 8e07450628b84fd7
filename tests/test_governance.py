"""The monthly governance review: the activity on both stores, the workflow on the time-skipping server,
and its schedule on a dev server (the time-skipping server does not implement schedules)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date

import pytest
import pytest_asyncio
from temporalio.client import ScheduleRange
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment
from temporalio.worker import Worker

from activities.notify import NotifyActivities
from activities.report_activities import GovernanceRequest, ReportActivities
from domain.scoring import Tier
from infra.temporal_binaries import dev_server_path
from infra.temporal_client import data_converter
from store import repository
from store.engine import make_engine, session_scope
from store.migrate import upgrade
from tests.test_reports import ENT, MID, at, handoff, record_examples
from tests.workers import RecordingSink
from workflows.governance import ALERT_TO, GovernanceInput, MonthlyGovernanceWorkflow, _previous_month
from workflows.governance_schedule import SCHEDULE_ID, ensure_schedule


@pytest.fixture
def loaded(store):
    """The hand-worked handoffs of tests/test_reports.py, in the store."""
    with session_scope(store.engine) as session:
        record_examples(session)
    return store


@pytest.mark.parametrize(("threshold", "expected"), [(80.0, []), (101.0, ["overall", ENT, MID])])
def test_governance_activity(loaded, threshold, expected):
    review = ActivityEnvironment().run(
        ReportActivities(loaded.engine).governance, GovernanceRequest(month=date(2026, 4, 30), threshold=threshold)
    )
    # See tests/test_reports.py: March 95% overall (h1, h2), April 80% (h3, h4, h5).
    assert (review.previous.month, review.current.month) == ("2026-03", "2026-04")
    assert (review.previous.overall.completion_rate, review.current.overall.completion_rate) == (95.0, 80.0)
    assert review.root_cause == expected


def month_of(completeness: dict[str, tuple[float, float]]) -> list:
    """Handoffs per team with March's and April's completeness."""
    states = []
    for team, (march, april) in completeness.items():
        for month, value in ((3, march), (4, april)):
            states.append(handoff(f"{team}-{month}", at(month, 10), team=team, quality=(value, Tier.GAPS, value, 0)))
    return states


async def review(env, tmp_path, states, month: date | None, threshold: float = 80.0):
    url = f"sqlite:///{tmp_path}/governance-{uuid.uuid4().hex[:6]}.db"
    upgrade(url)
    engine = make_engine(url)
    with session_scope(engine) as session:
        for state in states:
            repository.record_state(session, state)
    sink = RecordingSink()
    task_queue = f"tq-{uuid.uuid4()}"
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            async with Worker(
                env.client,
                task_queue=task_queue,
                workflows=[MonthlyGovernanceWorkflow],
                activities=[ReportActivities(engine).governance, NotifyActivities([sink]).notify],
                activity_executor=pool,
            ):
                result = await env.client.execute_workflow(
                    MonthlyGovernanceWorkflow.run,
                    GovernanceInput(month=month, threshold=threshold),
                    id=f"baton-governance-{uuid.uuid4().hex[:6]}",
                    task_queue=task_queue,
                )
    finally:
        engine.dispose()
    return result, sink.sent


async def test_two_months_under_80_alert(env, tmp_path):
    # Enterprise 70 then 75; mid-market 90 then 70; overall (70 + 90) / 2 = 80 then (75 + 70) / 2 = 72.5.
    states = month_of({ENT: (70, 75), MID: (90, 70)})
    result, sent = await review(env, tmp_path, states, date(2026, 4, 1))
    assert result.alerted is True and result.review.root_cause == [ENT]
    assert (result.review.current.overall.completion_rate, result.review.previous.overall.completion_rate) == (
        72.5,
        80.0,
    )
    assert [(n.event, n.to) for n in sent] == [("governance_report", ["revops"]), ("governance_alert", ALERT_TO)]
    report, alert = sent
    assert (
        report.key == "governance-2026-04-report"
        and "enterprise: 1 handoffs, completion 75.0% (was 70.0%)" in report.text
    )
    assert alert.details == {"groups": [ENT], "threshold": 80.0} and "root-cause analysis" in alert.text


async def test_overall_under_80_two_months_alerts(env, tmp_path):
    result, sent = await review(env, tmp_path, month_of({ENT: (60, 79), MID: (90, 70)}), date(2026, 4, 20))
    assert result.review.root_cause == ["overall", ENT]  # overall 75 then 74.5
    assert [n.event for n in sent] == ["governance_report", "governance_alert"]


async def test_above_80_sends_only_the_report(env, tmp_path):
    result, sent = await review(env, tmp_path, month_of({ENT: (70, 85), MID: (90, 100)}), date(2026, 4, 1))
    assert result.alerted is False and result.review.root_cause == []
    assert [n.event for n in sent] == ["governance_report"]


async def test_without_a_month_reviews_the_previous_one(env, tmp_path):
    result, sent = await review(env, tmp_path, [], None)
    expected = _previous_month((await env.get_current_time()).date())
    assert result.review.current.month == expected.strftime("%Y-%m")
    assert result.review.current.overall.handoffs == 0 and result.alerted is False
    assert "no handoffs" in sent[0].text


@pytest.mark.parametrize(
    ("today", "expected"), [(date(2026, 1, 1), date(2025, 12, 1)), (date(2026, 3, 31), date(2026, 2, 1))]
)
def test_previous_month(today, expected):
    assert _previous_month(today) == expected


# --- the schedule -------------------------------------------------------------------------------


@pytest_asyncio.fixture(scope="module")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    environment = await WorkflowEnvironment.start_local(
        dev_server_existing_path=dev_server_path(), data_converter=data_converter()
    )
    yield environment
    await environment.shutdown()


async def test_ensure_schedule_creates_once(dev_env):
    assert await ensure_schedule(dev_env.client, "baton") is True
    assert await ensure_schedule(dev_env.client, "other-queue") is False  # left as it was
    described = await dev_env.client.get_schedule_handle(SCHEDULE_ID).describe()
    [calendar] = described.schedule.spec.calendars
    assert (calendar.day_of_month, calendar.hour, calendar.minute) == (
        (ScheduleRange(1),),
        (ScheduleRange(6),),
        (ScheduleRange(0),),
    )
    upcoming = described.info.next_action_times[:2]
    assert upcoming and all((t.astimezone(UTC).day, t.astimezone(UTC).hour, t.minute) == (1, 6, 0) for t in upcoming)
    action = described.schedule.action
    assert action.workflow == "MonthlyGovernanceWorkflow" and action.task_queue == "baton"
    assert "Monthly handoff governance" in (described.schedule.state.note or "")
    assert (await described.memo())["owner"] == "revops"
