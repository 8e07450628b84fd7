"""What the read model records for a backtest, and that a recorded handoff replays to what happened.

The property: a handoff simulated under a policy, read back as the read model records it (facts
without contacts, statuses without text, messages from its timeline), and replayed under the same
policy gives the same timeline, instant for instant.
"""

from __future__ import annotations

from datetime import UTC

import pytest
from hypothesis import HealthCheck, given, settings

from cli.simulate_cmd import scenario_policy
from domain.backtest.canonical import TEXTS, document_for
from domain.backtest.recorded import DealRecord, recorded
from domain.backtest.replay import replay
from domain.document import FieldName
from domain.field_rules import judge_all
from domain.policy import Policy
from domain.scenario import Scenario
from domain.simulation.assignments import Assignments
from domain.simulation.simulator import run_all, scenario_handoff
from domain.state import ChildKind, HandoffState
from domain.timeline import Kind
from infra.policy_file import read_policy
from store import handoff_facts, repository
from store.engine import session_scope
from store.tables import HandoffFactsRow
from tests.simulation_scenarios import scenario
from tests.test_store import rows

# Details that carry text a person wrote (or the stand-in for it), not what the rules decided.
TEXT = {"reason", "fields", "by", "note", "failures", "success_plan", "overrides", "scheduled_for"}


@pytest.mark.unit
@pytest.mark.parametrize("name", list(FieldName))
@pytest.mark.parametrize("status", [1.0, 0.5, 0.0])
def test_each_stand_in_text_is_judged_to_its_status(name, status):
    assert judge_all(document_for({name: status}))[name].status == status
    assert status in TEXTS[name]


def simulated(data: dict) -> tuple[HandoffState, Policy, object]:
    model = Scenario.model_validate(data)
    policy = scenario_policy(model, read_policy(None))
    handoff = scenario_handoff(model, policy, Assignments())
    run_all([handoff])
    return handoff.run.machine.state, policy, handoff.end


def as_recorded(state: HandoffState):
    check = state.children.get(ChildKind.POST_CHECK)
    summary = check.summary if check is not None and check.finished_at is not None else None
    close = state.deal.closed_at
    assert close is not None and state.facts.won_at is not None
    return recorded(DealRecord.of(state.deal, close), state.timeline, state.facts.won_at, summary)


# Who was told: a backtest neither resolves nor records notices (its figures come from the rules).
TOLD = {Kind.NOTIFIED, Kind.ESCALATED, Kind.RECIPIENT_UNRESOLVED, Kind.INTRODUCED}


def decided(state: HandoffState) -> list[tuple]:
    return [
        (entry.at.astimezone(UTC), entry.kind.value, {k: v for k, v in entry.details.items() if k not in TEXT})
        for entry in state.timeline
        if entry.kind not in TOLD
    ]


@pytest.mark.unit
@settings(max_examples=60, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario())
def test_a_recorded_handoff_replays_to_what_happened(data):
    state, policy, end = simulated(data)
    if state.facts.won_at is None:
        return
    [again] = replay([as_recorded(state)], policy, end)
    assert decided(again) == decided(state)
    # The escalations themselves are the rules' and are replayed: to whom (the role) and when.
    assert [(e.sla, e.to, e.at) for e in again.escalations] == [(e.sla, e.to, e.at) for e in state.escalations]


def test_the_read_model_records_what_a_backtest_replays(store):
    data = {
        "deal": {
            "crm": "hubspot",
            "deal_id": "8801",
            "account": "Initech",
            "acv": 150_000,
            "closed_at": "2026-03-03T11:00:00-05:00",
            "executive_sponsor": "Ana Sponsor",
            "implementation_owner": "Bo Owner",
        },
        "messages": [
            {"at": "+1d", "type": "document", "body": {"fields": {"goals": "Cut churn 5% by Q3."}, "submit": True}},
            {"at": "+2d", "type": "intake_review", "body": {"rating": 4}},
        ],
        "horizon": "5d",
    }
    state, policy, end = simulated(data)
    with session_scope(store.engine, write=True) as session:
        repository.record_state(session, state)
    [row] = rows(store, HandoffFactsRow)
    # Facts, not contacts: whether there is a sponsor, and whether they own the implementation.
    assert "Ana" not in str(row.deal) and "Bo Owner" not in str(row.deal)
    assert row.deal["has_executive_sponsor"] and row.deal["sponsor_is_not_implementation_owner"]
    with session_scope(store.engine) as session:
        loaded = handoff_facts.load(session, state.deal.closed_at, end)
    assert loaded.without_facts == 0
    [found] = loaded.handoffs
    expected = as_recorded(state)
    assert (found.statuses, found.submitted, found.deal.deal()) == (
        expected.statuses,
        expected.submitted,
        expected.deal.deal(),
    )
    assert [(m.at, m.type, m.body) for m in found.timed()] == [(m.at, m.type, m.body) for m in expected.timed()]
    [again] = replay(loaded.handoffs, policy, end)
    assert decided(again) == decided(state)
