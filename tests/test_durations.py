from datetime import timedelta

import pytest
from pydantic import BaseModel, ValidationError

from domain.durations import (
    Duration,
    DurationField,
    DurationUnit,
    business_days,
    business_hours,
    days,
    hours,
    minutes,
    parse_duration,
    seconds,
)

pytestmark = pytest.mark.unit


class Policy(BaseModel):
    wait: DurationField


@pytest.mark.parametrize(
    ("text", "unit", "amount"),
    [
        ("30s", DurationUnit.CLOCK, 30),
        ("15m", DurationUnit.CLOCK, 900),
        ("48h", DurationUnit.CLOCK, 172_800),
        ("7d", DurationUnit.CLOCK, 604_800),
        ("3bd", DurationUnit.BUSINESS_DAYS, 3),
        ("4bh", DurationUnit.BUSINESS_HOURS, 4),
        ("0s", DurationUnit.CLOCK, 0),
        ("0bd", DurationUnit.BUSINESS_DAYS, 0),
    ],
)
def test_each_unit_parses_and_round_trips(text, unit, amount):
    d = parse_duration(text)
    assert (d.unit, d.amount) == (unit, amount)
    assert str(d) == text
    assert parse_duration(str(d)) == d


@pytest.mark.parametrize(
    ("text", "total", "canonical"),
    [
        ("2d3h", 2 * 86_400 + 3 * 3_600, "2d3h"),
        ("+2d3h", 2 * 86_400 + 3 * 3_600, "2d3h"),
        ("1h30m", 5_400, "1h30m"),
        ("90m", 5_400, "1h30m"),
        ("1d2h3m4s", 93_784, "1d2h3m4s"),
        ("+3bd", 3, "3bd"),
        ("  48h \n", 172_800, "48h"),
        ("3600s", 3_600, "1h"),
        ("0d", 0, "0s"),
    ],
)
def test_compound_plus_and_canonical_form(text, total, canonical):
    d = parse_duration(text)
    assert d.amount == total
    assert str(d) == canonical
    assert str(parse_duration(canonical)) == canonical


def test_hours_and_days_compare_equal_but_print_as_written():
    assert parse_duration("48h") == parse_duration("2d")
    assert (str(parse_duration("48h")), str(parse_duration("2d"))) == ("48h", "2d")
    assert hash(parse_duration("48h")) == hash(parse_duration("2d"))


@pytest.mark.parametrize(
    "bad", ["", "   ", "3x", "-2h", "2bd3h", "3h2bd", "abc", "h", "+", "3h2d", "1.5h", "3BD", "2 h", "3bd4bh"]
)
def test_garbage_is_rejected_with_input_and_accepted_forms(bad):
    with pytest.raises(ValueError) as exc:
        parse_duration(bad)
    assert repr(bad) in str(exc.value)
    assert "accepted forms" in str(exc.value)


def test_mixing_business_units_is_explained():
    with pytest.raises(ValueError, match="business units cannot be combined"):
        parse_duration("2bd3h")


def test_non_string_is_rejected():
    with pytest.raises(ValueError, match="expected a string"):
        parse_duration(5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("made", "text"),
    [
        (seconds(45), "45s"),
        (minutes(15), "15m"),
        (hours(48), "48h"),
        (days(7), "7d"),
        (business_days(3), "3bd"),
        (business_hours(4), "4bh"),
    ],
)
def test_constructors_match_parser(made, text):
    assert made == parse_duration(text)
    assert str(made) == text


def test_clock_duration_as_timedelta_and_seconds():
    d = parse_duration("2d3h")
    assert d.as_timedelta() == timedelta(days=2, hours=3)
    assert d.seconds == 183_600
    assert not d.is_business


@pytest.mark.parametrize("text", ["3bd", "4bh"])
def test_business_duration_has_no_timedelta(text):
    d = parse_duration(text)
    assert d.is_business
    with pytest.raises(ValueError, match="business"):
        d.as_timedelta()
    with pytest.raises(ValueError):
        _ = d.seconds


@pytest.mark.parametrize(
    "kwargs",
    [
        {"unit": DurationUnit.CLOCK, "amount": -1},
        {"unit": DurationUnit.CLOCK, "amount": 1.5},
        {"unit": DurationUnit.BUSINESS_DAYS, "amount": True},
        {"unit": DurationUnit.CLOCK, "amount": 3_600, "days_written": 1},
        {"unit": DurationUnit.BUSINESS_DAYS, "amount": 3, "days_written": 1},
    ],
)
def test_direct_construction_is_validated(kwargs):
    with pytest.raises(ValueError):
        Duration(**kwargs)


@pytest.mark.parametrize("text", ["48h", "2d3h", "3bd", "4bh", "30s", "1h30m"])
def test_pydantic_field_accepts_and_serialises(text):
    model = Policy(wait=text)
    assert model.wait == parse_duration(text)
    assert model.model_dump(mode="json") == {"wait": text}
    assert Policy.model_validate_json(model.model_dump_json()) == model


def test_pydantic_field_accepts_existing_duration():
    assert Policy(wait=business_days(2)).model_dump(mode="json") == {"wait": "2bd"}


@pytest.mark.parametrize("bad", ["3x", "-2h", "2bd3h", "", 5, {"unit": "clock", "amount": 3}])
def test_pydantic_field_rejects_with_bad_input_in_message(bad):
    with pytest.raises(ValidationError) as exc:
        Policy(wait=bad)
    assert repr(bad) in str(exc.value)


@pytest.mark.parametrize("mode", ["validation", "serialization"])
def test_pydantic_json_schema_is_string(mode):
    assert Policy.model_json_schema(mode=mode)["properties"]["wait"]["type"] == "string"
