"""The rules the simulator needs, in the pure core: the machine's next wake, the children's runs, the tie
order at one instant, and the printed timeline. No server, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.calendar import BusinessCalendar
from domain.child_runs import PostCheckRun
from domain.deal import Deal
from domain.durations import parse_duration
from domain.effects import StartPostCheck
from domain.errors import ErrorType, Refused
from domain.machine import HandoffMachine
from domain.messages import DeadlineExtension, MilestoneReached, PostCheckAnswers
from domain.onboarding import OnboardingInput, PostCheckInput, UsageReport, transition_due
from domain.onboarding_policy import Milestone, OnboardingPolicy, OnboardingTrigger, PostCheckPolicy
from domain.policy import Policy
from domain.roles import SlaName
from domain.scenario import MessageType, Scenario
from domain.simulation.lines import timeline_lines
from domain.simulation.routing import Refusal
from domain.simulation.simulator import simulate
from domain.state import ChildKind
from domain.timeline import Kind, TimelineEntry
from tests.handoffs import READY_DOCUMENT

pytestmark = pytest.mark.unit

# Tuesday 3 March 2026, 11:00 in New York (EST, UTC-5).
CLOSE = datetime(2026, 3, 3, 16, 0, tzinfo=UTC)


def won_machine(policy: Policy | None = None) -> HandoffMachine:
    deal = Deal(crm="hubspot", deal_id="1", account="Initech", acv=50_000, closed_at=CLOSE)
    machine = HandoffMachine.new("baton-hubspot-1", deal, policy or Policy())
    machine.start(deal, READY_DOCUMENT, True, CLOSE)
    machine.effects.clear()
    return machine


def checks_asked(machine: HandoffMachine) -> list[StartPostCheck]:
    # The SLAs breached by day 30 are escalated too: only the check's start matters here.
    return [effect for effect in machine.effects if isinstance(effect, StartPostCheck)]


def test_next_wake_leaves_the_30_day_check_once_it_is_asked_for():
    machine = won_machine()
    due = machine.state.deadlines[SlaName.POST_CHECK].due
    machine.tick(due)
    assert len(checks_asked(machine)) == 1
    # Until the child has started, the run must not keep waking for an instant already past.
    wake = machine.next_wake()
    assert wake is None or wake[0] > due
    machine.tick(due + timedelta(minutes=1))
    assert len(checks_asked(machine)) == 1, "asked for twice"


def test_the_check_asked_for_carries_its_schedule_and_when_its_answers_are_due():
    machine = won_machine()
    due = machine.state.deadlines[SlaName.POST_CHECK].due
    machine.tick(due)
    [start] = checks_asked(machine)
    assert start.workflow_id == "baton-hubspot-1-post-check"
    # The default window is 7d: a week after the check's own due instant, whenever it starts.
    assert start.input.answer_by == due + timedelta(days=7)
    assert start.input.schedule[Milestone.SETUP_COMPLETE] == CLOSE + timedelta(days=7)


def test_the_check_owned_deadline_cannot_move_once_the_check_has_started():
    machine = won_machine()
    move = DeadlineExtension(sla=SlaName.POST_CHECK, extend_by=parse_duration("2d"), reason="holiday")
    machine.check_extension(move)  # while it waits, it may move
    machine.tick(machine.state.deadlines[SlaName.POST_CHECK].due)
    with pytest.raises(Refused) as refused:
        machine.check_extension(move)
    assert refused.value.type is ErrorType.INVALID_TRANSITION and "has started" in refused.value.message


def onboarding(trigger: OnboardingTrigger, after: str = "30d", calendar: BusinessCalendar | None = None):
    from domain.child_runs import OnboardingRun

    policy = OnboardingPolicy(
        trigger=trigger, after=parse_duration(after), required_milestones=[Milestone.SETUP_COMPLETE]
    )
    deal = Deal(crm="hubspot", deal_id="1", closed_at=CLOSE)
    return OnboardingRun(OnboardingInput(parent_id="p", deal=deal, policy=policy, closed_at=CLOSE, calendar=calendar))


def test_onboarding_hands_over_on_its_trigger():
    assert onboarding(OnboardingTrigger.MILESTONE).hand_over_at is None
    hybrid = onboarding(OnboardingTrigger.HYBRID)
    assert hybrid.hand_over_at == CLOSE + timedelta(days=30)
    hybrid.apply_milestone(MilestoneReached(milestone=Milestone.SETUP_COMPLETE), CLOSE + timedelta(days=3))
    assert hybrid.milestones_complete()
    # The time trigger never hands over on milestones.
    timed = onboarding(OnboardingTrigger.TIME)
    timed.apply_milestone(MilestoneReached(milestone=Milestone.SETUP_COMPLETE), CLOSE)
    assert not timed.milestones_complete()
    summary = timed.hand_over(by_milestones=False)
    assert summary.trigger == "time" and summary.completion == 100.0
    with pytest.raises(Refused):
        timed.check_milestone(MilestoneReached(milestone=Milestone.TRAINING_DONE))


def test_a_business_day_onboarding_trigger_resolves_on_the_calendar():
    # 20bd from Tue 3 Mar 11:00 New York: four working weeks on, Tue 31 Mar 11:00 (EDT by then).
    run = onboarding(OnboardingTrigger.TIME, after="20bd", calendar=BusinessCalendar())
    assert run.hand_over_at == datetime(2026, 3, 31, 15, 0, tzinfo=UTC)
    # A child started before the calendar was passed counted clock time (a clock span still does).
    assert transition_due(OnboardingPolicy(after=parse_duration("30d")), CLOSE) == CLOSE + timedelta(days=30)


def test_the_30_day_check_takes_one_set_of_answers_and_a_milestone_at_its_due_instant_is_late():
    due = CLOSE + timedelta(days=7)
    check = PostCheckRun(
        PostCheckInput(
            parent_id="p",
            deal=Deal(crm="hubspot", deal_id="1"),
            policy=PostCheckPolicy(),
            schedule={Milestone.SETUP_COMPLETE: due},
            reached={Milestone.SETUP_COMPLETE: due},
            answer_by=CLOSE + timedelta(days=37),
        ),
        started_at=CLOSE + timedelta(days=30, hours=5),
    )
    assert check.answer_by == CLOSE + timedelta(days=37)
    check.apply_answers(PostCheckAnswers(enough_context=True))
    with pytest.raises(Refused):
        check.check_answers(PostCheckAnswers(enough_context=True))
    result = check.conclude(UsageReport(measured=True, active_users=5), CLOSE + timedelta(days=31))
    assert [failure.kind.value for failure in result.checks_failed] == ["milestone_late"]
    assert check.finished("p-post-check").summary["answers"] == {
        "enough_context": True,
        "concerns": 0,
        "partner_confirmed": None,
    }


# ---- the pure simulator -------------------------------------------------------------------------


def scenario(messages: list[dict], **extra) -> Scenario:
    return Scenario.model_validate(
        {
            "deal": {"crm": "hubspot", "deal_id": "1", "acv": 50_000, "closed_at": "2026-03-03T11:00:00-05:00"},
            "document": READY_DOCUMENT.model_dump(mode="json"),
            "messages": messages,
            **extra,
        }
    )


def outcome(lines: list[dict], sla: str) -> str:
    for line in lines:
        if line.get("sla") == sla and line["kind"] in ("deadline_met", "sla_breached"):
            return line["kind"]
    return "open"


@pytest.mark.parametrize(("at", "expected"), [("+47h59m59s", "deadline_met"), ("+48h", "sla_breached")])
def test_a_message_at_the_instant_a_deadline_falls_due_comes_after_its_timer(at, expected):
    lines = simulate(scenario([{"at": at, "type": "first_touch", "body": {}}], horizon="3d"), Policy())
    assert outcome(lines, "cs_first_touch") == expected


def test_the_parents_timer_and_a_childs_at_one_instant_land_in_a_fixed_order():
    # Onboarding's time trigger and the 30-day check's start both fall at close + 30d.
    path = [
        {"at": "+1d", "type": "intake_review", "body": {"rating": 4}},
        {"at": "+2d", "type": "intro", "body": {"action": "scheduled"}},
        {"at": "+3d", "type": "intro", "body": {"action": "held"}},
        {"at": "+4d", "type": "kickoff", "body": {}},
    ]
    lines = simulate(scenario(path), Policy())
    children = [(line["kind"], line["child"]) for line in lines if line["kind"] in ("child_started", "child_finished")]
    assert children == [
        ("child_started", "onboarding"),
        ("child_started", "post_check"),
        ("child_finished", "onboarding"),
        ("child_finished", "post_check"),
    ]


def test_messages_to_a_child_that_is_not_running_are_refused_by_kind():
    lines = simulate(
        scenario([{"at": "+1d", "type": "milestone", "body": {"milestone": "setup_complete"}}], horizon="2d"), Policy()
    )
    [refused] = [line for line in lines if line["kind"] == "message_refused"]
    assert (refused["message"], refused["error_type"]) == ("milestone", "InvalidTransition")


def test_scenario_instants_count_to_the_second():
    found = scenario([], deal={"crm": "hubspot", "deal_id": "1", "closed_at": "2026-03-03T11:00:00.750-05:00"})
    assert found.close == datetime(2026, 3, 3, 16, 0, tzinfo=UTC)


def test_printed_lines_put_a_refusal_after_what_its_run_had_recorded():
    at = datetime(2026, 3, 3, 16, 0, 0, 300_000, tzinfo=UTC)
    entries = [
        TimelineEntry(seq=1, at=at, kind=Kind.STARTED),
        TimelineEntry(seq=2, at=at + timedelta(milliseconds=20), kind=Kind.CSM_ASSIGNED),
        # A breach recorded late, at its own (earlier) instant.
        TimelineEntry(seq=3, at=at - timedelta(hours=1), kind=Kind.SLA_BREACHED, details={"sla": "kickoff"}),
    ]
    refusal = Refusal(at, MessageType.INTRO, ErrorType.INVALID_TRANSITION, "no", after_seq=1)
    lines = timeline_lines(entries, [refusal], BusinessCalendar().tz)
    assert [line["kind"] for line in lines] == ["sla_breached", "started", "message_refused", "csm_assigned"]
    assert lines[1]["at"] == "2026-03-03T11:00:00-05:00"


def test_server_days_in_the_checks_texts_print_in_scenario_time():
    shift = timedelta(days=10227)  # 28 years
    at = datetime(2054, 4, 2, 16, 0, tzinfo=UTC)
    failures = ["milestone setup_complete not reached by 2054-03-10", "concern raised: since 2026-01-01"]
    entries = [TimelineEntry(seq=1, at=at, kind=Kind.CHECK_FAILED, details={"failures": failures})]
    [line] = timeline_lines(entries, [], BusinessCalendar().tz, shift)
    assert line["failures"] == [
        "milestone setup_complete not reached by 2026-03-10",
        "concern raised: since 2026-01-01",
    ]
    assert line["at"] == "2026-04-02T12:00:00-04:00"


def test_the_post_check_child_ends_up_in_the_parents_state_with_its_answers():
    path = [
        {"at": "+1d", "type": "intake_review", "body": {"rating": 4}},
        {"at": "+31d", "type": "post_check", "body": {"enough_context": False, "concerns": ["Slow", "Buggy"]}},
    ]
    lines = simulate(scenario(path, horizon="40d"), Policy())
    failed = next(line for line in lines if line["kind"] == "check_failed")
    assert failed["failures"][-3:] == [
        "the CSM lacks the context to manage the account",
        "concern raised: Slow",
        "concern raised: Buggy",
    ]
    assert any(line["kind"] == "child_finished" and line["child"] == ChildKind.POST_CHECK.value for line in lines)
