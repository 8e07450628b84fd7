"""Every row of the approach selection matrix, with the lifts and the currency rule."""

import pytest

from domain.approach import PS_TEAM, select_approach
from domain.approach_kinds import Approach
from domain.deal import Deal, DealType
from domain.policy import Policy

pytestmark = pytest.mark.unit

POLICY = Policy()


def deal(**fields) -> Deal:
    return Deal(crm="hubspot", deal_id="1", **fields)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"acv": 8_000}, Approach.AUTOMATED),
        ({"acv": 24_999.99}, Approach.AUTOMATED),
        ({"acv": 25_000}, Approach.STRUCTURED),
        ({"acv": 99_999}, Approach.STRUCTURED),
        ({"acv": 100_000}, Approach.WHITE_GLOVE),
        ({"acv": 150_000}, Approach.WHITE_GLOVE),
        ({"acv": 300_000, "deal_type": DealType.EXPANSION}, Approach.INTERNAL),
        ({"acv": 5_000, "deal_type": DealType.RENEWAL}, Approach.INTERNAL),
        ({"acv": 300_000, "channel_partner": "Acme Resellers"}, Approach.PARTNER_MEDIATED),
        ({"acv": 5_000, "custom_implementation": True}, Approach.WHITE_GLOVE),
        ({"acv": 5_000, "professional_services": True}, Approach.STRUCTURED),
        ({"acv": 50_000, "professional_services": True}, Approach.STRUCTURED),
        ({"acv": 150_000, "professional_services": True}, Approach.WHITE_GLOVE),
        ({"acv": 5_000, "deal_type": DealType.EXPANSION, "custom_implementation": True}, Approach.INTERNAL),
        ({"acv": 5_000, "channel_partner": "P", "custom_implementation": True}, Approach.PARTNER_MEDIATED),
    ],
)
def test_matrix(fields, expected):
    assert select_approach(deal(**fields), POLICY).approach is expected


def test_acv_derived_from_amount_and_term():
    two_year = deal(amount=60_000, contract_months=24)
    assert two_year.annual_value == 30_000
    assert select_approach(two_year, POLICY).approach is Approach.STRUCTURED


def test_professional_services_adds_recipient_and_plan():
    decision = select_approach(deal(acv=5_000, professional_services=True), POLICY)
    assert decision.extra_recipients == [PS_TEAM]
    assert decision.requires_implementation_plan
    assert "professional services" in decision.reason
    plain = select_approach(deal(acv=5_000), POLICY)
    assert plain.extra_recipients == [] and not plain.requires_implementation_plan


def test_foreign_currency_converts_at_policy_rate():
    # 95k EUR at 1.08 is 102.6k USD: white glove, though 95k alone would be structured.
    decision = select_approach(deal(acv=95_000, currency="EUR"), POLICY)
    assert decision.approach is Approach.WHITE_GLOVE
    assert decision.acv_in_base == pytest.approx(102_600)
    assert decision.warnings == []


def test_currency_without_rate_is_banded_as_given_with_warning():
    decision = select_approach(deal(acv=30_000, currency="JPY"), POLICY)
    assert decision.approach is Approach.STRUCTURED
    assert "JPY" in decision.warnings[0]


def test_bands_come_from_policy():
    policy = Policy.model_validate({"acv": {"structured_from": 10_000, "white_glove_from": 50_000}})
    assert select_approach(deal(acv=12_000), policy).approach is Approach.STRUCTURED
    assert select_approach(deal(acv=60_000), policy).approach is Approach.WHITE_GLOVE
