"""The children's own rules: when onboarding hands over to CS, its summary, and the 30-day verdict."""

from __future__ import annotations

import pytest

from domain.check_failures import CheckFailure, CheckFailureKind
from domain.messages import MilestoneReached, PostCheckAnswers, Sentiment
from domain.onboarding import (
    PostCheckInput,
    PostCheckResult,
    UsageReport,
    evaluate,
    milestones_complete,
    summarise,
    transition_due,
)
from domain.onboarding_policy import Milestone, OnboardingPolicy, PostCheckPolicy
from tests.unit.machine_builders import CLOSE, D, won_deal

pytestmark = pytest.mark.unit

ALL = dict.fromkeys(Milestone, CLOSE + D)


@pytest.mark.parametrize(
    ("trigger", "due"), [("time", CLOSE + 30 * D), ("hybrid", CLOSE + 30 * D), ("milestone", None)]
)
def test_the_time_trigger_is_30_days_after_the_close_unless_only_milestones_count(trigger, due):
    assert transition_due(OnboardingPolicy(trigger=trigger), CLOSE) == due


def test_milestones_complete_the_handover_unless_only_time_counts():
    some = {Milestone.SETUP_COMPLETE: CLOSE + D}
    assert milestones_complete(OnboardingPolicy(trigger="hybrid"), ALL)
    assert not milestones_complete(OnboardingPolicy(trigger="hybrid"), some)
    assert milestones_complete(OnboardingPolicy(trigger="milestone", required_milestones=["setup_complete"]), some)
    assert not milestones_complete(OnboardingPolicy(trigger="time"), ALL)


def test_the_summary_counts_required_milestones_and_keeps_the_latest_sentiment():
    notes = [
        MilestoneReached(milestone=Milestone.SETUP_COMPLETE, sentiment=Sentiment.POSITIVE, risks=["IT thin"]),
        MilestoneReached(milestone=Milestone.ACTIVATION_ACHIEVED, expansion_signals=["wants a second team"]),
        MilestoneReached(milestone=Milestone.TRAINING_DONE, sentiment=Sentiment.CONCERNED, risks=["champion leaving"]),
    ]
    reached = {n.milestone: CLOSE + D for n in notes}
    summary = summarise(OnboardingPolicy(), notes, reached, "time")
    # 3 of the 4 required milestones: 75%.
    assert (summary.trigger, summary.completion, summary.activation_achieved) == ("time", 75.0, True)
    assert summary.open_items == [Milestone.FIRST_VALUE] and summary.sentiment is Sentiment.CONCERNED
    assert summary.risks == ["IT thin", "champion leaving"] and summary.expansion_signals == ["wants a second team"]
    # A policy requiring none counts every milestone; no notes, no sentiment.
    empty = summarise(OnboardingPolicy(required_milestones=[]), [], {}, "milestones")
    assert (empty.completion, empty.sentiment, len(empty.open_items)) == (0.0, None, 4)


def check(partner: bool = False, reached=None) -> PostCheckInput:
    schedule = {Milestone.SETUP_COMPLETE: CLOSE + 7 * D, Milestone.FIRST_VALUE: CLOSE + 30 * D}
    return PostCheckInput(
        parent_id="baton-hubspot-4242",
        deal=won_deal(),
        policy=PostCheckPolicy(min_active_users=3),
        schedule=schedule,
        reached=reached if reached is not None else dict.fromkeys(schedule, CLOSE + 5 * D),
        partner=partner,
    )


GOOD = PostCheckAnswers(enough_context=True, partner_confirmed=True)
USED = UsageReport(measured=True, active_users=12, source="fake")


def test_a_check_with_everything_in_order_passes():
    result = evaluate(check(partner=True), USED, GOOD, CLOSE + 30 * D)
    assert (result.passed, result.failures) == (True, [])
    # Usage not measured is not a failure: there is nothing to judge.
    assert evaluate(check(), UsageReport(measured=False), GOOD, CLOSE + 30 * D).passed


def test_every_failure_is_named():
    late = {Milestone.SETUP_COMPLETE: CLOSE + 8 * D}
    answers = PostCheckAnswers(enough_context=False, concerns=["slow support", "billing error"])
    result = evaluate(
        check(partner=True, reached=late), UsageReport(measured=True, active_users=1), answers, CLOSE + 30 * D
    )
    assert not result.passed
    # Setup was due on day 7 (13 March) and came on day 8; first value was due on day 30 and never came.
    assert result.failures == [
        "milestone setup_complete not reached by 2026-03-13",
        "milestone first_value not reached by 2026-04-05",
        "usage: 1 active users (at least 3 expected)",
        "the CSM lacks the context to manage the account",
        "concern raised: slow support",
        "concern raised: billing error",
        "partner: the CSM cannot say what the customer wants and who confirms it",
    ]
    K = CheckFailureKind
    assert [f.kind for f in result.checks_failed] == [
        K.MILESTONE_LATE,
        K.MILESTONE_LATE,
        K.LOW_USAGE,
        K.CSM_LACKS_CONTEXT,
        K.CONCERN_RAISED,
        K.CONCERN_RAISED,
        K.PARTNER_UNCONFIRMED,
    ]
    assert [f.text for f in result.checks_failed] == result.failures


def test_no_answer_is_a_failure_and_a_milestone_not_yet_due_is_not():
    result = evaluate(check(reached={}), USED, None, CLOSE + 10 * D)
    assert result.failures == [
        "milestone setup_complete not reached by 2026-03-13",
        "the CSM did not answer the 30-day check",
    ]


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("milestone setup_complete not reached by 2026-03-13", CheckFailureKind.MILESTONE_LATE),
        ("usage: 0 active users (at least 1 expected)", CheckFailureKind.LOW_USAGE),
        ("the CSM did not answer the 30-day check", CheckFailureKind.UNANSWERED),
        ("the CSM lacks the context to manage the account", CheckFailureKind.CSM_LACKS_CONTEXT),
        ("concern raised: slow support", CheckFailureKind.CONCERN_RAISED),
        (
            "partner: the CSM cannot say what the customer wants and who confirms it",
            CheckFailureKind.PARTNER_UNCONFIRMED,
        ),
        # Older checks were settled by the word "partner" anywhere; their texts keep that reading.
        ("concern raised: the partner never called", CheckFailureKind.PARTNER_UNCONFIRMED),
        ("something a newer check says", CheckFailureKind.CONCERN_RAISED),
    ],
)
def test_a_failure_from_an_older_check_gets_the_kind_it_was_settled_by(text, kind):
    assert CheckFailure.from_legacy_text(text) == CheckFailure(kind=kind, text=text)


def test_a_result_written_before_failures_had_kinds_still_decodes():
    older = {
        "passed": False,
        "failures": ["usage: 1 active users (at least 3 expected)"],
        "usage": USED.model_dump(),
        "answers": None,
    }
    result = PostCheckResult.model_validate(older)
    assert result.checks_failed == [CheckFailure(kind=CheckFailureKind.LOW_USAGE, text=older["failures"][0])]
