"""CRM webhook verification and parsing, against bodies shaped as each CRM documents them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from api.crm import (
    ChurnEventBody,
    DealEventBody,
    PayloadError,
    SignatureError,
    SurveyEventBody,
    check_salesforce_org,
    compare_token,
    outbound_ack,
    parse_cdc,
    parse_generic,
    parse_hubspot_batch,
    parse_hubspot_workflow,
    parse_outbound_message,
    parse_pipedrive,
    public_uri,
    to_deal_event,
    verify_basic_auth,
    verify_hubspot_v2,
    verify_hubspot_v3,
)
from domain.deal import Deal

pytestmark = pytest.mark.unit

CLOSE = datetime(2026, 3, 6, 15, 0, tzinfo=UTC)
CLOSE_MS = 1772809200000
SECRET = "7f3c2a9e-5b1d-4c8e-9a6f-2d4b8e1c0a57"
URL = "https://baton.example.com/webhooks/hubspot"


def dumps(value: object) -> bytes:
    return json.dumps(value).encode()


# ---------------------------------------------------------------- HubSpot signatures


def sign_v3(method: str, uri: str, body: bytes, timestamp: str, secret: str = SECRET) -> str:
    """Independent of the code under test: HubSpot's recipe, step by step."""
    source = method.encode() + uri.encode() + body + timestamp.encode()
    return base64.b64encode(hmac.new(secret.encode(), source, hashlib.sha256).digest()).decode()


BATCH_BODY = b'[{"eventId":1,"subscriptionType":"deal.creation","objectId":1}]'


@pytest.mark.parametrize(
    ("timestamp", "signature", "reason"),
    [
        (str(CLOSE_MS), sign_v3("POST", URL, BATCH_BODY, str(CLOSE_MS), secret="other-secret"), "bad signature"),
        (str(CLOSE_MS), sign_v3("POST", URL, BATCH_BODY + b" ", str(CLOSE_MS)), "bad signature"),
        (str(CLOSE_MS - 300_001), sign_v3("POST", URL, BATCH_BODY, str(CLOSE_MS - 300_001)), "stale timestamp"),
        (str(CLOSE_MS + 300_001), sign_v3("POST", URL, BATCH_BODY, str(CLOSE_MS + 300_001)), "future timestamp"),
        (None, "c2lnbmF0dXJl", "missing timestamp"),
        ("yesterday", "c2lnbmF0dXJl", "bad timestamp"),
        (str(CLOSE_MS), None, "missing signature"),
        (str(CLOSE_MS), "", "missing signature"),
        (str(CLOSE_MS), "sïgnature", "bad signature"),
    ],
)
def test_hubspot_v3_refuses(timestamp: str | None, signature: str | None, reason: str) -> None:
    with pytest.raises(SignatureError) as refused:
        verify_hubspot_v3(SECRET, "POST", URL, BATCH_BODY, timestamp, signature, now_ms=CLOSE_MS)
    assert refused.value.reason == reason


@pytest.mark.parametrize("age_ms", [0, 299_999, 300_000, -300_000])
def test_hubspot_v3_accepts_within_five_minutes(age_ms: int) -> None:
    sent = str(CLOSE_MS - age_ms)
    verify_hubspot_v3(SECRET, "POST", URL, BATCH_BODY, sent, sign_v3("POST", URL, BATCH_BODY, sent), now_ms=CLOSE_MS)


def test_hubspot_v3_refuses_when_no_secret_is_configured() -> None:
    sent = str(CLOSE_MS)
    with pytest.raises(SignatureError, match="not configured"):
        verify_hubspot_v3("", "POST", URL, BATCH_BODY, sent, sign_v3("POST", URL, BATCH_BODY, sent, ""), CLOSE_MS)


@pytest.mark.parametrize(
    ("received", "signed"),
    [
        (URL + "?portal=62515&since=2026-03-06T15%3A00%3A00Z", URL + "?portal=62515&since=2026-03-06T15:00:00Z"),
        (URL + "?next=%2Fdeals%3Fid%3D1", URL + "?next=/deals?id%3D1"),  # %3D is not in HubSpot's list
        (URL + "?who=ae%40example.com&x=%21%24%27%28%29%2A%2C%3B", URL + "?who=ae@example.com&x=!$'()*,;"),
        (URL + "?since=15%3a00", URL + "?since=15:00"),  # escapes are case-insensitive hex
        (URL + "?name=Acme%20Corp&a=1%262", URL + "?name=Acme%20Corp&a=1%262"),  # left encoded
    ],
)
def test_hubspot_v3_signs_the_uri_with_hubspots_escapes_decoded(received: str, signed: str) -> None:
    sent = str(CLOSE_MS)
    verify_hubspot_v3(SECRET, "POST", received, BATCH_BODY, sent, sign_v3("POST", signed, BATCH_BODY, sent), CLOSE_MS)


def test_hubspot_v3_does_not_decode_other_escapes() -> None:
    sent = str(CLOSE_MS)
    signature = sign_v3("POST", URL + "?name=Acme Corp", BATCH_BODY, sent)
    with pytest.raises(SignatureError, match="bad signature"):
        verify_hubspot_v3(SECRET, "POST", URL + "?name=Acme%20Corp", BATCH_BODY, sent, signature, CLOSE_MS)


