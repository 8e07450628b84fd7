"""Each approach simulated end to end with a document whose contacts have addresses (one has none)
and the example directory: the introduction each approach sends, to whom, and when; the white-glove
AE's calls and transition; the partner manager's updates. Names and counts on the timeline, never a
customer's address."""

from __future__ import annotations

from typing import Any

import pytest

from domain.scenario import Scenario
from domain.simulation.simulator import simulate
from tests.handoffs import READY_DOCUMENT
from tests.test_people_scenarios import APPROACHES, DIRECTORY, POLICY

pytestmark = pytest.mark.unit

CONTACTS = [
    {
        "name": "Priya Raman",
        "title": "VP Ops",
        "role": "executive_sponsor",
        "email": "priya@acme.example",
        "notes": "x",
    },
    {"name": "Dana Lee", "title": "Ops lead", "role": "champion", "email": "dana@acme.example", "notes": "x"},
    {"name": "Noor Haddad", "title": "Analyst", "role": "user", "notes": "no address"},
]
PARTNER = {"partner_contact": {"name": "Ola Berg", "email": "ola@northwind.example"}}
MESSAGES = [
    {"at": "+1h", "type": "document", "body": {"submit": True}},
    {"at": "+2h", "type": "intake_review", "body": {"rating": 4}},
    {"at": "+1d", "type": "intro", "body": {"action": "scheduled", "scheduled_for": "2026-11-09T10:00:00-05:00"}},
    {"at": "+2d", "type": "intro", "body": {"action": "scheduled", "scheduled_for": "2026-11-10T10:00:00-05:00"}},
    {"at": "+3bd", "type": "intro", "body": {"action": "held"}},
    {"at": "+4bd", "type": "first_touch", "body": {}},
    {"at": "+5bd", "type": "kickoff", "body": {}},
]


def lines_of(approach: str) -> list[dict[str, Any]]:
    no_intro = approach in ("automated", "internal")
    data = {
        "deal": {
            "crm": "hubspot",
            "deal_id": "7001",
            "account": "Acme Corp",
            "ae": "61234567",
            "closed_at": "2026-11-05T16:00:00-05:00",
            **APPROACHES[approach],
        },
        "document": {
            **READY_DOCUMENT.model_dump(mode="json"),
            "stakeholders": CONTACTS,
            **({"partner_context": PARTNER} if "partner" in approach else {}),
        },
        "messages": [m for m in MESSAGES if not (no_intro and m["type"] == "intro")],
        "horizon": "25d",
    }
    return simulate(Scenario.model_validate(data), POLICY, DIRECTORY)


def introduced(lines: list[dict[str, Any]]) -> list[tuple[str, list[str], list[str]]]:
    return [(line["style"], line["people"], line["contacts"]) for line in lines if line["kind"] == "introduced"]


@pytest.mark.parametrize(
    ("approach", "expected"),
    [
        # Welcome sequence from the briefing: message 1, then 3bd later message 2; the kickoff at +5bd
        # stops the third.
        (
            "automated",
            [("welcome_sequence", [], ["Priya Raman", "Dana Lee"])] * 2,  # replies reach the CSM
        ),
        ("structured", [("intro_email", ["priya"], ["Dana Lee"])]),
        # Scheduled, then moved: the same invitation twice (SEQUENCE 0 then 1).
        ("white_glove", [("live_call", ["maria", "erin"], ["Priya Raman"])] * 2),
        ("partner_mediated", [("three_way", ["maria", "priya", "pam"], [])]),
        ("internal", [("internal_note", ["priya"], [])]),
    ],
)
def test_each_approach_sends_its_introduction(approach, expected):
    lines = lines_of(approach)
    assert introduced(lines) == expected
    assert "acme.example" not in str([line for line in lines if line["kind"] == "introduced"])


def test_white_glove_keeps_the_ae_for_three_calls_and_fourteen_days():
    lines = lines_of("white_glove")
    assert [line["sequence"] for line in lines if line["kind"] == "introduced"] == [0, 1]
    assert [line["call"] for line in lines if line["kind"] == "ae_call"] == ["intro", "first_touch", "kickoff"]
    [started] = [line for line in lines if line["kind"] == "ae_transition_started"]
    [ended] = [line for line in lines if line["kind"] == "ae_transition_ended"]
    assert ended["at"] == started["until"]
    told = [line for line in lines if line["kind"] == "notified" and line["event"] == "ae_transition_ended"]
    assert [line["to"] for line in told] == [["maria"]]


def test_the_partner_manager_hears_each_step():
    events = [line["event"] for line in lines_of("partner_mediated") if line["kind"] == "notified"]
    partner = [event for event in events if event.startswith("partner_")]
    assert partner == [
        "partner_closed",
        "partner_csm_assigned",
        "partner_intro_scheduled",
        "partner_intro_scheduled",
        "partner_kickoff",
    ]
