"""The onboarding-to-CS child (milestone, time, hybrid trigger) and the 30-day post-handoff check."""

from datetime import timedelta

import pytest
from temporalio.client import WorkflowExecutionStatus, WorkflowUpdateFailedError
from temporalio.service import RPCError

from domain.check_failures import CheckFailureKind
from domain.ids import onboarding_workflow_id, post_check_workflow_id
from domain.messages import (
    FirstTouch,
    IntakeReviewInput,
    IntroAction,
    IntroUpdate,
    KickoffHeld,
    MilestoneReached,
    PostCheckAnswers,
    Sentiment,
    StageChanged,
)
from domain.policy import Milestone, Policy
from domain.roles import SlaName
from domain.stages import StageKind
from domain.state import ChildKind, DeadlineStatus, Outcome, Phase
from domain.timeline import Kind
from tests.conftest import assert_eventually
from tests.handoffs import READY_DOCUMENT, deal, start_handoff
from workflows.handoff import DealHandoffWorkflow
from workflows.onboarding import OnboardingTransitionWorkflow
from workflows.post_check import PostHandoffCheckWorkflow


async def to_onboarding(rig, env, policy=None):
    now = await env.get_current_time()
    handle = await start_handoff(rig, deal(closed_at=now), policy=policy, document=READY_DOCUMENT)

    async def ready():
        state = await handle.query(DealHandoffWorkflow.state)
        assert state.phase is Phase.INTAKE_REVIEW

    await assert_eventually(ready)
    await handle.execute_update(DealHandoffWorkflow.intake_review, IntakeReviewInput(rating=4))
    await handle.execute_update(DealHandoffWorkflow.first_touch, FirstTouch(channel="call"))
    await handle.execute_update(DealHandoffWorkflow.intro, IntroUpdate(action=IntroAction.SCHEDULED))
    await handle.execute_update(DealHandoffWorkflow.intro, IntroUpdate(action=IntroAction.HELD))
    state = await handle.execute_update(
        DealHandoffWorkflow.kickoff, KickoffHeld(success_plan=["SSO", "first campaign"])
    )
    assert state.phase is Phase.ONBOARDING
    child = rig.client.get_workflow_handle_for(OnboardingTransitionWorkflow.run, onboarding_workflow_id(handle.id))
    await assert_eventually(lambda: _child_running(child))
    return now, handle, child


async def _child_running(child):
    try:
        await child.query(OnboardingTransitionWorkflow.summary)
    except RPCError as err:  # not started yet
        raise AssertionError(err.message) from None


async def reach(child, *milestones, **note):
    for milestone in milestones:
        await child.execute_update(
            OnboardingTransitionWorkflow.milestone, MilestoneReached(milestone=milestone, **note)
        )


async def test_hybrid_trigger_hands_over_when_milestones_come_first(rig_factory, env):
    async with rig_factory() as rig:
        _, handle, child = await to_onboarding(rig, env)
        await reach(child, Milestone.SETUP_COMPLETE, Milestone.TRAINING_DONE)
        await reach(
            child, Milestone.ACTIVATION_ACHIEVED, sentiment=Sentiment.POSITIVE, expansion_signals=["more seats"]
        )
        await reach(child, Milestone.FIRST_VALUE, risks=["champion on leave in May"])
        summary = await child.result()
        assert summary.trigger == "milestones" and summary.completion == 100.0 and summary.activation_achieved
        assert summary.expansion_signals == ["more seats"] and summary.risks == ["champion on leave in May"]
        assert summary.sentiment is Sentiment.POSITIVE

        async def transitioned():
            state = await handle.query(DealHandoffWorkflow.state)
            assert state.phase is Phase.TRANSITIONED
            return state

        state = await assert_eventually(transitioned)
        assert set(state.milestones) == set(Milestone)
        assert "cs_introduction" in [n.event for n in rig.sink.sent]
        with pytest.raises((WorkflowUpdateFailedError, RPCError)):  # the child has closed
            await reach(child, Milestone.FIRST_VALUE)


async def test_hybrid_trigger_hands_over_at_30_days_when_milestones_lag(rig_factory, env):
    async with rig_factory() as rig:
        now, handle, child = await to_onboarding(rig, env)
        await reach(child, Milestone.SETUP_COMPLETE)
        await env.sleep(timedelta(days=30, minutes=1) - (await env.get_current_time() - now))
        summary = await child.result()
        assert summary.trigger == "time" and summary.completion == 25.0
        assert summary.open_items == [Milestone.TRAINING_DONE, Milestone.ACTIVATION_ACHIEVED, Milestone.FIRST_VALUE]


