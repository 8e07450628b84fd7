"""Choosing the handoff approach for a deal (the seeds' selection matrix)."""

from __future__ import annotations

from pydantic import BaseModel

from domain.approach_kinds import Approach
from domain.deal import Deal, DealType
from domain.policy import AcvBands, Policy

PS_TEAM = "professional_services"


class ApproachDecision(BaseModel):
    approach: Approach
    reason: str
    acv_in_base: float
    extra_recipients: list[str] = []
    requires_implementation_plan: bool = False
    warnings: list[str] = []


def acv_in_base(deal: Deal, bands: AcvBands) -> tuple[float, list[str]]:
    """The deal's ACV in the base currency, and a warning when its currency has no fixed rate."""
    if deal.currency == bands.base_currency:
        return deal.annual_value, []
    rate = bands.exchange_rates.get(deal.currency)
    if rate is None:
        return deal.annual_value, [
            f"no exchange rate for {deal.currency}; ACV banded as given in {bands.base_currency} bands"
        ]
    return deal.annual_value * rate, []


def select_approach(deal: Deal, policy: Policy) -> ApproachDecision:
    """Deal type first, then a channel partner, then custom work, then ACV bands.

    Professional services lift an automated deal to structured, add the PS team as a recipient and
    require an implementation plan, whatever approach the deal ends up with.
    """
    acv, warnings = acv_in_base(deal, policy.acv)
    bands = policy.acv
    if deal.deal_type in (DealType.EXPANSION, DealType.RENEWAL):
        approach, reason = Approach.INTERNAL, f"{deal.deal_type.value} deal: CS already owns the relationship"
    elif deal.channel_partner:
        approach, reason = Approach.PARTNER_MEDIATED, f"sold through partner {deal.channel_partner}"
    elif deal.custom_implementation:
        approach, reason = Approach.WHITE_GLOVE, "custom implementation"
    elif acv >= bands.white_glove_from:
        approach, reason = (
            Approach.WHITE_GLOVE,
            f"ACV {acv:,.0f} {bands.base_currency} >= {bands.white_glove_from:,.0f}",
        )
    elif acv >= bands.structured_from:
        approach, reason = Approach.STRUCTURED, f"ACV {acv:,.0f} {bands.base_currency} >= {bands.structured_from:,.0f}"
    else:
        approach, reason = Approach.AUTOMATED, f"ACV {acv:,.0f} {bands.base_currency} < {bands.structured_from:,.0f}"

    decision = ApproachDecision(approach=approach, reason=reason, acv_in_base=round(acv, 2), warnings=warnings)
    if deal.professional_services:
        if approach is Approach.AUTOMATED:
            decision.approach = Approach.STRUCTURED
            decision.reason = f"{reason}; professional services attached lifts it to structured"
        decision.extra_recipients = [PS_TEAM]
        decision.requires_implementation_plan = True
    return decision
