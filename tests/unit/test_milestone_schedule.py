"""The milestone schedule the 30-day check judges counts from the kickoff (policy
`onboarding.schedule_from`), where onboarding starts and milestones can first be reported: a handoff
that meets its kickoff SLA cannot fail the check for milestones it could not yet report. Snapshots
without the key count from the close, as they always did."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.child_runs import PostCheckRun
from domain.effects import StartPostCheck
from domain.machine import HandoffMachine
from domain.messages import KickoffHeld, MilestoneSignal, PostCheckAnswers
from domain.onboarding import UsageReport
from domain.onboarding_policy import Milestone, ScheduleFrom
from domain.policy import Policy, PolicyError, load_policy_text, parse_policy
from domain.state import ChildKind
from tests.unit.machine_builders import CLOSE, D, H, briefed, effects_of, intro_held, machine

pytestmark = pytest.mark.unit

KICKOFF = CLOSE + 10 * D - H  # just inside the 10d kickoff SLA


def kicked_off(policy: Policy, reached: dict[Milestone, int]) -> HandoffMachine:
    """Kicked off just inside the SLA (the intro held late, so the 10d due stands); milestones on the
    given days after the close; the 30-day check falls due."""
    m = briefed(machine(policy=policy), CLOSE + H)
    intro_held(m, CLOSE + 2 * H, CLOSE + 6 * D)
    m.apply_kickoff(KickoffHeld(), KICKOFF)
    m.child_started(ChildKind.ONBOARDING, "baton-hubspot-4242-onboarding", KICKOFF)
    for milestone, day in reached.items():
        m.milestone(MilestoneSignal(milestone=milestone, at=CLOSE + day * D), CLOSE + day * D)
    m.tick(CLOSE + 30 * D)
    return m


def verdict(m: HandoffMachine) -> list[str]:
    [start] = effects_of(m, StartPostCheck)
    run = PostCheckRun(start.input, CLOSE + 30 * D)
    run.apply_answers(PostCheckAnswers(enough_context=True))
    return run.conclude(UsageReport(measured=False), CLOSE + 30 * D).failures


# Each milestone reached its schedule's span after the kickoff, less an hour: on time from the kickoff.
ON_TIME_FROM_KICKOFF = {Milestone.SETUP_COMPLETE: 16, Milestone.TRAINING_DONE: 23}


def test_new_policies_count_from_the_kickoff_and_the_on_time_handoff_passes():
    assert parse_policy(None).onboarding.schedule_from is ScheduleFrom.KICKOFF
    m = kicked_off(parse_policy(None), ON_TIME_FROM_KICKOFF)
    [start] = effects_of(m, StartPostCheck)
    # 7d, 14d, 21d, 30d after the kickoff: the last two fall after the check and are not judged yet.
    assert start.input.schedule == {
        Milestone.SETUP_COMPLETE: KICKOFF + 7 * D,
        Milestone.TRAINING_DONE: KICKOFF + 14 * D,
        Milestone.ACTIVATION_ACHIEVED: KICKOFF + 21 * D,
        Milestone.FIRST_VALUE: KICKOFF + 30 * D,
    }
    assert verdict(m) == []


def test_a_snapshot_without_the_key_counts_from_the_close_and_fails_the_same_handoff():
    assert Policy().onboarding.schedule_from is None
    failures = verdict(kicked_off(Policy(), ON_TIME_FROM_KICKOFF))
    # From the close, setup (day 7) was due before onboarding could even start (day 10).
    assert failures == [
        "milestone setup_complete not reached by 2026-03-13",
        "milestone training_done not reached by 2026-03-20",
        "milestone activation_achieved not reached by 2026-03-27",
        "milestone first_value not reached by 2026-04-05",
    ]


def test_close_can_still_be_chosen_in_a_file():
    policy = load_policy_text("onboarding:\n  schedule_from: close\n")
    assert policy.onboarding.schedule_from is ScheduleFrom.CLOSE
    assert verdict(kicked_off(policy, ON_TIME_FROM_KICKOFF))


def test_a_bad_value_names_the_key():
    with pytest.raises(PolicyError) as err:
        load_policy_text("onboarding:\n  schedule_from: signature\n")
    assert "onboarding.schedule_from" in str(err.value)


def test_without_a_kickoff_the_schedule_counts_from_the_kickoffs_due():
    m = briefed(machine(policy=parse_policy(None)), CLOSE + H)
    m.tick(CLOSE + 30 * D)
    [start] = effects_of(m, StartPostCheck)
    due = m.state.deadlines["kickoff"].due
    assert due == datetime(2026, 3, 16, 20, tzinfo=UTC)  # 10 x 24h from the close
    assert start.input.schedule[Milestone.SETUP_COMPLETE] == due + 7 * D
    # Never kicked off, nothing reported: the milestones due by day 30 fail.
    assert "milestone setup_complete not reached by 2026-03-23" in verdict(m)
