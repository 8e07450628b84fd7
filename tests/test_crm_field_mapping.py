"""The per-CRM field mapping (policy `crm_fields`): deal facts and document fields from CRM properties,
in the webhook parsers' events and in the CRM fetch alike (issue 12, items 4-5)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest
from temporalio.testing import ActivityEnvironment

from activities.crm import CrmActivities, FetchDeal
from activities.crm_clients import HubSpotCrm, PipedriveCrm
from api.crm import PayloadError, parse_hubspot_batch, parse_hubspot_workflow, parse_outbound_message, parse_pipedrive
from api.ingest_plan import DOCUMENT, plan
from domain.approach import select_approach
from domain.approach_kinds import Approach
from domain.deal import Deal, DealType
from domain.document import ContactRole
from domain.policy import PolicyError, parse_policy

pytestmark = pytest.mark.unit

LEARNED = datetime(2026, 3, 6, 15, tzinfo=UTC)
# Pipedrive custom fields are keyed by a 40-character hash its API assigns to each field.
PD_TYPE = "9f4e2c3a8b1d7e6f5a4b3c2d1e0f9a8b7c6d5e4f"
PD_PARTNER = "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b"
POLICY = parse_policy(
    {
        "crm_fields": {
            "hubspot": {
                "deal": {
                    "channel_partner": "partner_name",
                    "professional_services": "ps_attached",
                    "custom_implementation": "custom_build",
                    "products": "products_sold",
                },
                "document": {"goals": "handoff_goals", "risks": "handoff_risks", "stakeholders": "handoff_contacts"},
                "submitted": "handoff_submitted",
            },
            "pipedrive": {
                "deal": {"deal_type": PD_TYPE, "channel_partner": PD_PARTNER},
                "deal_types": {"Upsell": "expansion", "New logo": "new_business"},
            },
        }
    }
)


def _one(events):
    [planned] = plan(events, POLICY, learned_at=LEARNED)
    return planned


def hubspot_workflow(**properties) -> bytes:
    """A workflow "Send a webhook" body with the classic property envelope."""
    wrapped = {name: {"value": value, "timestamp": 1741273200000} for name, value in properties.items()}
    return json.dumps({"objectId": 9876543210, "portalId": 62515, "properties": wrapped}).encode()


def test_policy_check_keeps_standard_mappings_and_names_a_bad_key():
    hubspot = POLICY.crm_fields["hubspot"]
    assert hubspot.deal["deal_type"] == "dealtype" and hubspot.deal["acv"] == "hs_acv"
    assert POLICY.crm_fields["salesforce"].deal["deal_type"] == "Type"
    with pytest.raises(PolicyError, match=r"crm_fields\.hubspot\.deal\.partner_nam"):
        parse_policy({"crm_fields": {"hubspot": {"deal": {"partner_nam": "x"}}}})
    with pytest.raises(PolicyError, match=r"crm_fields\.pipedrive\.deal_types\.x"):
        parse_policy({"crm_fields": {"pipedrive": {"deal_types": {"x": "upsell"}}}})


def test_hubspot_workflow_webhook_carries_the_facts_the_approach_matrix_needs():
    planned = _one(
        parse_hubspot_workflow(
            hubspot_workflow(
                dealstage="closedwon",
                dealname="Globex",
                amount="18000",
                dealtype="existingbusiness",
                partner_name="Initech Partners",
                ps_attached="true",
                products_sold="Routing Pro;Fleet Analytics",
            )  # fmt: skip
        )
    )
    deal = planned.deal
    assert (deal.deal_type, deal.channel_partner, deal.professional_services) == (
        DealType.EXPANSION, "Initech Partners", True,
    )  # fmt: skip
    assert deal.products == ["Routing Pro", "Fleet Analytics"]
    assert select_approach(deal, POLICY).approach is Approach.INTERNAL


def test_a_partner_on_a_new_deal_makes_it_partner_mediated():
    planned = _one(parse_hubspot_workflow(hubspot_workflow(dealstage="closedwon", partner_name="Initech Partners")))
    assert select_approach(planned.deal, POLICY).approach is Approach.PARTNER_MEDIATED


def test_pipedrive_custom_fields_v2_and_v1_map_to_deal_type_and_partner():
    v2 = {
        "meta": {"version": "2.0", "entity": "deal", "action": "change", "id": "7b6e", "timestamp": "2026-03-06T14:02:11Z"},
        "data": {
            "id": 4211, "title": "Globex", "status": "won", "won_time": "2026-03-06T14:02:11Z",
            "custom_fields": {PD_TYPE: "Upsell", PD_PARTNER: {"value": "Initech Partners"}},
        },
        "previous": {"status": "open"},
    }  # fmt: skip
    deal = _one(parse_pipedrive(json.dumps(v2).encode())).deal
    assert (deal.deal_type, deal.channel_partner) == (DealType.EXPANSION, "Initech Partners")
    v1 = {
        "v": 1, "event": "updated.deal",
        "meta": {"action": "updated", "object": "deal", "id": 4212, "timestamp": 1741269731},
        "current": {"id": 4212, "title": "Globex", "status": "won", "won_time": "2026-03-06 14:02:11", PD_TYPE: "Upsell"},
        "previous": {"id": 4212, "status": "open"},
    }  # fmt: skip
    assert _one(parse_pipedrive(json.dumps(v1).encode())).deal.deal_type is DealType.EXPANSION


def test_salesforce_type_maps_through_the_standard_mapping():
    outbound = parse_outbound_message(_outbound(Type="Existing Customer - Upgrade"))
    assert _one(outbound.notifications).deal.deal_type is DealType.EXPANSION


def test_document_properties_at_the_win_change_the_document_without_submitting():
    planned = _one(
        parse_hubspot_workflow(
            hubspot_workflow(
                dealstage="closedwon",
                handoff_goals="Cut late deliveries from 9% to under 4% by Q3 2026.",
                handoff_contacts="Priya Shah | COO | executive sponsor | signs off\nTom Becker | IT Director | it",
            )
        )
    )
    assert planned.document is None  # nothing counts as submitted
    assert planned.crm_document.goals.startswith("Cut late deliveries")
    [priya, tom] = planned.crm_document.stakeholders
    assert (priya.name, priya.title, priya.role, priya.notes) == (
        "Priya Shah",
        "COO",
        ContactRole.EXECUTIVE_SPONSOR,
        "signs off",
    )
    assert (tom.role, tom.notes) == (ContactRole.IT, "")


def test_the_mapped_submitted_property_submits():
    planned = _one(
        parse_hubspot_workflow(hubspot_workflow(dealstage="closedwon", handoff_goals="x", handoff_submitted="true"))
    )
    assert planned.document is not None and planned.document.goals == "x"


def test_a_later_document_property_change_is_a_document_event_for_the_running_handoff():
    batch = [
        {
            "eventId": 3817212, "subscriptionId": 2412, "portalId": 62515, "appId": 1160452,
            "occurredAt": 1741273200000, "subscriptionType": "deal.propertyChange", "attemptNumber": 0,
            "objectId": 9876543210, "propertyName": "handoff_risks",
            "propertyValue": "Their data team is two people and migration starts in May.",
            "changeSource": "CRM_UI",
        }
    ]  # fmt: skip
    planned = _one(parse_hubspot_batch(json.dumps(batch).encode()))
    assert planned.kind == DOCUMENT and not planned.submit
    assert planned.crm_document.risks.startswith("Their data team")


def test_an_unmapped_property_change_is_ignored_and_a_bad_mapped_value_names_the_property():
    batch = [
        {
            "eventId": 1, "subscriptionId": 2412, "portalId": 62515, "occurredAt": 1741273200000,
            "subscriptionType": "deal.propertyChange", "attemptNumber": 0, "objectId": 9876543210,
            "propertyName": "amount", "propertyValue": "84000",
        }
    ]  # fmt: skip
    assert _one(parse_hubspot_batch(json.dumps(batch).encode())).kind == "other"
    with pytest.raises(PayloadError) as raised:
        _one(parse_hubspot_workflow(hubspot_workflow(dealstage="closedwon", ps_attached="maybe")))
    assert raised.value.field == "properties.ps_attached"


async def test_pipedrive_fetch_reads_mapped_custom_fields():
    """Pipedrive's fetch read neither deal type nor partner: expansions were missed."""
    deal_json = {
        "success": True,
        "data": {
            "id": 4211, "title": "Globex", "owner_id": 1234568, "value": 48000, "currency": "EUR", "status": "won",
            "add_time": "2025-11-10T14:22:31Z", "won_time": "2026-03-02T17:00:00Z",
            "custom_fields": {PD_TYPE: "Upsell", PD_PARTNER: "Initech Partners"},
        },
    }  # fmt: skip

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=deal_json)

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        acts = CrmActivities({"pipedrive": PipedriveCrm("pd-token", http=http)})
        request = FetchDeal(
            deal=Deal(crm="pipedrive", deal_id="4211"),
            calendar=POLICY.calendar,
            learned_at=LEARNED,
            fields=POLICY.crm_fields["pipedrive"],
        )
        deal = await ActivityEnvironment().run(acts.fetch_deal, request)
    assert (deal.deal_type, deal.channel_partner) == (DealType.EXPANSION, "Initech Partners")


