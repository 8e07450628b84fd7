"""The 30-day check takes the CSM's answers from `post_check.opens_before` ahead of its due (7d in new
policies), so an answer sent on day 29 counts: the handoff keeps it and hands it to the check, which
starts at its due and judges it then, with the milestones as they stand at the due. Snapshots without
the key take answers only from the due, as before."""

from __future__ import annotations

import pytest

from domain.child_runs import PostCheckRun
from domain.effects import StartPostCheck
from domain.errors import ErrorType, Refused
from domain.machine import HandoffMachine
from domain.messages import KickoffHeld, MilestoneSignal, PostCheckAnswers
from domain.onboarding import UsageReport
from domain.onboarding_policy import Milestone
from domain.policy import Policy, PolicyError, load_policy_text, parse_policy
from domain.state import ChildKind
from domain.timeline import Kind
from tests.unit.machine_builders import CLOSE, D, H, briefed, effects_of, entries, intro_held, machine

pytestmark = pytest.mark.unit

ANSWERS = PostCheckAnswers(enough_context=True, concerns=["slow SSO"], by="csm-mm-1")
DUE = CLOSE + 30 * D


def kicked_off(policy: Policy) -> HandoffMachine:
    m = briefed(machine(policy=policy), CLOSE + H)
    intro_held(m, CLOSE + 2 * H, CLOSE + 2 * D)
    m.apply_kickoff(KickoffHeld(), CLOSE + 4 * D)
    m.child_started(ChildKind.ONBOARDING, "baton-hubspot-4242-onboarding", CLOSE + 4 * D)
    return m


def refused(m: HandoffMachine, msg: PostCheckAnswers, now) -> Refused:
    with pytest.raises(Refused) as err:
        m.check_post_check_answers(msg, now)
    return err.value


def test_new_policies_open_the_check_a_week_before_its_due():
    assert str(parse_policy(None).post_check.opens_before) == "7d"
    assert Policy().post_check.opens_before is None


def test_an_answer_on_day_29_is_kept_and_judged_when_the_check_starts_at_its_due():
    m = kicked_off(parse_policy(None))
    m.check_post_check_answers(ANSWERS, CLOSE + 29 * D)
    m.apply_post_check_answers(ANSWERS, CLOSE + 29 * D)
    assert entries(m, Kind.MESSAGE, message="post_check_answered")[0].details["before_due"] is True
    assert not effects_of(m, StartPostCheck)  # the check still starts at its due
    err = refused(m, ANSWERS, CLOSE + 29 * D + H)
    assert (err.type, err.message) == (ErrorType.INVALID_TRANSITION, "the 30-day check has already been answered")
    # A milestone reached after the answer and before the due is seen by the check.
    m.milestone(MilestoneSignal(milestone=Milestone.SETUP_COMPLETE, at=CLOSE + 10 * D), CLOSE + 10 * D)
    m.tick(DUE)
    [start] = effects_of(m, StartPostCheck)
    assert start.input.answers == ANSWERS and Milestone.SETUP_COMPLETE in start.input.reached
    run = PostCheckRun(start.input, DUE)
    assert run.answers == ANSWERS  # the child concludes at its start: nothing is left to wait for
    result = run.conclude(UsageReport(measured=False), DUE)
    assert "concern raised: slow SSO" in result.failures
    assert "the CSM did not answer the 30-day check" not in result.failures


def test_before_the_check_opens_the_answer_is_refused_with_when_it_opens():
    m = kicked_off(parse_policy(None))
    err = refused(m, ANSWERS, CLOSE + 23 * D - H)
    assert err.type is ErrorType.INVALID_TRANSITION
    # In the calendar's zone: 29 March 20:00 UTC is 16:00 EDT.
    assert err.message == "the 30-day check is not running: it opens 2026-03-29T16:00:00-04:00"
    m.check_post_check_answers(ANSWERS, CLOSE + 23 * D)  # opens on the instant


def test_a_snapshot_without_the_key_refuses_answers_before_the_check_starts():
    m = kicked_off(Policy())
    err = refused(m, ANSWERS, CLOSE + 29 * D)
    assert err.message == "the 30-day check is not running: it starts when it falls due"
    m.tick(DUE)
    [start] = effects_of(m, StartPostCheck)
    assert start.input.answers is None  # as before: the child waits for answers up to its window


def test_once_the_check_has_started_its_answers_go_to_it():
    m = kicked_off(parse_policy(None))
    m.tick(DUE)
    err = refused(m, ANSWERS, DUE + H)
    assert err.message.startswith("the 30-day check has started")


def test_the_check_still_concludes_by_its_window_after_the_due():
    m = kicked_off(parse_policy(None))
    m.tick(DUE)
    [start] = effects_of(m, StartPostCheck)
    assert start.input.answer_by == DUE + 7 * D and start.input.answers is None


def test_not_before_the_win_nor_after_the_end():
    early = machine(None, won=False, policy=parse_policy(None))
    assert refused(early, ANSWERS, CLOSE).message == "the deal is not won yet"


@pytest.mark.parametrize("text", ["post_check:\n  opens_before: 5bd\n", "post_check:\n  opens_before: soon\n"])
def test_opens_before_is_a_clock_duration(text):
    with pytest.raises(PolicyError) as err:
        load_policy_text(text)
    assert "post_check.opens_before" in str(err.value)
