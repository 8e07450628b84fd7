"""One CSM rule for the store and the simulator: the same handoffs get the same CSMs from both."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from domain.approach_kinds import Approach
from domain.calendar import BusinessCalendar
from domain.csm_choice import assignment_day, pick_csm
from domain.simulation.assignments import Assignments
from domain.state import Outcome, Phase
from domain.teams import Csm, CsTeam
from store import assignment
from store.engine import session_scope
from tests.test_store import DAY, make_state, record

TEAM = CsTeam(
    name="mid-market",
    approaches=[Approach.STRUCTURED],
    csms=[
        Csm(id="a", capacity=1),
        Csm(id="b", out_of_office=[(DAY, DAY + timedelta(days=1))]),
        Csm(id="c", capacity=2),
    ],
)


@pytest.mark.unit
def test_round_robin_skips_who_is_away_or_full_and_says_why():
    loads = {"a": 1, "c": 0}
    pick = pick_csm(TEAM, 0, DAY, lambda csm: loads[csm])
    assert (pick.csm, pick.position) == ("c", 0)
    assert pick.reason == "round robin in team mid-market: c (skipped a at capacity (1/1), b out of office)"
    loads["c"] = 2
    nobody = pick_csm(TEAM, 2, DAY, lambda csm: loads[csm])
    assert (nobody.csm, nobody.position) == (None, 2)
    assert nobody.reason.startswith("no CSM available in team mid-market on 2026-03-09")


@pytest.mark.unit
def test_time_off_is_read_on_the_business_calendars_day():
    # 03:30 UTC on Tuesday 10 March is still Monday 9 March (23:30) in New York.
    assert assignment_day(datetime(2026, 3, 10, 3, 30, tzinfo=UTC), BusinessCalendar()) == DAY


def test_the_store_and_the_simulator_pick_alike(store):
    in_memory = Assignments()

    def both(workflow_id: str, day: date) -> str | None:
        with session_scope(store.engine, write=True) as session:
            stored = assignment.choose_csm(session, workflow_id, TEAM, day)
        simulated = in_memory.choose(workflow_id, TEAM, day)
        assert (simulated.csm, simulated.reason) == (stored.csm, stored.reason), workflow_id
        return stored.csm

    # a takes one, b is away for two days, c takes two: then nobody is left until b is back.
    picks = [both(f"baton-hubspot-{n}", DAY) for n in range(1, 5)]
    assert picks == ["a", "c", "c", None]
    assert both("baton-hubspot-5", DAY + timedelta(days=2)) == "b"
    # a's handoff ends: a can take the next one, in both.
    record(store, make_state(2, deal_id="1", phase=Phase.CLOSED, outcome=Outcome.HANDED_OFF, ended=True))
    in_memory.ended("baton-hubspot-1")
    assert both("baton-hubspot-6", DAY) == "a"