@pytest.mark.parametrize(
    ("public_base", "request_url", "expected"),
    [
        (None, "http://10.0.3.7:8000/webhooks/hubspot?a=1", "http://10.0.3.7:8000/webhooks/hubspot?a=1"),
        ("", "http://10.0.3.7:8000/webhooks/hubspot", "http://10.0.3.7:8000/webhooks/hubspot"),
        ("https://baton.example.com", "http://10.0.3.7:8000/webhooks/hubspot?a=1&b=%3A", URL + "?a=1&b=%3A"),
        ("https://baton.example.com/", "http://worker:8000/webhooks/hubspot", URL),
        ("https://example.com/baton", "http://api:8000/webhooks/hubspot", "https://example.com/baton/webhooks/hubspot"),
        (
            "https://example.com/baton/",
            "http://api:8000/baton/webhooks/hubspot",
            "https://example.com/baton/webhooks/hubspot",
        ),
    ],
)
def test_public_uri(public_base: str | None, request_url: str, expected: str) -> None:
    assert public_uri(public_base, request_url) == expected


# HubSpot's own worked examples for the v2 signature ("Validating the v2 request signature").
HUBSPOT_DOC_SECRET = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"


@pytest.mark.parametrize(
    ("method", "body", "signature"),
    [
        ("GET", b"", "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e"),
        (
            "POST",
            b'{"example_field":"example_value"}',
            "9569219f8ba981ffa6f6f16aa0f48637d35d728c7e4d93d0d52efaa512af7900",
        ),
        (
            "POST",
            b'{"example_field":"example_value"}',
            "9569219F8BA981FFA6F6F16AA0F48637D35D728C7E4D93D0D52EFAA512AF7900",
        ),
    ],
)
def test_hubspot_v2_accepts_documented_examples(method: str, body: bytes, signature: str) -> None:
    verify_hubspot_v2(HUBSPOT_DOC_SECRET, method, "https://www.example.com/webhook_uri", body, signature)


@pytest.mark.parametrize(
    ("uri", "body", "signature", "reason"),
    [
        ("https://www.example.com/webhook_uri", b'{"example_field":"other"}', "9569219f8ba981ffa6f6f16aa0f48637d35d728c7e4d93d0d52efaa512af7900", "bad signature"),
        ("http://www.example.com/webhook_uri", b'{"example_field":"example_value"}', "9569219f8ba981ffa6f6f16aa0f48637d35d728c7e4d93d0d52efaa512af7900", "bad signature"),
        ("https://www.example.com/webhook_uri", b"{}", None, "missing signature"),
    ],
)  # fmt: skip
def test_hubspot_v2_refuses(uri: str, body: bytes, signature: str | None, reason: str) -> None:
    with pytest.raises(SignatureError) as refused:
        verify_hubspot_v2(HUBSPOT_DOC_SECRET, "POST", uri, body, signature)
    assert refused.value.reason == reason


# ---------------------------------------------------------------- shared secrets and org ids


def basic(user: str, password: str, scheme: str = "Basic") -> str:
    return f"{scheme} " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_basic_auth_accepts_the_right_pair() -> None:
    verify_basic_auth(basic("pipedrive", "s3cr:et"), "pipedrive", "s3cr:et")
    verify_basic_auth(basic("pipedrive", "s3cr:et", scheme="basic"), "pipedrive", "s3cr:et")


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, "missing credentials"),
        ("", "missing credentials"),
        (basic("pipedrive", "wrong"), "bad credentials"),
        (basic("someone", "s3cr:et"), "bad credentials"),
        (basic("pipedrive", "s3cr:et", scheme="Bearer"), "bad credentials"),
        ("Basic not*base64", "bad credentials"),
        ("Basic " + base64.b64encode(b"no-colon").decode(), "bad credentials"),
        ("Basic " + base64.b64encode(b"\xff\xfe:x").decode(), "bad credentials"),
    ],
)
def test_basic_auth_refuses(header: str | None, reason: str) -> None:
    with pytest.raises(SignatureError) as refused:
        verify_basic_auth(header, "pipedrive", "s3cr:et")
    assert refused.value.reason == reason


def test_basic_auth_refuses_everything_when_no_password_is_configured() -> None:
    with pytest.raises(SignatureError, match="not configured"):
        verify_basic_auth(basic("pipedrive", ""), "pipedrive", "")


@pytest.mark.parametrize(("given", "reason"), [(None, "missing token"), ("", "missing token"), ("tok-2", "bad token")])
def test_compare_token_refuses(given: str | None, reason: str) -> None:
    with pytest.raises(SignatureError) as refused:
        compare_token(given, "tok-1")
    assert refused.value.reason == reason
    compare_token("tok-1", "tok-1")


ORG_15, ORG_18 = "00D000000000062", "00D000000000062EAA"  # suffix worked out by hand from the casing


@pytest.mark.parametrize(
    ("sent", "configured"),
    [(ORG_18, ORG_15), (ORG_18, ORG_18), (ORG_15, ORG_18), (ORG_15, ORG_15), ("00D000000000062eaa", ORG_15)],
)
def test_salesforce_org_accepts_both_forms(sent: str, configured: str) -> None:
    check_salesforce_org(sent, configured)


@pytest.mark.parametrize(
    ("sent", "reason"),
    [(None, "missing organization"), ("00D000000000063", "wrong organization"), ("00d000000000062", "wrong organization"),
     ("00D-bad", "bad organization id")],
)  # fmt: skip
def test_salesforce_org_refuses(sent: str | None, reason: str) -> None:
    with pytest.raises(SignatureError) as refused:
        check_salesforce_org(sent, ORG_15)
    assert refused.value.reason == reason