async def test_milestone_trigger_waits_past_30_days(rig_factory, env):
    async with rig_factory() as rig:
        policy = Policy.model_validate(
            {"onboarding": {"trigger": "milestone", "required_milestones": ["setup_complete"]}}
        )
        _, handle, child = await to_onboarding(rig, env, policy)
        await env.sleep(timedelta(days=31))
        assert (await child.query(OnboardingTransitionWorkflow.summary)).trigger == "pending"
        await reach(child, Milestone.SETUP_COMPLETE)
        assert (await child.result()).trigger == "milestones"


async def test_time_trigger_ignores_milestones(rig_factory, env):
    async with rig_factory() as rig:
        policy = Policy.model_validate({"onboarding": {"trigger": "time", "after": "10d"}})
        now, handle, child = await to_onboarding(rig, env, policy)
        await reach(child, *Milestone)
        assert (await child.query(OnboardingTransitionWorkflow.summary)).trigger == "pending"
        await env.sleep(timedelta(days=10, minutes=1) - (await env.get_current_time() - now))
        summary = await child.result()
        assert summary.trigger == "time" and summary.completion == 100.0


async def test_post_check_passes_and_the_handoff_closes(rig_factory, env):
    async with rig_factory() as rig:
        now, handle, child = await to_onboarding(rig, env)
        await reach(child, *Milestone)
        await env.sleep(timedelta(days=30, minutes=1) - (await env.get_current_time() - now))
        check = rig.client.get_workflow_handle_for(PostHandoffCheckWorkflow.run, post_check_workflow_id(handle.id))
        await assert_eventually(lambda: _started(check))
        await check.execute_update(PostHandoffCheckWorkflow.answers, PostCheckAnswers(enough_context=True))
        result = await check.result()
        assert result.passed, result.failures
        state = await handle.result()
        assert state.outcome is Outcome.HANDED_OFF and state.phase is Phase.CLOSED
        assert state.deadlines[SlaName.POST_CHECK].status is DeadlineStatus.MET
        assert Kind.CHECK_PASSED in [e.kind for e in state.timeline]


@pytest.mark.parametrize(
    ("answers", "users", "kind", "expected"),
    [
        (PostCheckAnswers(enough_context=False), 5, CheckFailureKind.CSM_LACKS_CONTEXT, "lacks the context"),
        (
            PostCheckAnswers(enough_context=True, concerns=["reports are slow"]),
            5,
            CheckFailureKind.CONCERN_RAISED,
            "concern raised: reports are slow",
        ),
        (PostCheckAnswers(enough_context=True), 0, CheckFailureKind.LOW_USAGE, "usage: 0 active users"),
        (None, 5, CheckFailureKind.UNANSWERED, "did not answer"),
    ],
)
async def test_failing_post_check_escalates_to_cs_manager(rig_factory, env, answers, users, kind, expected):
    async with rig_factory() as rig:
        rig.usage.users = users
        now, handle, child = await to_onboarding(rig, env)
        await reach(child, *Milestone)
        await env.sleep(timedelta(days=30, minutes=1) - (await env.get_current_time() - now))
        check = rig.client.get_workflow_handle_for(PostHandoffCheckWorkflow.run, post_check_workflow_id(handle.id))
        await assert_eventually(lambda: _started(check))
        if answers is not None:
            await check.execute_update(PostHandoffCheckWorkflow.answers, answers)
        else:
            await env.sleep(timedelta(days=8))
        result = await check.result()
        assert not result.passed and [f.kind for f in result.checks_failed] == [kind]
        assert len(result.failures) == 1 and expected in result.failures[0]

        async def escalated():
            state = await handle.query(DealHandoffWorkflow.state)
            assert any(e.sla is SlaName.POST_CHECK and e.to.value == "cs_manager" for e in state.escalations)
            return state

        state = await assert_eventually(escalated)
        failed = [e for e in state.timeline if e.kind is Kind.CHECK_FAILED]
        assert [e.details for e in failed] == [{"sla": "post_check", "failures": result.failures}]


