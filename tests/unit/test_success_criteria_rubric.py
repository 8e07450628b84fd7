"""Success criteria under the seeds' rubric: "defined metrics the customer will use to evaluate
success, with target values or timeframes". A policy made now (parse_policy) scores by it; a snapshot
without `scoring.success_criteria` keeps the rule it was scored by (a target and a timeframe or a
comparison). Goals keep their own rule: the rubric asks them to be measurable and tied to outcomes."""

from __future__ import annotations

import pytest

from domain.backtest.canonical import document_for
from domain.document import FieldName, HandoffDocument
from domain.field_rules import EMPTY, GENERIC, SPECIFIC, CriteriaRule, judge, judge_all
from domain.policy import Policy, PolicyError, load_policy_text, parse_policy
from domain.scoring import score_document
from tests.handoffs import READY_DOCUMENT
from tests.unit.machine_builders import machine

pytestmark = pytest.mark.unit

RUBRIC = CriteriaRule.TARGET_OR_TIMEFRAME
OLD = CriteriaRule.TARGET_AND_TIMEFRAME


def criteria(text: str, rule: CriteriaRule) -> tuple[float, str]:
    judgement = judge(FieldName.SUCCESS_CRITERIA, HandoffDocument(success_criteria=text), rule)
    return judgement.status, judgement.reason


@pytest.mark.parametrize(
    ("text", "mentions"),
    [
        ("Adoption: 80% of seats active", "target value"),
        ("Reduce the ticket backlog by the end of Q2", "timeframe"),
        ("Time to first report under 2 hours for analysts", "target value"),
        ("Every regional team live on the portal before go-live", "timeframe"),
        ("Support tickets per account halve for the pilot group", "target value"),
        ("Cost per lead from $180 to $120 within 6 months", "target value"),
    ],
)
def test_a_defined_metric_with_a_target_value_or_a_timeframe_is_specific(text, mentions):
    status, reason = criteria(text, RUBRIC)
    assert status == SPECIFIC and mentions in reason


@pytest.mark.parametrize("text", ["Adoption: 80% of seats active", "Reduce the ticket backlog by the end of Q2"])
def test_the_issues_examples_scored_half_under_the_old_rule(text):
    assert criteria(text, OLD)[0] == GENERIC


@pytest.mark.parametrize(
    ("text", "status", "mentions"),
    [
        ("Customer is happy with the rollout overall", GENERIC, "no target value or timeframe"),
        # Boilerplate names no metric: a timeframe does not make it one.
        ("Reduce costs across the business by Q3", GENERIC, "even with a timeframe"),
        ("Better visibility into the pipeline for leadership", GENERIC, "boilerplate"),
        ("improve efficiency", GENERIC, "placeholder or boilerplate"),
        ("TBD", GENERIC, "placeholder"),
        ("By Q2", GENERIC, "under 4 words"),
        ("  ", EMPTY, "no success criteria"),
        # Digits that are only a date are a timeframe, not a target; with a metric that is enough.
        ("Dashboards adopted by every manager by 2026-06-30", SPECIFIC, "timeframe"),
    ],
)
def test_what_the_rubric_still_calls_generic_or_empty(text, status, mentions):
    got, reason = criteria(text, RUBRIC)
    assert got == status and mentions in reason.lower(), reason


def test_goals_keep_their_rule_under_the_rubric_policy():
    document = HandoffDocument(goals="Reduce churn by 10% for mid-market accounts")
    assert judge_all(document, RUBRIC)[FieldName.GOALS] == judge_all(document, OLD)[FieldName.GOALS]
    assert judge_all(document, RUBRIC)[FieldName.GOALS].status == GENERIC


def test_new_policies_score_by_the_rubric_and_snapshots_without_the_key_by_the_old_rule():
    document = READY_DOCUMENT.model_copy(update={"success_criteria": "Adoption: 80% of seats active"})
    assert parse_policy(None).scoring.success_criteria is RUBRIC
    assert Policy().scoring.success_criteria is None and Policy().scoring.criteria_rule is OLD
    # 3 x 0.5 of 17 weights short of full: 91.2 under the old rule, 100 under the rubric.
    assert score_document(document, Policy()).score == 91.2
    assert score_document(document, parse_policy(None)).score == 100.0
    kept = load_policy_text("scoring:\n  success_criteria: target_and_timeframe\n  ready_at: 90\n")
    assert kept.scoring.criteria_rule is OLD and kept.scoring.ready_at == 90


def test_a_bad_rule_names_the_key():
    with pytest.raises(PolicyError) as err:
        load_policy_text("scoring:\n  success_criteria: vibes\n")
    assert "scoring.success_criteria" in str(err.value)


def test_the_machine_judges_one_document_under_each_handoffs_own_rule():
    # One worker runs old and new snapshots side by side: the cached verdicts are per rule, so
    # whichever runs first, each gets its own.
    document = READY_DOCUMENT.model_copy(update={"success_criteria": "Reduce the ticket backlog by the end of Q2"})
    old = machine(document, policy=Policy())
    new = machine(document, policy=parse_policy(None))
    again = machine(document, policy=Policy())
    for m, status in ((old, GENERIC), (new, SPECIFIC), (again, GENERIC)):
        assert m.state.quality is not None
        assert m.state.quality.fields[FieldName.SUCCESS_CRITERIA].status == status


@pytest.mark.parametrize("status", [1.0, 0.5, 0.0])
def test_the_backtest_stand_ins_mean_the_same_under_either_rule(status):
    document = document_for({FieldName.SUCCESS_CRITERIA: status})
    for rule in CriteriaRule:
        assert judge(FieldName.SUCCESS_CRITERIA, document, rule).status == status