# ---------------------------------------------------------------- HubSpot bodies


def hubspot_event(event_id: int, object_id: int, kind: str = "deal.propertyChange", **extra: object) -> dict:
    return {
        "eventId": event_id, "subscriptionId": 2417651, "portalId": 62515, "appId": 1160452,
        "occurredAt": CLOSE_MS, "subscriptionType": kind, "attemptNumber": 0, "objectId": object_id,
        "changeSource": "CRM_UI", "sourceId": "userId:8112447", **extra,
    }  # fmt: skip


HUBSPOT_BATCH = [
    hubspot_event(3817209, 9876543210, propertyName="dealstage", propertyValue="closedwon"),
    hubspot_event(3817210, 9876543210, propertyName="amount", propertyValue="84000"),
    hubspot_event(3817211, 1122334455, propertyName="dealstage", propertyValue="contractsent", attemptNumber=2),
]


def test_hubspot_batch_keeps_stage_changes_and_other_deal_properties_for_the_mapping() -> None:
    events = parse_hubspot_batch(dumps(HUBSPOT_BATCH))
    assert [(e.crm, e.deal_id, e.stage, e.event_id, e.crm_properties) for e in events] == [
        ("hubspot", "9876543210", "closedwon", "62515:9876543210:3817209", {}),
        ("hubspot", "9876543210", "", "62515:9876543210:3817210", {"amount": "84000"}),
        ("hubspot", "1122334455", "contractsent", "62515:1122334455:3817211", {}),
    ]
    assert events[0].occurred_at == CLOSE


@pytest.mark.parametrize(
    ("event", "stage"),
    [
        (hubspot_event(1, 77, "deal.creation", changeFlag="CREATED"), ""),
        (hubspot_event(2, 77, "object.propertyChange", objectTypeId="0-3", propertyName="dealstage", propertyValue="closedwon"), "closedwon"),
        (hubspot_event(3, 77, "object.creation", objectTypeId="0-3"), ""),
        (hubspot_event(4, 77, "contact.creation"), None),
        (hubspot_event(5, 77, "deal.deletion"), None),
        (hubspot_event(6, 77, "deal.associationChange"), None),
        (hubspot_event(7, 77, "object.propertyChange", objectTypeId="0-1", propertyName="dealstage", propertyValue="x"), None),
        ({"subscriptionType": "contact.propertyChange", "objectId": "not checked for skipped events"}, None),
    ],
)  # fmt: skip
def test_hubspot_batch_event_kinds(event: dict, stage: str | None) -> None:
    events = parse_hubspot_batch(dumps([event]))
    assert [e.stage for e in events] == ([] if stage is None else [stage])


def test_hubspot_batch_with_no_deal_events_is_empty() -> None:
    assert parse_hubspot_batch(b"[]") == []


HUBSPOT_WORKFLOW_CLASSIC = {
    "vid": 0, "objectId": 9876543210, "portalId": 62515, "isDeleted": False, "objectType": "DEAL",
    "properties": {
        "dealname": {"value": "Northwind Logistics", "timestamp": 1768210200000, "source": "CRM_UI", "sourceId": "userId:8112447", "versions": []},
        "dealstage": {"value": "closedwon", "timestamp": CLOSE_MS, "source": "CRM_UI", "sourceId": "userId:8112447", "versions": []},
        "amount": {"value": "84000", "timestamp": 1772000000000, "source": "CRM_UI"},
        "deal_currency_code": {"value": "eur", "timestamp": 1768210200000},
        "closedate": {"value": str(CLOSE_MS), "timestamp": CLOSE_MS},
        "createdate": {"value": "1768210200000", "timestamp": 1768210200000},
        "hubspot_owner_id": {"value": "8112447", "timestamp": 1768210200000},
        "pipeline": {"value": "default", "timestamp": 1768210200000},
    },
}  # fmt: skip

HUBSPOT_WORKFLOW_FLAT = {
    "hs_object_id": "9876543210", "dealname": "Northwind Logistics", "dealstage": "closedwon", "amount": "84000",
    "deal_currency_code": "EUR", "closedate": "2026-03-06T15:00:00.000Z", "createdate": "2026-01-12T09:30:00Z",
    "hubspot_owner_id": 8112447,
}  # fmt: skip


@pytest.mark.parametrize("body", [HUBSPOT_WORKFLOW_CLASSIC, HUBSPOT_WORKFLOW_FLAT], ids=["classic", "flat"])
def test_hubspot_workflow_both_shapes(body: dict) -> None:
    [event] = parse_hubspot_workflow(dumps(body))
    assert (event.crm, event.deal_id, event.stage) == ("hubspot", "9876543210", "closedwon")
    fields = event.deal_fields
    assert fields["account"] == "Northwind Logistics"
    assert fields["amount"] == 84000.0
    assert fields["currency"] == "EUR"
    assert fields["ae"] == "8112447"
    assert datetime.fromisoformat(fields["closed_at"]) == CLOSE
    assert datetime.fromisoformat(fields["created_at"]) == datetime(2026, 1, 12, 9, 30, tzinfo=UTC)
    Deal.model_validate({"crm": event.crm, "deal_id": event.deal_id, **fields})


