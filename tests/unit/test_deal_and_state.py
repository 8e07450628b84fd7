"""The deal as the CRM gives it (validated, with the figures the rules derive) and the state's one-line
summary for operators."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from pydantic import ValidationError

from domain.deal import Deal
from domain.errors import ErrorType, Refused
from domain.teams import Csm
from domain.timeline import Kind, TimelineEntry
from tests.unit.machine_builders import CLOSE, CREATED, D, machine, won_deal

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("fields", "field", "says"),
    [
        ({"crm": "Hub Spot"}, "crm", "crm must be lowercase"),
        ({"deal_id": "a/b"}, "deal_id", "deal id must be 1-128"),
        ({"deal_id": "x" * 129}, "deal_id", "deal id must be 1-128"),
        ({"currency": "US"}, "currency", "3-letter ISO code"),
        ({"currency": "€€€"}, "currency", "3-letter ISO code"),
        ({"closed_at": datetime(2026, 3, 6, 15)}, "closed_at", "needs a UTC offset"),
        ({"created_at": CLOSE + D}, "", "closed_at is before created_at"),
        ({"amount": -1}, "amount", "greater than or equal to 0"),
        ({"contract_months": 0}, "contract_months", "greater than or equal to 1"),
    ],
)
def test_a_bad_deal_is_refused_naming_the_field(fields, field, says):
    with pytest.raises(ValidationError) as err:
        won_deal(**fields)
    [error] = err.value.errors()
    assert ".".join(str(p) for p in error["loc"]) == field and says in error["msg"]


def test_currency_codes_are_normalised_and_non_ascii_accounts_kept():
    d = won_deal(currency=" eur ", account="Société Générale 株式会社")
    assert d.currency == "EUR" and d.account == "Société Générale 株式会社"


def test_the_annual_value_comes_from_the_acv_or_the_amount_and_term():
    assert won_deal(acv=90_000).annual_value == 90_000
    # 240,000 over 24 months is 120,000 a year.
    assert won_deal(acv=None, amount=240_000, contract_months=24).annual_value == 120_000
    assert won_deal(acv=None, amount=0).annual_value == 0


def test_the_sales_cycle_needs_both_ends():
    assert won_deal().sales_cycle == CLOSE - CREATED == timedelta(days=60)
    assert won_deal(closed_at=None).sales_cycle is None
    assert Deal(crm="generic", deal_id="1", closed_at=CLOSE).sales_cycle is None


def test_the_summary_line_says_where_the_handoff_stands_without_contact_data():
    s = machine().state
    # The earliest open deadline is csm_briefed: Sunday 20:00 UTC, 16:00 EDT.
    assert s.summary_line() == (
        "intake_review · structured · ready 100.0 · CSM unassigned · next: csm_briefed due 2026-03-08T16:00-04:00"
    )
    assert "Priya" not in s.summary_line() and "ae@example.com" not in s.summary_line()
    m = machine()
    m.csm_chosen("csm-mm-1", "mid-market", "next in the round robin", CLOSE)
    m.tick(CLOSE + 60 * D)
    assert m.state.sla_breached
    assert m.state.summary_line().endswith("CSM csm-mm-1 · next: post_check due 2026-04-05T16:00-04:00 · SLA breached")
    fresh = machine(None).state.model_copy(update={"approach": None, "quality": None, "deadlines": {}})
    assert fresh.summary_line() == "documenting · ? · unscored · CSM unassigned · no open deadline"


def test_a_timeline_entry_is_one_flat_line():
    entry = TimelineEntry(seq=3, at=CLOSE, kind=Kind.SLA_BREACHED, details={"sla": "kickoff"})
    assert entry.as_line() == {"at": "2026-03-06T20:00:00+00:00", "kind": "sla_breached", "sla": "kickoff"}


def test_out_of_office_days_include_both_ends():
    csm = Csm(id="csm-1", out_of_office=[(date(2026, 3, 9), date(2026, 3, 13))])
    assert csm.away_on(date(2026, 3, 9)) and csm.away_on(date(2026, 3, 13))
    assert not csm.away_on(date(2026, 3, 14))


def test_a_refusal_carries_its_type_and_message():
    refused = Refused(ErrorType.INVALID_VALUE, "rating must be 1 to 5 (got 9)")
    assert (refused.type, refused.message, str(refused)) == (
        ErrorType.INVALID_VALUE,
        "rating must be 1 to 5 (got 9)",
        "rating must be 1 to 5 (got 9)",
    )
    assert ErrorType.CLOSED.value == "HandoffClosed"
