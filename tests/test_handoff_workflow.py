"""The handoff workflow on the time-skipping server: the main path, gates and refusals."""

import pytest
from temporalio import workflow
from temporalio.client import WorkflowUpdateFailedError

from domain.errors import ErrorType
from domain.messages import FirstTouch, IntakeReviewInput, IntroAction, IntroUpdate, KickoffHeld
from domain.state import DeadlineStatus, Phase
from domain.timeline import Kind
from tests.conftest import assert_eventually
from tests.handoffs import READY_DOCUMENT, deal, start_handoff
from workflows.handoff import DealHandoffWorkflow
from workflows.message_names import (
    HandoffQuery,
    HandoffSignal,
    HandoffUpdate,
    OnboardingMessage,
    PostCheckMessage,
)
from workflows.onboarding import OnboardingTransitionWorkflow
from workflows.post_check import PostHandoffCheckWorkflow


async def test_structured_handoff_main_path(rig_factory, env):
    async with rig_factory() as rig:
        now = await env.get_current_time()
        handle = await start_handoff(rig, deal(closed_at=now), document=READY_DOCUMENT)

        async def briefed_phase():
            state = await handle.query(DealHandoffWorkflow.state)
            assert state.phase is Phase.INTAKE_REVIEW and state.owners.csm
            return state

        state = await assert_eventually(briefed_phase)
        assert state.approach.approach.value == "structured"
        assert state.quality.tier.value == "ready"
        assert {d.value for d in state.deadlines} >= {
            "csm_briefed",
            "cs_first_touch",
            "intro_scheduled",
            "intro_held",
            "kickoff",
            "post_check",
        }

        state = await handle.execute_update(
            DealHandoffWorkflow.intake_review, IntakeReviewInput(rating=4, by=state.owners.csm)
        )
        assert state.deadlines["csm_briefed"].status is DeadlineStatus.MET
        assert state.phase is Phase.INTRO
        state = await handle.execute_update(DealHandoffWorkflow.intro, IntroUpdate(action=IntroAction.SCHEDULED))
        assert state.commission.released
        state = await handle.execute_update(DealHandoffWorkflow.first_touch, FirstTouch(channel="email"))
        state = await handle.execute_update(DealHandoffWorkflow.intro, IntroUpdate(action=IntroAction.HELD))
        assert state.phase is Phase.KICKOFF
        state = await handle.execute_update(DealHandoffWorkflow.kickoff, KickoffHeld(success_plan=["SSO live"]))
        assert state.phase is Phase.ONBOARDING
        assert not state.sla_breached
        kinds = [entry.kind for entry in state.timeline]
        assert Kind.COMMISSION_RELEASED in kinds


async def test_intro_held_before_scheduled_is_refused(rig_factory, env):
    async with rig_factory() as rig:
        now = await env.get_current_time()
        handle = await start_handoff(rig, deal(closed_at=now), document=READY_DOCUMENT)
        await assert_eventually(lambda: _started(handle))
        with pytest.raises(WorkflowUpdateFailedError) as err:
            await handle.execute_update(DealHandoffWorkflow.intro, IntroUpdate(action=IntroAction.HELD))
        assert "before it is scheduled" in str(err.value.cause)
        assert err.value.cause.type == ErrorType.INVALID_TRANSITION.value
        with pytest.raises(WorkflowUpdateFailedError) as err:
            await handle.execute_update(DealHandoffWorkflow.intake_review, IntakeReviewInput(rating=7))
        assert err.value.cause.type == ErrorType.INVALID_VALUE.value


async def _started(handle):
    state = await handle.query(DealHandoffWorkflow.state)
    assert state.quality is not None
    return state


def _names(cls: type, kind: str) -> set[str]:
    return set(getattr(workflow._Definition.must_from_class(cls), kind))


def _constants(names: type) -> set[str]:
    return {value for key, value in vars(names).items() if key.isupper()}


@pytest.mark.unit
@pytest.mark.parametrize(
    ("receiver", "kind", "names"),
    [
        (DealHandoffWorkflow, "signals", HandoffSignal),
        (DealHandoffWorkflow, "updates", HandoffUpdate),
        (DealHandoffWorkflow, "queries", HandoffQuery),
        (OnboardingTransitionWorkflow, "updates", {OnboardingMessage.MILESTONE}),
        (OnboardingTransitionWorkflow, "queries", {OnboardingMessage.SUMMARY}),
        (PostHandoffCheckWorkflow, "updates", {PostCheckMessage.ANSWERS}),
        (PostHandoffCheckWorkflow, "queries", {PostCheckMessage.RESULT}),
    ],
)
def test_each_workflow_is_messaged_by_the_names_defined_once(receiver, kind, names):
    """What a child signals its parent by, and every name in a saved history, is one the receiver
    registers: a handler renamed in Python cannot rename its message on the wire."""
    expected = names if isinstance(names, set) else _constants(names)
    assert _names(receiver, kind) == expected