def test_hubspot_workflow_classic_keys_retries_by_the_stage_change() -> None:
    [event] = parse_hubspot_workflow(dumps(HUBSPOT_WORKFLOW_CLASSIC))
    assert event.event_id == f"9876543210:closedwon:{CLOSE_MS}"
    assert event.occurred_at == CLOSE
    [flat] = parse_hubspot_workflow(dumps(HUBSPOT_WORKFLOW_FLAT))
    assert flat.event_id is None


def test_hubspot_workflow_without_a_stage_has_an_empty_stage() -> None:
    [event] = parse_hubspot_workflow(dumps({"objectId": 42, "properties": {"dealname": {"value": "Acme"}}}))
    assert (event.deal_id, event.stage, event.deal_fields) == ("42", "", {"account": "Acme"})


# ---------------------------------------------------------------- Salesforce Change Data Capture

OPP_18 = "0065g00000XyZabAAF"


def cdc_event(
    change: str = "UPDATE", record_ids: list[str] | None = None, entity: str = "Opportunity", **fields: object
) -> dict:
    return {
        "ChangeEventHeader": {
            "entityName": entity, "recordIds": record_ids or [OPP_18], "changeType": change,
            "changeOrigin": "com/salesforce/api/soap/61.0;client=SfdcInternalAPI/",
            "transactionKey": "0003b7a2-59e4-2c1d-8f30-d4b9a61e7c21", "sequenceNumber": 1,
            "commitTimestamp": CLOSE_MS, "commitNumber": 1772809200123, "commitUser": "0055g00000AbCdEAAV",
            "changedFields": sorted(fields),
        },
        **fields,
    }  # fmt: skip


CDC_WON = cdc_event(
    StageName="Closed Won",
    Probability=100.0,
    ForecastCategoryName="Closed",
    LastModifiedDate="2026-03-06T15:00:00.000Z",
)
CDC_ACCOUNT = cdc_event(entity="Account", record_ids=["0015g00000QrStUAAZ"], Name="Northwind Logistics GmbH")


@pytest.mark.parametrize(
    "body",
    [
        CDC_WON,
        [CDC_ACCOUNT, CDC_WON],
        {"events": [CDC_WON, CDC_ACCOUNT]},
        {
            "data": {"schema": "m2Ld-0e8lPq", "payload": CDC_WON, "event": {"replayId": 48213}},
            "channel": "/data/OpportunityChangeEvent",
        },
        [{"replayId": "AAAAAABvKzQAAA==", "payload": CDC_WON}],
    ],
    ids=["single", "array", "relayed", "cometd", "pubsub-relay"],
)
def test_cdc_shapes(body: object) -> None:
    [event] = parse_cdc(dumps(body))
    assert (event.crm, event.deal_id, event.stage) == ("salesforce", OPP_18, "Closed Won")
    assert event.event_id == f"0003b7a2-59e4-2c1d-8f30-d4b9a61e7c21:1:{OPP_18}"
    assert event.occurred_at == CLOSE


def test_cdc_normalises_15_character_ids_and_fans_out_merged_records() -> None:
    events = parse_cdc(
        dumps(cdc_event(record_ids=["0065g00000XyZab", "0065g00000XyZaCAAV", "006*"], StageName="Closed Lost"))
    )
    assert [e.deal_id for e in events] == [OPP_18, "0065g00000XyZaCAAV"]
    assert len({e.event_id for e in events}) == 2
    assert {e.stage for e in events} == {"Closed Lost"}


@pytest.mark.parametrize(
    ("event", "stage"),
    [
        (cdc_event(Amount=90000.0), ""),  # an update that did not touch the stage
        (cdc_event(change="GAP_UPDATE"), ""),
        (cdc_event(change="DELETE"), ""),
        (cdc_event(entity="Account", Name="x"), None),
        (cdc_event(entity="OpportunityLineItem", StageName="Closed Won"), None),
    ],
)
def test_cdc_stage_and_skips(event: dict, stage: str | None) -> None:
    assert [e.stage for e in parse_cdc(dumps(event))] == ([] if stage is None else [stage])


def test_cdc_create_maps_deal_fields() -> None:
    body = cdc_event(
        change="CREATE", Name="Northwind Logistics - Routing Pro", StageName="Closed Won", Amount=84000.0,
        CurrencyIsoCode="EUR", CloseDate="2026-03-06", CreatedDate="2026-03-06T10:15:00.000Z",
        OwnerId="0055g00000AbCdEAAV",
    )  # fmt: skip
    [event] = parse_cdc(dumps(body))
    fields = event.deal_fields
    assert (fields["account"], fields["amount"], fields["currency"], fields["ae"]) == (
        "Northwind Logistics - Routing Pro", 84000.0, "EUR", "0055g00000AbCdEAAV",
    )  # fmt: skip
    # The parser only reads: the close stays a date, placed later by the policy's calendar
    # (tests/test_close_date.py), so no hack moves it to the creation time here.
    assert event.closed_on == date(2026, 3, 6) and "closed_at" not in fields
    assert datetime.fromisoformat(fields["created_at"]) == datetime(2026, 3, 6, 10, 15, tzinfo=UTC)
    Deal.model_validate({"crm": "salesforce", "deal_id": event.deal_id, **fields})


# ---------------------------------------------------------------- Salesforce Outbound Messages


