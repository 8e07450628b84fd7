"""Every approach, simulated with a deal shaped as a real CRM sends it (an owner id, no manager
addresses) and the example directory: the timeline names people only.

No `notified` entry carries a role name, every `escalated` entry names its people, and a place nobody
holds goes to the RevOps fallback with a `recipient_unresolved` warning.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from domain.directory import load_directory_text
from domain.policy import Policy
from domain.recipients import Audience
from domain.roles import Role
from domain.scenario import Scenario
from domain.simulation.simulator import simulate

pytestmark = pytest.mark.unit

EXAMPLE = Path(__file__).parents[1] / "examples" / "directory.yaml"
DIRECTORY = load_directory_text(EXAMPLE.read_text())
PEOPLE = {person.id for person in DIRECTORY.people}
ROLE_NAMES = {place.value for place in Audience} | {role.value for role in Role} | {"customer"}
# The CS teams as the directory has them: the CSM chosen is a person the directory knows.
TEAMS = [
    {"name": "scale", "approaches": ["automated"], "csms": [{"id": "priya"}]},
    {"name": "mid-market", "approaches": ["structured", "internal", "partner_mediated"], "csms": [{"id": "tom"}]},
    {"name": "enterprise", "approaches": ["white_glove"], "csms": [{"id": "erin"}]},
]
POLICY = Policy.model_validate({"teams": TEAMS})
APPROACHES = {
    "automated": {"acv": 8_000},
    "structured": {"acv": 50_000},
    "white_glove": {"acv": 250_000},
    "internal": {"acv": 40_000, "deal_type": "expansion"},
    "partner_mediated": {"acv": 60_000, "channel_partner": "Northwind Partners"},
}


def scenario(approach: str, **deal: Any) -> Scenario:
    return Scenario.model_validate(
        {
            # HubSpot sends the owner's id, never the manager's or the VP's address.
            "deal": {
                "crm": "hubspot",
                "deal_id": f"9{len(approach)}01",
                "account": "Umlaut Gärten GmbH",
                "ae": "61234567",
                "closed_at": "2026-11-05T16:00:00-05:00",
                **APPROACHES[approach],
                **deal,
            },
            # Nobody acts: every SLA breaches and escalates.
            "horizon": "40d",
        }
    )


@pytest.mark.parametrize("approach", list(APPROACHES))
def test_each_approach_reaches_named_people_only(approach):
    lines = simulate(scenario(approach), POLICY, DIRECTORY)
    assert any(line["kind"] == "approach_selected" and line["approach"] == approach for line in lines)
    notified = [line for line in lines if line["kind"] == "notified"]
    escalated = [line for line in lines if line["kind"] == "escalated"]
    assert notified and escalated
    for line in notified:
        assert line["to"], line
        assert not set(line["to"]) & ROLE_NAMES, line
        assert set(line["to"]) <= PEOPLE, line
    for line in escalated:
        assert line["to"] in ROLE_NAMES and line["people"] and set(line["people"]) <= PEOPLE, line
    # The intro ladder goes AE's manager then VP, as the sales team says (approaches with an intro).
    ladder = {line["to"]: line["people"] for line in escalated if line["sla"] == "intro_scheduled"}
    if approach in ("structured", "white_glove", "partner_mediated"):
        assert ladder == {"sales_manager": ["dan"], "vp_sales": ["vera"]}
    assert not [line for line in lines if line["kind"] == "recipient_unresolved"]


def test_a_deal_whose_owner_the_directory_does_not_know_goes_to_revops_with_a_warning():
    lines = simulate(scenario("structured", ae="99999999"), POLICY, DIRECTORY)
    unresolved = [line for line in lines if line["kind"] == "recipient_unresolved"]
    assert unresolved and {line["sent_to"] for line in unresolved} == {"rita"}
    assert {line["place"] for line in unresolved} >= {"ae", "sales_manager", "vp_sales"}
    notified = [line for line in lines if line["kind"] == "notified"]
    assert all(not set(line["to"]) & ROLE_NAMES for line in notified)


def test_the_scenario_may_carry_its_own_directory():
    data = scenario("structured").model_dump(mode="json")
    data["directory"] = {
        "people": [
            {"id": "zoe", "name": "Zoë", "email": "zoe@x.example", "crm_owner_ids": {"hubspot": ["61234567"]}},
            {"id": "ops", "name": "Ops", "email": "ops@x.example"},
        ],
        "revops": "ops",
    }
    lines = simulate(Scenario.model_validate(data), POLICY, DIRECTORY)
    assigned = next(line for line in lines if line["kind"] == "notified" and line["event"] == "document_assigned")
    assert assigned["to"] == ["zoe"]