async def test_milestones_late_fail_the_check(rig_factory, env):
    async with rig_factory() as rig:
        now, handle, child = await to_onboarding(rig, env)
        await reach(child, Milestone.SETUP_COMPLETE)
        await env.sleep(timedelta(days=30, minutes=1) - (await env.get_current_time() - now))
        check = rig.client.get_workflow_handle_for(PostHandoffCheckWorkflow.run, post_check_workflow_id(handle.id))
        await assert_eventually(lambda: _started(check))
        await check.execute_update(PostHandoffCheckWorkflow.answers, PostCheckAnswers(enough_context=True))
        result = await check.result()
        assert [f.text for f in result.checks_failed if f.kind is CheckFailureKind.MILESTONE_LATE] == [
            f"milestone {m} not reached by {(now + timedelta(days=d)).astimezone(Policy().calendar.tz).date()}"
            for m, d in (("training_done", 14), ("activation_achieved", 21), ("first_value", 30))
        ]


async def _started(check):
    try:
        await check.query(PostHandoffCheckWorkflow.result)
    except RPCError as err:  # not started yet
        raise AssertionError(err.message) from None


async def test_partner_check_fails_when_the_csm_cannot_name_the_confirmer(rig_factory, env):
    async with rig_factory() as rig:
        now = await env.get_current_time()
        handle = await start_handoff(rig, deal(closed_at=now, channel_partner="Northwind"), document=READY_DOCUMENT)

        async def ready():
            assert (await handle.query(DealHandoffWorkflow.state)).phase is Phase.INTAKE_REVIEW

        await assert_eventually(ready)
        await env.sleep(timedelta(days=30, minutes=1))
        check = rig.client.get_workflow_handle_for(PostHandoffCheckWorkflow.run, post_check_workflow_id(handle.id))
        await assert_eventually(lambda: _started(check))
        await check.execute_update(
            PostHandoffCheckWorkflow.answers, PostCheckAnswers(enough_context=True, partner_confirmed=False)
        )
        await check.result()

        async def escalated():
            state = await handle.query(DealHandoffWorkflow.state)
            assert state.deadlines[SlaName.PARTNER_CHECK].status is DeadlineStatus.BREACHED
            return state

        state = await assert_eventually(escalated)
        assert any(e.sla is SlaName.PARTNER_CHECK and e.to.value == "partner_manager" for e in state.escalations)


async def test_a_concern_that_names_the_partner_fails_the_check_not_the_partners_part(rig_factory, env):
    """The partner's part is settled by the kind of failure, not by a word in a concern's text."""
    async with rig_factory() as rig:
        now = await env.get_current_time()
        handle = await start_handoff(rig, deal(closed_at=now, channel_partner="Northwind"), document=READY_DOCUMENT)

        async def ready():
            assert (await handle.query(DealHandoffWorkflow.state)).phase is Phase.INTAKE_REVIEW

        await assert_eventually(ready)
        await env.sleep(timedelta(days=30, minutes=1))
        check = rig.client.get_workflow_handle_for(PostHandoffCheckWorkflow.run, post_check_workflow_id(handle.id))
        await assert_eventually(lambda: _started(check))
        concern = "the partner's reseller portal shows the wrong invoices"
        answers = PostCheckAnswers(enough_context=True, partner_confirmed=True, concerns=[concern])
        await check.execute_update(PostHandoffCheckWorkflow.answers, answers)
        result = await check.result()
        assert CheckFailureKind.CONCERN_RAISED in [f.kind for f in result.checks_failed]

        async def settled():
            state = await handle.query(DealHandoffWorkflow.state)
            assert not state.deadlines[SlaName.POST_CHECK].open and not state.deadlines[SlaName.PARTNER_CHECK].open
            return state

        state = await assert_eventually(settled)
        assert state.deadlines[SlaName.POST_CHECK].status is DeadlineStatus.BREACHED
        assert state.deadlines[SlaName.PARTNER_CHECK].status is DeadlineStatus.MET
        assert [e.sla for e in state.escalations if e.sla in (SlaName.POST_CHECK, SlaName.PARTNER_CHECK)] == [
            SlaName.POST_CHECK
        ]


async def test_a_lost_deal_cancels_the_onboarding_child(rig_factory, env):
    async with rig_factory() as rig:
        _, handle, child = await to_onboarding(rig, env)
        await reach(child, Milestone.SETUP_COMPLETE)
        await handle.signal(DealHandoffWorkflow.stage_changed, StageChanged(stage="closedlost", kind=StageKind.LOST))
        state = await handle.result()
        assert state.outcome is Outcome.LOST and state.children[ChildKind.ONBOARDING].finished_at is None

        async def cancelled():
            assert (await child.describe()).status is WorkflowExecutionStatus.CANCELED

        await assert_eventually(cancelled)
