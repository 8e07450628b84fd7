"""Odd but possible data at the API: a clear 4xx naming the field and nothing started, or a healthy run;
never a 5xx, never the body in a log (issue 12, "Odd data")."""

from __future__ import annotations

import hashlib
import json
import logging
import time

import pytest
from temporalio.service import RPCError, RPCStatusCode

from api.errors import _rpc_error, is_unreachable
from infra.log_format import RedactUrls, redact_url
from tests.api_rig import (
    HUBSPOT_SECRET,
    PUBLIC_URL,
    SF_TOKEN,
    auth,
    cdc_body,
    deal_number,
    dumps,
    hubspot_stage,
    hubspot_v3_headers,
    running_api,
)  # fmt: skip
from tests.test_api_webhooks import exists

pytestmark = pytest.mark.temporal


def hubspot_delivery_headers(body: bytes, at_ms: int | None = None) -> dict[str, str]:
    """Every header a webhooks-API delivery carries: v3 with its timestamp, and the v1 signature that
    X-HubSpot-Signature-Version describes (sha256 of client secret + body)."""
    v1 = hashlib.sha256(HUBSPOT_SECRET.encode() + body).hexdigest()
    return {
        **hubspot_v3_headers(body, at_ms=at_ms),
        "X-HubSpot-Signature": v1,
        "X-HubSpot-Signature-Version": "v1",
        "User-Agent": "HubSpot Connect 2.0 (http://dev.hubspot.com/) - WebhooksExecutorDaemon-executor",
        "Accept": "application/json",
    }


async def test_a_hubspot_webhooks_api_delivery_with_all_four_signature_headers_is_accepted(rig_factory):
    async with rig_factory() as rig, running_api(rig) as api:
        number = deal_number()
        api.track(f"baton-hubspot-{number}")
        body = dumps([hubspot_stage(number, "closedwon")])
        answer = await api.http.post("/webhooks/hubspot", content=body, headers=hubspot_delivery_headers(body))
        assert answer.status_code == 202, answer.text
        assert answer.json()[0]["outcome"] == "started"


async def test_a_stale_v3_signature_does_not_fall_back_to_v1_or_v2(rig_factory):
    async with rig_factory() as rig, running_api(rig) as api:
        number = deal_number()
        body = dumps([hubspot_stage(number, "closedwon")])
        stale = hubspot_delivery_headers(body, at_ms=int(time.time() * 1000) - 301_000)
        answer = await api.http.post("/webhooks/hubspot", content=body, headers=stale)
        assert answer.status_code == 401 and answer.json()["detail"] == "stale timestamp"
        v2 = hashlib.sha256((HUBSPOT_SECRET + "POST" + PUBLIC_URL + "/webhooks/hubspot").encode() + body).hexdigest()
        stale_with_v2 = {**stale, "X-HubSpot-Signature": v2, "X-HubSpot-Signature-Version": "v2"}
        answer = await api.http.post("/webhooks/hubspot", content=body, headers=stale_with_v2)
        assert answer.status_code == 401
        v1_alone = {k: v for k, v in hubspot_delivery_headers(body).items() if "v3" not in k and "Timestamp" not in k}
        answer = await api.http.post("/webhooks/hubspot", content=body, headers=v1_alone)
        assert answer.status_code == 401 and "v1" in answer.json()["detail"]
        assert not await exists(rig.client, f"baton-hubspot-{number}")


async def test_a_hubspot_batch_over_100_events_is_refused(rig_factory):
    async with rig_factory() as rig, running_api(rig) as api:
        body = dumps([hubspot_stage(deal_number(), "closedwon", event_id=i) for i in range(101)])
        answer = await api.http.post("/webhooks/hubspot", content=body, headers=hubspot_v3_headers(body))
        assert answer.status_code == 400 and answer.json()["field"] == "body"


def generic(deal: dict, **extra) -> dict:
    return {"type": "deal", "source": "acme-crm", "stage": "closed_won", "deal": deal, **extra}


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        (b'{"type": "deal", "stage": "closed_won", "deal": {"id": "D-1", "amount": NaN}}', 400, None),
        (b'{"type": "deal", "stage": "closed_won", "deal": {"id": "D-1", "amount": Infinity}}', 400, None),
        (b'{"type": "deal", "stage": "closed_won", "deal": {"id": "D-1", "account": "\\ud800 Globex"}}', 400, None),
        (dumps(generic({"id": "D-1\n"})), 422, "id"),
        (dumps(generic({"id": "D-1", "amount": "9"})), 422, "amount"),
        (dumps(generic({"id": "D-1", "amount": True})), 422, "amount"),
        (dumps(generic({"id": "D-1", "professional_services": "yes"})), 422, "professional_services"),
        (dumps(generic({"id": "D-1", "amount": 1e308, "currency": "EUR"})), 422, "amount"),
        (dumps(generic({"id": "D-1", "account": "x" * 3000})), 422, "account"),
        (dumps(generic({"id": "D-1", "account": "Globex\u0000 Inc"})), 422, "account"),
        (dumps(generic({"id": "D-1", "closed_at": "9999-12-31T00:00:00Z"})), 422, "closed_at"),
        (dumps(generic({"id": "D-1", "created_at": "0001-01-01T00:00:00Z"})), 422, "created_at"),
        (dumps({"type": "survey", "deal_id": "D-1", "nps": "9"}), 422, "nps"),
        (dumps({"type": "churn", "account": "Globex\u0007", "churned_on": "2026-11-30"}), 422, "account"),
    ],
)
async def test_odd_generic_events_are_a_4xx_naming_the_field_and_start_nothing(
    rig_factory, caplog, body, status, field
):
    async with rig_factory() as rig, running_api(rig) as api:
        with caplog.at_level(logging.DEBUG):
            answer = await api.http.post(
                "/v1/events", content=body, headers={**auth("crm"), "Content-Type": "application/json"}
            )
        assert answer.status_code == status, answer.text
        if field is not None:
            assert field in answer.json()["detail"][0]["loc"]
        assert "Globex" not in caplog.text and "Traceback" not in caplog.text
        assert not await exists(rig.client, "baton-acme-crm-D-1")