def _outbound(**extra: str) -> bytes:
    fields = "".join(f"<sf:{name}>{value}</sf:{name}>" for name, value in extra.items())
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"
 xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <soapenv:Body>
  <notifications xmlns="http://soap.sforce.com/2005/09/outbound">
   <OrganizationId>00D5g000004XyZaEAK</OrganizationId>
   <ActionId>04k5g000000XyZ1AAK</ActionId>
   <SessionId xsi:nil="true"/>
   <EnterpriseUrl>https://acme.my.salesforce.com/services/Soap/c/61.0/00D5g000004XyZa</EnterpriseUrl>
   <PartnerUrl>https://acme.my.salesforce.com/services/Soap/u/61.0/00D5g000004XyZa</PartnerUrl>
   <Notification>
    <Id>04l5g00000AbCdEAAV</Id>
    <sObject xsi:type="sf:Opportunity" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
     <sf:Id>0065g00000XyZabAAF</sf:Id>
     <sf:Name>Globex</sf:Name>
     <sf:StageName>Closed Won</sf:StageName>
     <sf:CloseDate>2026-03-06</sf:CloseDate>
     {fields}
    </sObject>
   </Notification>
  </notifications>
 </soapenv:Body>
</soapenv:Envelope>""".encode()


async def test_hubspot_fetch_reads_mapped_document_properties_and_the_submitted_property():
    """The AE writes the document in HubSpot; the fetch at the start of the handoff reads it, and the
    mapped "submitted" property is reported, not acted on, by the activity."""
    requested: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        requested.append(request.url.params.get("properties", ""))
        properties = {
            "dealname": "Globex",
            "dealstage": "closedwon",
            "closedate": "2026-03-06T00:00:00.000Z",
            "handoff_goals": "Cut late deliveries from 9% to under 4% by Q3 2026.",
            "handoff_submitted": "true",
        }
        return httpx.Response(200, json={"id": "9876543210", "properties": properties, "associations": {}})

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        acts = CrmActivities({"hubspot": HubSpotCrm("hs-token", http=http)})
        request = FetchDeal(
            deal=Deal(crm="hubspot", deal_id="9876543210"),
            calendar=POLICY.calendar,
            learned_at=LEARNED,
            fields=POLICY.crm_fields["hubspot"],
        )
        fetched = await ActivityEnvironment().run(acts.fetch_deal, request)
    # The mapped properties are asked for by name (HubSpot returns only those named).
    assert {"handoff_goals", "handoff_risks", "partner_name", "dealtype"} <= set(requested[0].split(","))
    assert fetched.crm_document.goals.startswith("Cut late deliveries") and fetched.crm_submitted
    # A date-picker close (midnight UTC) placed in the policy calendar: learned earlier that day wins.
    assert fetched.deal().closed_at == LEARNED
