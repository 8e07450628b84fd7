"""The handoff document as the CRM already knows it, before the AE writes a word."""

from domain.deal import Deal
from domain.document import CompetitiveContext, Contact, ContactRole, HandoffDocument, PartnerContext


def prefill(deal: Deal) -> HandoffDocument:
    """Fields the deal record can fill; the AE completes the rest (the CRM's own data never scores 1 alone)."""
    stakeholders = []
    if deal.executive_sponsor:
        stakeholders.append(Contact(name=deal.executive_sponsor, role=ContactRole.EXECUTIVE_SPONSOR))
    if deal.implementation_owner and deal.sponsor_is_not_implementation_owner:
        stakeholders.append(Contact(name=deal.implementation_owner, role=ContactRole.IMPLEMENTATION_OWNER))
    return HandoffDocument(
        scope=", ".join(deal.products),
        contract_terms=deal.contract_terms,
        stakeholders=stakeholders,
        partner_context=PartnerContext() if deal.channel_partner else None,
        competitive_context=CompetitiveContext(replaced_product=deal.replaces_competitor)
        if deal.replaces_competitor
        else None,
    )


def with_carried(base: HandoffDocument, carried: HandoffDocument | None) -> HandoffDocument:
    """What the event carried wins over the prefill wherever it says something."""
    if carried is None:
        return base
    filled = carried.model_dump(exclude_defaults=True)
    return HandoffDocument.model_validate({**base.model_dump(), **filled})
