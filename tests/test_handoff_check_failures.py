"""The 30-day check's failures by kind: how the check reports them, how the parent settles on them, and
how a result or signal written before failures carried their kind still reads."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from domain.check_failures import CheckFailure, CheckFailureKind
from domain.ids import handoff_workflow_id, post_check_workflow_id
from domain.machine import HandoffMachine
from domain.messages import ChildFinished, PostCheckAnswers
from domain.onboarding import PostCheckInput, PostCheckResult, UsageReport, evaluate
from domain.onboarding_policy import Milestone, PostCheckPolicy
from domain.policy import Policy
from domain.roles import SlaName
from domain.state import ChildKind, DeadlineStatus
from tests.handoffs import READY_DOCUMENT, deal

pytestmark = pytest.mark.unit

CLOSE = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # a Monday
DAY_30 = CLOSE + timedelta(days=30, minutes=1)


def test_the_check_reports_each_failure_with_its_kind():
    check = PostCheckInput(
        parent_id="baton-hubspot-1",
        deal=deal(closed_at=CLOSE),
        policy=PostCheckPolicy(),
        schedule={Milestone.TRAINING_DONE: CLOSE + timedelta(days=14)},
        reached={},
        partner=True,
    )
    answers = PostCheckAnswers(enough_context=False, concerns=["the partner's portal is slow"], partner_confirmed=None)
    result = evaluate(check, UsageReport(measured=True, active_users=0), answers, DAY_30)
    assert [f.kind for f in result.checks_failed] == [
        CheckFailureKind.MILESTONE_LATE,
        CheckFailureKind.LOW_USAGE,
        CheckFailureKind.CSM_LACKS_CONTEXT,
        CheckFailureKind.CONCERN_RAISED,
        CheckFailureKind.PARTNER_UNCONFIRMED,
    ]
    # The text form every version of the result carries is the same failures, in the same order.
    assert result.failures == [f.text for f in result.checks_failed]
    assert result.failures[3] == "concern raised: the partner's portal is slow"
    unanswered = evaluate(check.model_copy(update={"schedule": {}}), UsageReport(measured=False), None, DAY_30)
    assert [f.kind for f in unanswered.checks_failed] == [CheckFailureKind.UNANSWERED]


def test_a_result_written_before_kinds_still_decodes():
    """The parent decodes its child's result even though it never awaits it: an old one must decode."""
    old = {
        "passed": False,
        "failures": ["the CSM lacks the context to manage the account", "concern raised: reports are slow"],
        "usage": {"measured": False, "active_users": 0, "source": ""},
        "answers": None,
    }
    result = PostCheckResult.model_validate_json(json.dumps(old))
    assert [f.kind for f in result.checks_failed] == [
        CheckFailureKind.CSM_LACKS_CONTEXT,
        CheckFailureKind.CONCERN_RAISED,
    ]
    assert result.failures == old["failures"]
    # And a new result's JSON keeps the old keys as they were: an older worker reads it too.
    written = json.loads(result.model_dump_json())
    assert written["failures"] == old["failures"] and written["checks_failed"][0]["kind"] == "csm_lacks_context"


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("milestone training_done not reached by 2026-03-16", CheckFailureKind.MILESTONE_LATE),
        ("usage: 0 active users (at least 1 expected)", CheckFailureKind.LOW_USAGE),
        ("the CSM did not answer the 30-day check", CheckFailureKind.UNANSWERED),
        ("the CSM lacks the context to manage the account", CheckFailureKind.CSM_LACKS_CONTEXT),
        ("concern raised: reports are slow", CheckFailureKind.CONCERN_RAISED),
        (
            "partner: the CSM cannot say what the customer wants and who confirms it",
            CheckFailureKind.PARTNER_UNCONFIRMED,
        ),
        # Runs before kinds failed the partner's part on any failure naming a partner; they replay so.
        ("concern raised: the partner's portal is slow", CheckFailureKind.PARTNER_UNCONFIRMED),
        ("", CheckFailureKind.CONCERN_RAISED),
    ],
)
def test_a_failure_from_text_only_gets_the_kind_its_run_was_settled_by(text, kind):
    assert CheckFailure.from_legacy_text(text) == CheckFailure(kind=kind, text=text)


def partner_handoff_at_day_30() -> HandoffMachine:
    won = deal(closed_at=CLOSE, channel_partner="Northwind")
    workflow_id = handoff_workflow_id(won.crm, won.deal_id)
    machine = HandoffMachine.new(workflow_id, won, Policy())
    machine.start(won, READY_DOCUMENT, won=True, now=CLOSE)
    machine.tick(DAY_30)
    machine.child_started(ChildKind.POST_CHECK, post_check_workflow_id(workflow_id), DAY_30)
    machine.effects.clear()
    return machine


def finished(machine: HandoffMachine, **signal) -> None:
    payload = {"kind": "post_check", "workflow_id": machine.state.children[ChildKind.POST_CHECK].workflow_id}
    machine.child_finished(ChildFinished.model_validate({**payload, **signal}), DAY_30 + timedelta(hours=1))


def test_a_concern_that_names_the_partner_leaves_the_partners_part_met():
    machine = partner_handoff_at_day_30()
    concern = CheckFailure(kind=CheckFailureKind.CONCERN_RAISED, text="concern raised: the partner's portal is slow")
    finished(
        machine,
        passed=False,
        summary={"failures": [concern.text], "usage": {}},
        checks_failed=[concern.model_dump()],
    )
    deadlines = machine.state.deadlines
    assert deadlines[SlaName.POST_CHECK].status is DeadlineStatus.BREACHED
    assert deadlines[SlaName.PARTNER_CHECK].status is DeadlineStatus.MET


def test_a_signal_from_a_check_before_kinds_settles_as_its_run_did():
    machine = partner_handoff_at_day_30()
    finished(machine, passed=False, summary={"failures": ["concern raised: the partner's portal is slow"]})
    deadlines = machine.state.deadlines
    assert deadlines[SlaName.POST_CHECK].status is DeadlineStatus.BREACHED
    assert deadlines[SlaName.PARTNER_CHECK].status is DeadlineStatus.BREACHED


def test_both_checks_failing_escalate_in_a_fixed_order():
    """Escalations are effects, and effects become workflow commands: their order must not depend on
    hashing (a frozenset's order changes with PYTHONHASHSEED)."""
    machine = partner_handoff_at_day_30()
    partner = CheckFailure(kind=CheckFailureKind.PARTNER_UNCONFIRMED, text="partner: who confirms it is unknown")
    finished(machine, passed=False, summary={"failures": [partner.text]}, checks_failed=[partner.model_dump()])
    checks = (SlaName.POST_CHECK, SlaName.PARTNER_CHECK)
    assert [e.sla for e in machine.state.escalations if e.sla in checks] == [SlaName.POST_CHECK, SlaName.PARTNER_CHECK]
    escalations = [e for e in machine.effects if getattr(e, "event", None) == "escalated"]
    assert [effect.details["sla"] for effect in escalations] == ["post_check", "partner_check"]
