"""Who may do what on a handoff page: the directory's roles and the handoff's owners (pure rules)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from api.pages.access import display_name, handoff_access, queue_scope, reads_scorecard
from domain.approach import ApproachDecision
from domain.approach_kinds import Approach
from domain.deal import Deal
from domain.state import HandoffState, Owners, Phase
from infra.directory_file import read_directory
from tests.pages_rig import EXAMPLE_DIRECTORY, MARIA_OWNER_ID

pytestmark = pytest.mark.unit
PEOPLE = read_directory(EXAMPLE_DIRECTORY)


def state(phase: Phase = Phase.INTAKE_REVIEW, **owners) -> HandoffState:
    deal = Deal(
        crm="hubspot", deal_id="9876543210", account="Globex", acv=50_000, closed_at=datetime(2026, 3, 6, tzinfo=UTC)
    )
    return HandoffState(
        workflow_id="baton-hubspot-9876543210",
        deal=deal,
        policy_name="default",
        phase=phase,
        approach=ApproachDecision(approach=Approach.STRUCTURED, reason="ACV 50,000", acv_in_base=50_000),
        owners=Owners(**{"ae": MARIA_OWNER_ID, "csm": "priya", "cs_team": "mid-market", **owners}),
    )


def can(person_id: str, handoff: HandoffState) -> set[str]:
    access = handoff_access(PEOPLE, PEOPLE.person(person_id), handoff)
    return {
        name
        for name in ("read", "edit_document", "intro", "cs_steps", "assign_csm", "extend_deadlines")
        if getattr(access, name)
    }


def test_each_person_gets_what_their_place_in_the_handoff_allows():
    handoff = state()
    assert can("maria", handoff) == {"read", "edit_document", "intro"}  # the AE, by HubSpot owner id
    assert can("priya", handoff) == {"read", "intro", "cs_steps"}  # the assigned CSM
    assert can("lena", handoff) == {"read", "intro", "cs_steps", "assign_csm", "extend_deadlines"}  # team lead
    assert can("carl", handoff) == can("lena", handoff)  # the team's CS manager
    for reader in ("dan", "vera", "rita"):  # sales manager, VP, RevOps: read every handoff
        assert can(reader, handoff) == {"read"}
    assert can("sam", handoff) == set() and can("tom", handoff) == set()  # another AE, another CSM


def test_a_recovery_owner_stands_in_for_a_departed_ae():
    assert "edit_document" in can("sam", state(recovery_owner="sam"))


def test_before_a_team_is_assigned_the_team_serving_the_approach_leads():
    handoff = state(cs_team="", csm="")
    assert "assign_csm" in can("lena", handoff) and can("priya", handoff) == set()


def test_a_closed_handoff_is_read_only():
    assert can("maria", state(phase=Phase.CLOSED)) == {"read"}
    assert can("lena", state(phase=Phase.CLOSED)) == {"read"}


def test_queue_and_scorecard_by_role():
    roles = {pid: PEOPLE.roles_of(pid) for pid in ("maria", "priya", "lena", "carl", "dan", "vera", "rita", "pam")}
    assert {pid for pid, r in roles.items() if reads_scorecard(r)} == {"lena", "carl", "dan", "vera", "rita"}
    assert {pid: queue_scope(r) for pid, r in roles.items()} == {
        "maria": None, "priya": "own", "lena": "all", "carl": "all", "dan": None, "vera": None, "rita": "all", "pam": None,
    }  # fmt: skip


def test_names_for_what_the_read_model_stores():
    assert display_name(PEOPLE, MARIA_OWNER_ID, "hubspot") == "Maria Lopez"
    assert display_name(PEOPLE, MARIA_OWNER_ID) == "Maria Lopez"  # a scorecard group has no CRM
    assert display_name(PEOPLE, "priya") == "Priya Raman"
    assert display_name(PEOPLE, "ERIN.WALSH@example.com") == "Erin Walsh"
    assert display_name(PEOPLE, "csm-mm-1") == "csm-mm-1" and display_name(PEOPLE, None) == ""
