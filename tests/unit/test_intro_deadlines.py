"""The intro is held only after it is scheduled, so `intro_held` is never due before `intro_scheduled`:
5 business days after the close by default (it was 5 calendar days, which a holiday or an anchor
before the working day put ahead of the 3 business days), and a policy file that sets it earlier is
refused with the key named. Snapshots a running handoff carries load as they are."""

from __future__ import annotations

from datetime import datetime

import pytest

from domain.calendar import BusinessCalendar
from domain.durations import parse_duration
from domain.policy import Policy, PolicyError, load_policy_text, parse_policy
from domain.policy_checks import can_fall_before
from domain.roles import SlaName
from tests.unit.machine_builders import NY, machine

pytestmark = pytest.mark.unit

HOLIDAY = {"calendar": {"holidays": ["2026-03-09"]}}


def ny(day: int, hour: int) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=NY)


def test_by_default_intro_held_falls_due_after_intro_scheduled_even_in_a_holiday_week():
    m = machine(policy=parse_policy(HOLIDAY))
    due = {sla: m.state.deadlines[sla].due for sla in (SlaName.INTRO_SCHEDULED, SlaName.INTRO_HELD)}
    # Friday 6 March 15:00 EST, Monday 9th a holiday: 3bd is Thursday 12th, 5bd Monday 16th (15:00 EDT).
    assert due == {SlaName.INTRO_SCHEDULED: ny(12, 15), SlaName.INTRO_HELD: ny(16, 15)}


def test_a_snapshot_with_the_old_5d_keeps_it_even_where_it_came_first():
    # A running handoff's snapshot carries its whole slas dict: the old default stays what it was.
    old = Policy.model_validate({**HOLIDAY, "slas": {"intro_held": {"due": "5d"}}})
    m = machine(policy=old)
    assert m.state.deadlines[SlaName.INTRO_HELD].due == ny(11, 16)  # 120 elapsed hours, across the DST change
    assert m.state.deadlines[SlaName.INTRO_SCHEDULED].due == ny(12, 15)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        # Same unit: compared by amount.
        ("slas:\n  intro_held: {due: 2bd}\n", "slas.intro_held.due: intro_held (2bd)"),
        # Mixed units: 5d from Saturday 08:00 is Thursday 08:00, an hour before 3bd (Thursday 09:00).
        ("slas:\n  intro_held: {due: 5d}\n", "slas.intro_held.due: intro_held (5d)"),
        ("slas:\n  intro_scheduled: {due: 6bd}\n", "slas.intro_held.due: intro_held (5bd) can fall due before"),
        (
            "approaches:\n  white_glove:\n    slas: [intro_scheduled, intro_held]\n    intro: live_call\n"
            "    sla_overrides: {intro_held: {due: 20h}}\n",
            "approaches.white_glove.sla_overrides.intro_held.due: intro_held (20h)",
        ),
    ],
)
def test_a_file_that_sets_intro_held_before_intro_scheduled_is_refused_naming_the_key(text, key):
    with pytest.raises(PolicyError) as err:
        load_policy_text(text)
    assert key in str(err.value)


def test_the_refusal_names_the_approaches_it_applies_to_once():
    with pytest.raises(PolicyError) as err:
        load_policy_text("slas:\n  intro_held: {due: 1bd}\n")
    [line] = str(err.value).splitlines()[1:]
    assert line.endswith(
        "for structured, white_glove, partner_mediated deals; an intro is held only after it is scheduled"
    )


@pytest.mark.parametrize(
    "text",
    [
        "slas:\n  intro_held: {due: 3bd}\n",  # due the same instant as scheduling is allowed
        "slas:\n  intro_held: {due: 6d}\n",
        "slas:\n  intro_scheduled: {due: 2d}\n  intro_held: {due: 2d}\n",
    ],
)
def test_orders_that_keep_the_intro_held_after_it_is_scheduled_load(text):
    load_policy_text(text)


def test_an_approach_without_intro_scheduled_has_no_order_to_keep():
    text = (
        "approaches:\n  structured: {slas: [intro_held, kickoff], intro: intro_email}\nslas:\n  intro_held: {due: 1d}\n"
    )
    with pytest.raises(PolicyError) as err:
        load_policy_text(text)
    assert "for white_glove, partner_mediated deals" in str(err.value)


def test_a_snapshot_that_would_be_refused_as_a_file_still_loads():
    # Cross-key checks run on new policies only: a run started under one must replay.
    policy = Policy.model_validate({"slas": {"intro_held": {"due": "1d"}}})
    assert str(policy.slas[SlaName.INTRO_HELD].due) == "1d"


def test_can_fall_before_compares_business_and_clock_durations_by_anchor():
    calendar = BusinessCalendar()
    d = parse_duration
    assert can_fall_before(d("5d"), d("3bd"), calendar)  # from Saturday 08:00
    assert not can_fall_before(d("5bd"), d("3bd"), calendar)
    assert not can_fall_before(d("3bd"), d("3bd"), calendar)
    assert not can_fall_before(d("6d"), d("3bd"), calendar)
    assert can_fall_before(d("8bh"), d("1bd"), calendar)  # from Monday 08:00: Monday 17:00, not Tuesday 08:00