def opportunity_notification(note_id: str, opp_id: str, stage: str, name: str) -> str:
    return f"""
   <Notification>
    <Id>{note_id}</Id>
    <sObject xsi:type="sf:Opportunity" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
     <sf:Id>{opp_id}</sf:Id>
     <sf:Amount>84000.0</sf:Amount>
     <sf:CloseDate>2026-03-06</sf:CloseDate>
     <sf:CreatedDate>2026-01-12T09:30:00.000Z</sf:CreatedDate>
     <sf:CurrencyIsoCode>EUR</sf:CurrencyIsoCode>
     <sf:Name>{name}</sf:Name>
     <sf:OwnerId>0055g00000AbCdEAAV</sf:OwnerId>
     <sf:StageName>{stage}</sf:StageName>
     <sf:NextStep xsi:nil="true"/>
    </sObject>
   </Notification>"""


def outbound_message(*notifications: str, org: str = ORG_18) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <soapenv:Body>
  <notifications xmlns="http://soap.sforce.com/2005/09/outbound">
   <OrganizationId>{org}</OrganizationId>
   <ActionId>04k5g000000XyZ1AAK</ActionId>
   <SessionId xsi:nil="true"/>
   <EnterpriseUrl>https://northwind.my.salesforce.com/services/Soap/c/61.0/{ORG_15}</EnterpriseUrl>
   <PartnerUrl>https://northwind.my.salesforce.com/services/Soap/u/61.0/{ORG_15}</PartnerUrl>{"".join(notifications)}
  </notifications>
 </soapenv:Body>
