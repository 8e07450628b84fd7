"""The assign_csm activity with a people directory: its CS team's seats, people's holidays and capacity,
and an expansion or renewal staying with the account's CSM. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.store_activities import DIRECTORY_UNUSABLE, AssignCsm, CsmChoice, StoreActivities
from domain.approach_kinds import Approach
from domain.deal import Deal
from domain.directory import Directory, DirectoryError, parse_directory
from domain.state import Outcome, Phase
from domain.teams import Csm, CsTeam
from tests.test_store import DAY, make_state, record

POLICY_TEAM = CsTeam(name="mid-market", approaches=[Approach.STRUCTURED, Approach.INTERNAL], csms=[Csm(id="csm-mm-1")])


def directory(**changes) -> Directory:
    people = [
        {"id": "lena", "name": "Lena Fischer", "email": "lena@example.com"},
        {"id": "priya", "name": "Priya Raman", "email": "priya@example.com"},
        {"id": "tom", "name": "Tom Becker", "email": "tom@example.com", "out_of_office": [[str(DAY), str(DAY)]]},
        {"id": "erin", "name": "Erin Walsh", "email": "erin@example.com"},
    ]
    data = {
        "people": people,
        "cs_teams": [
            {
                "name": "mm",
                "approaches": ["structured", "internal"],
                "lead": "lena",
                "manager": "lena",
                "csms": [{"person": "tom"}, {"person": "priya", "capacity": 1}, {"person": "erin"}],
            }
        ],
        "revops": "lena",
    }
    return parse_directory(data | changes)


def assign(store, request: AssignCsm, found: Directory | None = None) -> CsmChoice:
    acts = StoreActivities(store.engine, directory=lambda: found)
    result: CsmChoice = ActivityEnvironment().run(acts.assign_csm, request)
    return result


def request(n: int, approach: Approach | None = Approach.STRUCTURED, account: str = "Acme", day=DAY) -> AssignCsm:
    return AssignCsm(workflow_id=f"baton-hubspot-{n}", team=POLICY_TEAM, day=day, approach=approach, account=account)


def test_the_directory_team_skips_who_is_away_and_who_is_full(store):
    people = directory()
    first = assign(store, request(1), people)
    assert first == CsmChoice(
        csm="priya", team="mm", reason="round robin in team mm: priya (skipped tom out of office)"
    )
    assert assign(store, request(2), people) == CsmChoice(csm="erin", team="mm", reason="round robin in team mm: erin")
    # Back at tom, who is away today; priya holds 1 of her 1 seat.
    third = assign(store, request(3), people)
    assert third.csm == "erin"
    assert third.reason == "round robin in team mm: erin (skipped tom out of office, priya at capacity (1/1))"
    # The next day tom is back, and it is his turn.
    assert assign(store, request(4, day=DAY + timedelta(days=1)), people).csm == "tom"


def test_holidays_and_seats_are_read_at_each_choice(store):
    assert assign(store, request(1), directory()).csm == "priya"
    # An edit to the file, no restart and no new run: erin is away too, and priya's seat grows.
    data = directory().model_dump(mode="json")
    data["people"][3]["out_of_office"] = [[str(DAY), str(DAY)]]
    data["cs_teams"][0]["csms"][1]["capacity"] = 2
    choice = assign(store, request(2), parse_directory(data))
    assert choice == CsmChoice(
        csm="priya", team="mm", reason="round robin in team mm: priya (skipped erin out of office, tom out of office)"
    )


def test_without_a_directory_or_its_cs_teams_the_policy_team_serves(store):
    assert assign(store, request(1), None) == CsmChoice(
        csm="csm-mm-1", team="mid-market", reason="round robin in team mid-market: csm-mm-1"
    )
    people_only = directory(cs_teams=[])
    assert assign(store, request(2), people_only).team == "mid-market"


def test_a_directory_without_a_team_for_the_approach_assigns_nobody(store):
    choice = assign(store, request(1, approach=Approach.WHITE_GLOVE), directory())
    assert choice == CsmChoice(
        csm=None, team="mid-market", reason="no CS team in the directory serves white_glove handoffs"
    )


def test_a_request_recorded_before_the_directory_still_reads_and_uses_the_policy_team(store):
    # The shape an old history carries: no approach, no account.
    old = AssignCsm.model_validate({"workflow_id": "baton-hubspot-9", "team": POLICY_TEAM.model_dump(), "day": DAY})
    assert (old.approach, old.account) == (None, "")
    assert assign(store, old, directory()).csm == "csm-mm-1"


def test_a_directory_that_an_edit_broke_is_a_retryable_failure(store):
    def broken() -> Directory:
        raise DirectoryError("invalid directory:\n  people.0.email: not an e-mail address")

    acts = StoreActivities(store.engine, directory=broken)
    with pytest.raises(ApplicationError) as caught:
        ActivityEnvironment().run(acts.assign_csm, request(1))
    assert caught.value.type == DIRECTORY_UNUSABLE and not caught.value.non_retryable
    assert "people.0.email" in str(caught.value)


def earlier_handoff(store, n: int, csm: str, account: str = "Acme", days_ago: int = 200, **kw) -> None:
    state = make_state(2, deal_id=str(n), csm=csm, **kw)
    closed = datetime(2026, 3, 6, tzinfo=UTC) - timedelta(days=days_ago)
    state.deal = Deal(crm="hubspot", deal_id=str(n), account=account, amount=60_000, ae="ada", closed_at=closed)
    record(store, state)


def test_an_expansion_keeps_the_accounts_csm_even_when_away_or_full(store):
    earlier_handoff(store, 1, "tom", days_ago=400)
    earlier_handoff(store, 2, "priya", days_ago=100)  # the latest one counts
    earlier_handoff(store, 3, "erin", account="Other Co", days_ago=10)
    earlier_handoff(store, 4, "erin", days_ago=5, outcome=Outcome.LOST, phase=Phase.CLOSED, ended=True)
    assign(store, request(50), directory())  # priya's one seat is taken now
    expansion = request(5, approach=Approach.INTERNAL)
    choice = assign(store, expansion, directory())
    assert choice == CsmChoice(csm="priya", team="mm", reason="the account's CSM from its earlier handoff: priya")
    assert assign(store, expansion, directory()).reason == "already assigned to priya (team mm)"


def test_an_expansion_without_a_known_csm_goes_round_robin_and_says_why(store):
    choice = assign(store, request(6, approach=Approach.INTERNAL, account="New Co"), directory())
    assert choice.csm == "priya"
    assert choice.reason.endswith("(no earlier handoff of the account has a CSM)")
    earlier_handoff(store, 7, "ghost")
    left = assign(store, request(8, approach=Approach.INTERNAL), directory())
    assert left.csm == "erin" and left.reason.endswith("(the account's CSM ghost is no longer in the directory)")


def test_without_a_directory_an_expansion_keeps_the_csm_the_read_model_knows(store):
    earlier_handoff(store, 1, "csm-star")
    assert assign(store, request(2, approach=Approach.INTERNAL), None).csm == "csm-star"
    # A new-business deal of the same account is not an expansion: round robin.
    assert assign(store, request(3, approach=Approach.STRUCTURED), None).csm == "csm-mm-1"
