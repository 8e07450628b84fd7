"""`baton simulate` scenarios: instants and offsets from the close, and the move onto the server's clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import ValidationError

from domain.calendar import BusinessCalendar
from domain.scenario import CYCLE_YEARS, Scenario, ScenarioMessage, When, shift_date, time_shift
from tests.unit.machine_builders import CLOSE, NY, D, won_deal

pytestmark = pytest.mark.unit

CALENDAR = BusinessCalendar()


def scenario(**fields) -> Scenario:
    return Scenario.model_validate({"deal": won_deal().model_dump(), **fields})


def test_when_is_an_instant_or_an_offset_from_the_close():
    assert When(text="2026-03-09T10:00:00-05:00").resolve(CLOSE, CALENDAR.add) == datetime(2026, 3, 9, 15, tzinfo=UTC)
    assert When(text="+2d3h").resolve(CLOSE, CALENDAR.add) == CLOSE + timedelta(days=2, hours=3)
    # Friday 15:00 EST + 3bd: Wednesday 11th 15:00, EDT by then.
    assert When(text="+3bd").resolve(CLOSE, CALENDAR.add) == datetime(2026, 3, 11, 15, tzinfo=NY)


@pytest.mark.parametrize(
    ("at", "says"),
    [("2026-03-09T10:00:00", "needs a UTC offset"), ("+3 days", "invalid duration"), ("tuesday", "Invalid isoformat")],
)
def test_a_message_time_must_be_an_offset_or_an_instant_with_its_offset(at, says):
    with pytest.raises(ValidationError) as err:
        ScenarioMessage(at=at, type="intro")
    assert err.value.errors()[0]["loc"] == ("at",) and says in str(err.value)


def test_a_scenario_runs_from_its_close_to_its_horizon():
    s = scenario(horizon="+10d", messages=[{"at": "+1d", "type": "intake_review", "body": {"rating": 4}}])
    assert (s.close, s.end) == (CLOSE, CLOSE + 10 * D)
    assert scenario().end == CLOSE + 45 * D


@pytest.mark.parametrize(
    ("fields", "field", "says"),
    [
        ({"horizon": "10bd"}, "horizon", "a clock duration"),
        ({"deal": won_deal(closed_at=None).model_dump()}, "", "deal.closed_at is required"),
        ({"messages": [{"at": "+1d", "type": "smoke_signal"}]}, "messages.0.type", "Input should be"),
        ({"wind": "north"}, "wind", "Extra inputs"),
    ],
)
def test_a_bad_scenario_names_the_field(fields, field, says):
    with pytest.raises(ValidationError) as err:
        scenario(**fields)
    [error] = err.value.errors()
    assert ".".join(str(p) for p in error["loc"]) == field and says in error["msg"]


def test_time_moves_by_whole_28_year_cycles_that_keep_weekdays():
    shift = time_shift(CLOSE, datetime(2031, 1, 1, tzinfo=UTC))
    moved = CLOSE + shift
    assert moved == CLOSE.replace(year=2026 + CYCLE_YEARS) and moved.weekday() == CLOSE.weekday() == 4
    assert time_shift(CLOSE, CLOSE - D) == timedelta(0)
    assert shift_date(date(2026, 12, 25), shift) == date(2054, 12, 25)