</soapenv:Envelope>""".encode()


OUTBOUND_TWO = outbound_message(
    opportunity_notification("04l5g00000AbCdEAAV", OPP_18, "Closed Won", "Northwind Logistics - Routing Pro"),
    opportunity_notification("04l5g00000AbCdFAAV", "0065g00000XyZac", "Closed Lost", "Contoso Freight"),
)


def test_outbound_message_two_notifications() -> None:
    message = parse_outbound_message(OUTBOUND_TWO)
    assert message.organization_id == ORG_18
    assert message.action_id == "04k5g000000XyZ1AAK"
    assert [(e.crm, e.deal_id, e.stage, e.event_id) for e in message.notifications] == [
        ("salesforce", OPP_18, "Closed Won", "04l5g00000AbCdEAAV"),
        ("salesforce", "0065g00000XyZacAAF", "Closed Lost", "04l5g00000AbCdFAAV"),
    ]
    fields = message.notifications[0].deal_fields
    assert (fields["account"], fields["amount"], fields["currency"]) == (
        "Northwind Logistics - Routing Pro",
        84000.0,
        "EUR",
    )
    # CloseDate is a date: it travels as one, for the policy calendar to place (not midnight UTC).
    assert "closed_at" not in fields and message.notifications[0].closed_on == date(2026, 3, 6)
    Deal.model_validate({"crm": "salesforce", "deal_id": OPP_18, **fields})


@pytest.mark.parametrize("org", [ORG_18, ORG_15])
@pytest.mark.parametrize("configured", [ORG_18, ORG_15])
def test_outbound_message_org_in_either_form(org: str, configured: str) -> None:
    message = parse_outbound_message(outbound_message(org=org))
    assert message.organization_id == ORG_18
    check_salesforce_org(message.organization_id, configured)


def test_outbound_message_skips_other_objects() -> None:
    contact = opportunity_notification("04l5g00000AbCdGAAV", "0035g00000LmNoPAAV", "", "x").replace(
        "sf:Opportunity", "sf:Contact"
    )
    assert parse_outbound_message(outbound_message(contact)).notifications == []


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>
<notifications xmlns="http://soap.sforce.com/2005/09/outbound"><OrganizationId>&xxe;</OrganizationId></notifications>
</soapenv:Body></soapenv:Envelope>"""
BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><lolz>&lol3;</lolz>"""
DOCTYPE_ONLY = b'<?xml version="1.0"?><!DOCTYPE Envelope SYSTEM "http://attacker.example/x.dtd"><Envelope/>'


@pytest.mark.parametrize(
    "body",
    [
        XXE,
        BILLION_LAUGHS,
        DOCTYPE_ONLY,
        XXE.decode().replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-16"?>').encode("utf-16"),
    ],
    ids=["xxe", "billion-laughs", "external-dtd", "xxe-utf16"],
)
def test_outbound_message_refuses_declarations(body: bytes) -> None:
    with pytest.raises(PayloadError, match="DOCTYPE"):
        parse_outbound_message(body)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"<soapenv:Envelope", "body"),
        (b"", "body"),
        (b'<Envelope xmlns="http://schemas.xmlsoap.org/soap/envelope/"><Body/></Envelope>', "Envelope.Body.notifications"),
        (outbound_message(org="").replace(b"<OrganizationId></OrganizationId>", b""), "notifications.OrganizationId"),
        (outbound_message(org="not-an-org"), "notifications.OrganizationId"),
        (outbound_message(opportunity_notification("", OPP_18, "Closed Won", "x")), "Notification[0].Id"),
        (outbound_message(opportunity_notification("04l1", "", "Closed Won", "x")), "Notification[0].sObject.Id"),
        (outbound_message(opportunity_notification("04l1", "bad id!", "Closed Won", "x")), "Notification[0].sObject.Id"),
        (outbound_message(*[opportunity_notification(f"04l{i}", OPP_18, "Closed Won", "x") for i in range(101)]), "notifications.Notification"),
    ],
)  # fmt: skip
def test_outbound_message_malformed(body: bytes, field: str) -> None:
    with pytest.raises(PayloadError) as refused:
        parse_outbound_message(body)
    assert refused.value.field == field


@pytest.mark.parametrize(("ok", "ack"), [(True, "true"), (False, "false")])
def test_outbound_ack_is_the_soap_salesforce_expects(ok: bool, ack: str) -> None:
    root = ET.fromstring(outbound_ack(ok))
    assert root.tag == "{http://schemas.xmlsoap.org/soap/envelope/}Envelope"
    found = root.find(
        "{http://schemas.xmlsoap.org/soap/envelope/}Body/"
        "{http://soap.sforce.com/2005/09/outbound}notificationsResponse/"
        "{http://soap.sforce.com/2005/09/outbound}Ack"
    )
    assert found is not None and found.text == ack


# ---------------------------------------------------------------- Pipedrive


def pipedrive_v2(status: str, previous: dict | None, action: str = "change", entity: str = "deal") -> dict:
    return {
        "meta": {
            "action": action, "entity": entity, "version": "2.0", "company_id": "12882925",
            "user_id": "18487521", "id": "1e1e6c0a-4f7b-4d4c-9a3e-6c2b8f0d5a11", "entity_id": "1042",
            "correlation_id": "8c5b5f1e-1a2b-4c3d-9e8f-7a6b5c4d3e2f", "type": "general",
            "timestamp": "2026-03-06T15:00:00.000Z", "attempt": 1, "webhook_id": "99",
            "webhook_owner_id": "18487521", "host": "northwind.pipedrive.com", "change_source": "app",
            "permitted_user_ids": ["18487521"], "is_bulk_edit": False,
        },
        "data": {
            "id": 1042, "title": "Northwind Logistics", "value": 84000, "currency": "EUR", "status": status,
            "stage_id": 5, "pipeline_id": 1, "owner_id": 18487521, "person_id": 3, "org_id": 2,
            "add_time": "2026-01-12T09:30:00Z", "update_time": "2026-03-06T15:00:00Z",
            "won_time": "2026-03-06T15:00:00Z" if status == "won" else None,
            "lost_time": "2026-03-06T15:00:00Z" if status == "lost" else None,
            "close_time": "2026-03-06T15:00:00Z" if status in ("won", "lost") else None,
            "custom_fields": {"8d7c1a2b3c4d5e6f": None},
        },
        "previous": previous,
    }  # fmt: skip


PIPEDRIVE_V1 = {
    "v": 1, "matches_filters": {"current": [], "previous": []},
    "meta": {
        "v": 1, "action": "updated", "object": "deal", "id": 1042, "company_id": 12882925, "user_id": 18487521,
        "host": "northwind.pipedrive.com", "timestamp": 1772809200, "timestamp_micro": 1772809200123456,
        "permitted_user_ids": [18487521], "trans_pending": False, "is_bulk_update": False,
        "pipedrive_service_name": False, "change_source": "app", "webhook_id": "1234567",
    },
    "current": {
        "id": 1042, "title": "Northwind Logistics", "value": 84000, "currency": "EUR", "status": "won",
        "user_id": 18487521, "stage_id": 5, "add_time": "2026-01-12 09:30:00", "update_time": "2026-03-06 15:00:00",
        "won_time": "2026-03-06 15:00:00", "close_time": "2026-03-06 15:00:00", "lost_time": None,
    },
    "previous": {
        "id": 1042, "title": "Northwind Logistics", "value": 84000, "currency": "EUR", "status": "open",
        "user_id": 18487521, "stage_id": 5, "add_time": "2026-01-12 09:30:00", "update_time": "2026-03-05 11:00:00",
        "won_time": None, "close_time": None, "lost_time": None,
    },
    "event": "updated.deal", "retry": 0,
}  # fmt: skip


@pytest.mark.parametrize(
    ("body", "stage"),
    [
        (pipedrive_v2("won", {"status": "open", "won_time": None, "close_time": None}), "won"),
        (pipedrive_v2("lost", {"status": "open", "lost_time": None, "close_time": None}), "lost"),
        (pipedrive_v2("won", {"title": "Northwind"}), ""),  # renamed after winning: status did not change
        (pipedrive_v2("won", {"status": "won"}), ""),
        (pipedrive_v2("open", {"status": "won"}), ""),  # reopened
        (pipedrive_v2("open", {"stage_id": 4}), ""),
        (pipedrive_v2("won", None, action="create"), "won"),  # created already won: nothing to compare
        (PIPEDRIVE_V1, "won"),
        ({**PIPEDRIVE_V1, "previous": {**PIPEDRIVE_V1["previous"], "status": "won"}}, ""),
        ({**PIPEDRIVE_V1, "current": {**PIPEDRIVE_V1["current"], "status": "lost"}}, "lost"),
    ],
    ids=["v2-won", "v2-lost", "v2-renamed", "v2-still-won", "v2-reopened", "v2-stage", "v2-created-won",
         "v1-won", "v1-still-won", "v1-lost"],
)  # fmt: skip
def test_pipedrive_stage(body: dict, stage: str) -> None:
    [event] = parse_pipedrive(dumps(body))
    assert (event.crm, event.deal_id, event.stage) == ("pipedrive", "1042", stage)
    assert event.occurred_at == CLOSE


@pytest.mark.parametrize("body", [pipedrive_v2("won", {"status": "open"}), PIPEDRIVE_V1], ids=["v2", "v1"])
def test_pipedrive_deal_fields(body: dict) -> None:
    [event] = parse_pipedrive(dumps(body))
    fields = event.deal_fields
    assert (fields["account"], fields["amount"], fields["currency"], fields["ae"]) == (
        "Northwind Logistics",
        84000.0,
        "EUR",
        "18487521",
    )
    assert datetime.fromisoformat(fields["closed_at"]) == CLOSE
    assert datetime.fromisoformat(fields["created_at"]) == datetime(2026, 1, 12, 9, 30, tzinfo=UTC)
    assert event.event_id
    Deal.model_validate({"crm": "pipedrive", "deal_id": event.deal_id, **fields})


@pytest.mark.parametrize(
    "body",
    [
        pipedrive_v2("won", {"status": "open"}, entity="person"),
        pipedrive_v2("won", {"status": "open"}, action="delete"),
        {**PIPEDRIVE_V1, "meta": {**PIPEDRIVE_V1["meta"], "object": "person"}, "event": "updated.person"},
        {
            **PIPEDRIVE_V1,
            "meta": {**PIPEDRIVE_V1["meta"], "action": "deleted"},
            "current": None,
            "event": "deleted.deal",
        },
    ],
    ids=["v2-person", "v2-delete", "v1-person", "v1-deleted"],
)
def test_pipedrive_ignores_other_objects_and_deletes(body: dict) -> None:
    assert parse_pipedrive(dumps(body)) == []


def test_pipedrive_v1_expanded_user() -> None:
    body = {**PIPEDRIVE_V1, "current": {**PIPEDRIVE_V1["current"], "user_id": {"id": 18487521, "name": "Maria Lopez"}}}
    assert parse_pipedrive(dumps(body))[0].deal_fields["ae"] == "18487521"


# ---------------------------------------------------------------- generic events

GENERIC_DEAL = {
    "type": "deal", "source": "acme-crm", "event_id": "evt-42", "stage": "closed_won",
    "deal": {"id": "D-10482", "account": "Northwind Logistics", "amount": 84000, "currency": "eur",
             "closed_at": "2026-03-06T15:00:00Z", "products": ["Routing Pro"]},
    "document": {"goals": "Cut late deliveries from 9% to under 4% by Q3 2026."},
}  # fmt: skip


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        (GENERIC_DEAL, DealEventBody),
        (
            {"type": "churn", "account": "Northwind Logistics", "churned_on": "2026-11-30", "reason": "Budget cut"},
            ChurnEventBody,
        ),
        ({"type": "survey", "crm": "hubspot", "deal_id": "9876543210", "nps": 9}, SurveyEventBody),
        (
            {"type": "survey", "source": "salesforce", "deal_id": OPP_18, "nps": 0, "comment": "Slow kickoff"},
            SurveyEventBody,
        ),
    ],
)
def test_generic_union(body: dict, kind: type) -> None:
    assert isinstance(parse_generic(dumps(body)), kind)


def test_generic_survey_crm_alias() -> None:
    survey = parse_generic(dumps({"type": "survey", "crm": "hubspot", "deal_id": "98", "nps": 9}))
    assert isinstance(survey, SurveyEventBody) and survey.source == "hubspot"


@pytest.mark.parametrize("model", [DealEventBody, ChurnEventBody, SurveyEventBody])
def test_generic_documented_examples_are_valid(model: type) -> None:
    for example in model.model_config["json_schema_extra"]["examples"]:
        assert isinstance(parse_generic(dumps(example)), model)


def test_generic_deal_to_event_carries_only_sent_fields() -> None:
    body = parse_generic(dumps(GENERIC_DEAL))
    assert isinstance(body, DealEventBody)
    event = to_deal_event(body)
    assert (event.crm, event.deal_id, event.stage, event.event_id) == ("acme-crm", "D-10482", "closed_won", "evt-42")
    assert set(event.deal_fields) == {"account", "amount", "currency", "closed_at", "products"}
    assert event.document is not None and event.document.goals.startswith("Cut late")
    deal = Deal.model_validate({"crm": event.crm, "deal_id": event.deal_id, **event.deal_fields})
    assert (deal.currency, deal.closed_at) == ("EUR", CLOSE)


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"type": "survey", "deal_id": "D-1", "nps": 11}, ("survey", "nps")),
        ({"type": "survey", "deal_id": "D 1", "nps": 5}, ("survey", "deal_id")),
        ({"type": "churn", "account": "Acme", "churned_on": "last week"}, ("churn", "churned_on")),
        ({**GENERIC_DEAL, "source": "Acme CRM"}, ("deal", "source")),
        ({**GENERIC_DEAL, "deal": {"id": "D-1", "currency": "euro"}}, ("deal", "deal", "currency")),
        ({**GENERIC_DEAL, "deal": {"id": "D-1", "closed_at": "2026-03-06T15:00:00"}}, ("deal", "deal", "closed_at")),
        ({**GENERIC_DEAL, "deal": {"id": "D-1", "amount": -5}}, ("deal", "deal", "amount")),
        ({**GENERIC_DEAL, "deal": {"id": "D-1", "closed": "2026-03-06"}}, ("deal", "deal", "closed")),
        ({**GENERIC_DEAL, "document": {"goal": "typo"}}, ("deal", "document", "goal")),
        ({"type": "refund"}, ()),
    ],
)  # fmt: skip
def test_generic_bad_body_names_the_field(body: dict, loc: tuple) -> None:
    with pytest.raises(ValidationError) as invalid:
        parse_generic(dumps(body))
    assert invalid.value.errors()[0]["loc"] == loc


# ---------------------------------------------------------------- malformed bodies

JSON_PARSERS = [parse_hubspot_batch, parse_hubspot_workflow, parse_cdc, parse_pipedrive, parse_generic]


@pytest.mark.parametrize("parser", JSON_PARSERS)
@pytest.mark.parametrize("body", [b"", b"{not json", b'[{"a": 1}', b"\xff\xfe\x00", b"NaN", b'{"a": Infinity}'])
def test_malformed_json_is_a_payload_error(parser, body: bytes) -> None:
    with pytest.raises(PayloadError) as refused:
        parser(body)
    assert refused.value.field == "body"


WRONG_SHAPES = [None, 0, "deal", [], {}, [None], [[]], {"meta": []}, {"ChangeEventHeader": None}]
# What each parser must make of each wrong shape: the field a PayloadError names, or EMPTY where the
# shape is a valid one with nothing in it (an empty batch: nothing to do, and nothing refused).
EMPTY = "no events"
EXPECTED_FOR_WRONG_SHAPES = {
    parse_hubspot_batch: ["body", "body", "body", EMPTY, "body", "[0]", "[0]", "body", "body"],
    parse_hubspot_workflow: ["body", "body", "body", "body", "objectId", "body", "body", "objectId", "objectId"],
    parse_cdc: [
        "body",
        "body",
        "body",
        EMPTY,
        "ChangeEventHeader",
        "[0]",
        "[0]",
        "ChangeEventHeader",
        "ChangeEventHeader",
    ],
    parse_pipedrive: ["body", "body", "body", "body", "meta", "body", "body", "meta", "meta"],
}


@pytest.mark.parametrize(
    ("parser", "value", "expected"),
    [
        pytest.param(parser, value, expected, id=f"{parser.__name__}-{index}")
        for parser, outcomes in EXPECTED_FOR_WRONG_SHAPES.items()
        for index, (value, expected) in enumerate(zip(WRONG_SHAPES, outcomes, strict=True))
    ],
)
def test_wrong_shapes_are_refused_naming_the_field_or_are_explicitly_empty(
    parser, value: object, expected: str
) -> None:
    """Fails if a parser silently accepts a wrong shape (returns events, or nothing where it should
    refuse), or lets a bare KeyError/TypeError escape."""
    if expected == EMPTY:
        assert parser(dumps(value)) == []
        return
    with pytest.raises(PayloadError) as refused:
        parser(dumps(value))
    assert refused.value.field == expected


@pytest.mark.parametrize(
    ("parser", "body", "field", "message"),
    [
        (parse_hubspot_batch, [*HUBSPOT_BATCH[:2], {**HUBSPOT_BATCH[2], "objectId": "abc"}], "[2].objectId", "not an integer"),
        (parse_hubspot_batch, [{**HUBSPOT_BATCH[0], "objectId": None}], "[0].objectId", "missing"),
        (parse_hubspot_batch, [{**HUBSPOT_BATCH[0], "propertyValue": 7}], "[0].propertyValue", "expected a string"),
        (parse_hubspot_batch, [{**HUBSPOT_BATCH[0], "occurredAt": "soon"}], "[0].occurredAt", "not an ISO 8601"),
        (parse_hubspot_batch, [HUBSPOT_BATCH[0], "event"], "[1]", "expected an object"),
        (parse_hubspot_batch, {"events": HUBSPOT_BATCH}, "body", "expected an array"),
        (parse_hubspot_workflow, {"properties": {"dealstage": {"value": "closedwon"}}}, "objectId", "missing"),
        (parse_hubspot_workflow, {**HUBSPOT_WORKFLOW_CLASSIC, "properties": {"amount": {"value": "fifty"}}}, "properties.amount.value", "not a number"),
        (parse_hubspot_workflow, {**HUBSPOT_WORKFLOW_FLAT, "closedate": "next Friday"}, "closedate", "not an ISO 8601"),
        (parse_cdc, {"StageName": "Closed Won"}, "ChangeEventHeader", "missing"),
        (parse_cdc, [CDC_WON, cdc_event(record_ids=["bogus"])], "[1].ChangeEventHeader.recordIds[0]", "not a Salesforce id"),
        (parse_cdc, {"events": [{**CDC_WON, "Amount": "a lot"}]}, "events[0].Amount", "not a number"),
        (parse_cdc, {"events": {"0": CDC_WON}}, "events", "expected an array"),
        (parse_pipedrive, {"data": {}}, "meta", "expected an object"),
        (parse_pipedrive, {"meta": {"action": "change"}}, "meta", "neither"),
        (parse_pipedrive, {**pipedrive_v2("won", None), "data": [1]}, "data", "expected an object"),
        (parse_pipedrive, {**pipedrive_v2("won", None), "previous": "open"}, "previous", "expected an object"),
        (parse_pipedrive, {**PIPEDRIVE_V1, "current": {**PIPEDRIVE_V1["current"], "value": "lots"}}, "current.value", "not a number"),
        (parse_pipedrive, {**PIPEDRIVE_V1, "current": {**PIPEDRIVE_V1["current"], "id": "10/42"}}, "current.id", "deal id"),
    ],
)  # fmt: skip
def test_malformed_fields_are_named(parser, body: object, field: str, message: str) -> None:
    with pytest.raises(PayloadError) as refused:
        parser(dumps(body))
    assert refused.value.field == field
    assert message in refused.value.message
    assert str(refused.value).startswith(f"{field}: ")
