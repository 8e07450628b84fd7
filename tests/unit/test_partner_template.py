"""The partner template: partner-mediated deals are scored on the partner's context too (who stays the
contact, their implementation plan, support tier, engagement model, whether end-customer contacts are
shared); other deals, and runs whose policy predates it, are not."""

from __future__ import annotations

import pytest

from domain.approach_kinds import Approach
from domain.document import Contact, FieldName, HandoffDocument, PartnerContext
from domain.field_rules import judge
from domain.policy import Policy, parse_policy
from domain.scoring import score_document
from tests.handoffs import READY_DOCUMENT

pytestmark = pytest.mark.unit

FULL = PartnerContext(
    partner_contact=Contact(name="Ola Berg", title="Partner success lead", email="ola@northwind.example"),
    implementation_plan="Northwind configures SSO and imports users in week 1, trains admins in week 2.",
    support_tier="Partner first line, vendor second line (P1 in 4h).",
    engagement_model="Weekly three-way sync; the partner joins every QBR.",
    end_customer_contacts_shared=False,
)


def status(context: PartnerContext | None) -> float:
    return judge(FieldName.PARTNER_CONTEXT, HandoffDocument(partner_context=context)).status


def test_every_part_stated_is_specific_some_is_generic_none_is_empty():
    assert status(FULL) == 1.0
    assert status(FULL.model_copy(update={"support_tier": ""})) == 0.5
    assert status(FULL.model_copy(update={"end_customer_contacts_shared": None})) == 0.5
    assert status(PartnerContext(partner_contact=Contact(name="Ola Berg"))) == 0.5
    assert status(PartnerContext()) == 0.0
    assert status(None) == 0.0


def test_placeholders_do_not_count_as_stated():
    tbd = PartnerContext(implementation_plan="TBD", support_tier="see notes", engagement_model="-")
    assert status(tbd) == 0.0
    reason = judge(FieldName.PARTNER_CONTEXT, HandoffDocument(partner_context=tbd)).reason
    assert "implementation plan" in reason and "support tier" in reason


def test_partner_deals_count_it_others_do_not():
    policy = parse_policy(None)
    with_context = READY_DOCUMENT.model_copy(update={"partner_context": FULL})
    partner = score_document(READY_DOCUMENT, policy, approach=Approach.PARTNER_MEDIATED)
    assert FieldName.PARTNER_CONTEXT in partner.fields and partner.score < 100
    assert score_document(with_context, policy, approach=Approach.PARTNER_MEDIATED).score == 100.0
    structured = score_document(READY_DOCUMENT, policy, approach=Approach.STRUCTURED)
    assert FieldName.PARTNER_CONTEXT not in structured.fields and structured.score == 100.0


def test_a_policy_snapshot_from_before_the_template_scores_partner_deals_as_it_did():
    """A snapshot dumped before: no partner_context weight, the partner profile without scored_fields."""
    data = Policy().model_dump(mode="json")
    del data["scoring"]["weights"]["partner_context"]
    data["approaches"]["partner_mediated"]["scored_fields"] = None
    old = Policy.model_validate(data)
    report = score_document(READY_DOCUMENT, old, approach=Approach.PARTNER_MEDIATED)
    assert FieldName.PARTNER_CONTEXT not in report.fields and report.score == 100.0


def test_no_one_crm_property_can_be_mapped_to_it():
    from domain.policy import PolicyError

    with pytest.raises(PolicyError) as err:
        parse_policy({"crm_fields": {"hubspot": {"document": {"partner_context": "partner_notes"}}}})
    assert "crm_fields.hubspot.document" in str(err.value) and "partner_context" in str(err.value)