@pytest.mark.parametrize(
    "record_id",
    ["0065g00000XyZabAAé", "0065g00000XyZ\u0430b", "0065g00000XyZabAA\n", "006５g00000XyZab"],
)
async def test_a_salesforce_id_with_anything_but_ascii_letters_and_digits_is_a_400(rig_factory, record_id):
    async with rig_factory() as rig, running_api(rig) as api:
        answer = await api.http.post(
            "/webhooks/salesforce", content=cdc_body(record_id, "Closed Won"), headers={"X-Baton-Token": SF_TOKEN}
        )
        assert answer.status_code == 400, answer.text
        assert answer.json()["field"] == "ChangeEventHeader.recordIds[0]"


@pytest.mark.parametrize(
    ("status", "answer"),
    [
        (RPCStatusCode.NOT_FOUND, 404),
        (RPCStatusCode.INVALID_ARGUMENT, 400),
        (RPCStatusCode.FAILED_PRECONDITION, 409),
        (RPCStatusCode.RESOURCE_EXHAUSTED, 429),
        (RPCStatusCode.UNAVAILABLE, 503),
        (RPCStatusCode.DEADLINE_EXCEEDED, 503),
        (RPCStatusCode.PERMISSION_DENIED, 502),
        (RPCStatusCode.UNIMPLEMENTED, 501),
        (RPCStatusCode.INTERNAL, 502),
    ],
)
async def test_each_temporal_rpc_status_is_answered_by_what_it_means(status, answer):
    response = await _rpc_error(None, RPCError("boom", status, b""))
    assert response.status_code == answer
    assert ("Retry-After" in response.headers) == (answer in (429, 503))


def test_unreachable_is_classified_by_type_not_by_message():
    # The same text from code that is not Temporal's is not "Temporal is unreachable".
    assert not is_unreachable(RuntimeError("Failed client connect: refused"))
    assert is_unreachable(RPCError("x", RPCStatusCode.UNAVAILABLE, b""))
    assert not is_unreachable(RPCError("x", RPCStatusCode.INVALID_ARGUMENT, b""))


def test_secrets_in_logged_urls_are_redacted():
    line = "/webhooks/salesforce/outbound?token=sf-shared-token-41d2&x=1"
    assert redact_url(line) == "/webhooks/salesforce/outbound?token=[redacted]&x=1"
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        "",
        0,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "POST", line, "1.1", 200),
        None,
    )
    RedactUrls().filter(record)
    assert SF_TOKEN not in record.getMessage() and record.getMessage().endswith("200")


async def test_the_access_log_never_shows_the_salesforce_token(rig_factory):
    """The API installs the redaction on uvicorn's access logger when it is created."""
    async with rig_factory() as rig, running_api(rig):
        record = logging.LogRecord(
            "uvicorn.access", logging.INFO, "", 0, '%s - "%s %s"', ("1.2.3.4", "POST", f"/x?token={SF_TOKEN}"), None
        )
        for check in logging.getLogger("uvicorn.access").filters:
            check.filter(record)
        assert SF_TOKEN not in record.getMessage()


async def test_extending_a_deadline_by_more_than_a_year_is_refused(rig_factory):
    async with rig_factory() as rig, running_api(rig) as api:
        number = deal_number()
        api.track(f"baton-hubspot-{number}")
        body = dumps([hubspot_stage(number, "closedwon")])
        started = await api.http.post("/webhooks/hubspot", content=body, headers=hubspot_v3_headers(body))
        assert started.json()[0]["outcome"] == "started"
        answer = await api.http.post(
            f"/v1/handoffs/hubspot/{number}/deadlines/cs_first_touch",
            json={"extend_by": "99999999999d", "reason": "typo"},
            headers=auth("cs_lead"),
        )
        assert answer.status_code == 422 and "extend_by" in json.dumps(answer.json())
