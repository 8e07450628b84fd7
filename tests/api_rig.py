"""The API in process on the test worker's task queue: keys, CRM secrets, signing and body builders."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
from fastapi import FastAPI
from opentelemetry.trace import Tracer
from temporalio.client import Client

from api.app import create_app
from api.settings import ApiSettings
from tests.conftest import Rig

PUBLIC_URL = "https://baton.example.com"
HUBSPOT_SECRET = "hs-client-secret-7f3c2a9e"
SF_ORG = "00D5g000004XyZaEAK"
SF_TOKEN = "sf-shared-token-41d2"
PD_USER, PD_PASSWORD = "baton", "pd-password-9c1e"
KEYS = {"crm": "key-crm-1", "ae": "key-ae-1", "cs_lead": "key-lead-1", "operator": "key-op-1"}


def api_keys_setting() -> str:
    return ",".join(f"{hashlib.sha256(key.encode()).hexdigest()}:{role}" for role, key in KEYS.items())


def auth(role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {KEYS[role]}"}


def settings_for(rig: Rig, **overrides) -> ApiSettings:
    values = dict(
        task_queue=rig.task_queue,
        database_url=str(rig.store.engine.url),
        public_url=PUBLIC_URL,
        hubspot_client_secret=HUBSPOT_SECRET,
        salesforce_org_id=SF_ORG,
        salesforce_webhook_token=SF_TOKEN,
        pipedrive_user=PD_USER,
        pipedrive_password=PD_PASSWORD,
        api_keys=api_keys_setting(),
        policy_file=None,
        update_timeout_seconds=20,
    )
    values.update(overrides)
    return ApiSettings(**values)


@dataclass
class Api:
    http: httpx.AsyncClient
    rig: Rig
    app: FastAPI

    def track(self, *workflow_ids: str) -> None:
        """Every run a test starts is terminated at teardown (the rig's rule)."""
        self.rig.started.extend(workflow_ids)


@asynccontextmanager
async def running_api(
    rig: Rig, client: Client | None = None, tracer: Tracer | None = None, **overrides
) -> AsyncIterator[Api]:
    app = create_app(settings=settings_for(rig, **overrides), client=client or rig.client, tracer=tracer)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield Api(http, rig, app)


def deal_number() -> int:
    return random.randint(10**9, 10**10 - 1)


# ---- HubSpot -------------------------------------------------------------------------------------


def hubspot_v3_headers(
    body: bytes, path: str = "/webhooks/hubspot", at_ms: int | None = None, secret: str = HUBSPOT_SECRET
) -> dict[str, str]:
    """HubSpot's recipe, written out independently of the code under test."""
    timestamp = str(at_ms if at_ms is not None else int(time.time() * 1000))
    source = b"POST" + (PUBLIC_URL + path).encode() + body + timestamp.encode()
    signature = base64.b64encode(hmac.new(secret.encode(), source, hashlib.sha256).digest()).decode()
    return {
        "X-HubSpot-Signature-v3": signature,
        "X-HubSpot-Request-Timestamp": timestamp,
        "Content-Type": "application/json",
    }


def hubspot_v2_headers(body: bytes, path: str = "/webhooks/hubspot") -> dict[str, str]:
    signature = hashlib.sha256((HUBSPOT_SECRET + "POST" + PUBLIC_URL + path).encode() + body).hexdigest()
    return {"X-HubSpot-Signature": signature, "X-HubSpot-Signature-Version": "v2", "Content-Type": "application/json"}


def hubspot_stage(deal_id: int, stage: str, event_id: int = 1) -> dict:
    return {
        "eventId": event_id,
        "subscriptionId": 2411,
        "portalId": 62515,
        "occurredAt": int(time.time() * 1000),
        "subscriptionType": "deal.propertyChange",
        "attemptNumber": 0,
        "objectId": deal_id,
        "propertyName": "dealstage",
        "propertyValue": stage,
    }


def dumps(value: object) -> bytes:
    return json.dumps(value).encode()


# ---- Salesforce ----------------------------------------------------------------------------------

_SF_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def sf_id() -> str:
    """A 15-character Opportunity id; the API keys runs by its 18-character form."""
    return "0065g" + "".join(random.choice(_SF_ALPHABET) for _ in range(10))


def cdc_body(record_id: str, stage: str) -> bytes:
    return dumps({
        "ChangeEventHeader": {"entityName": "Opportunity", "changeType": "UPDATE", "recordIds": [record_id],
                              "transactionKey": f"tx-{record_id}", "sequenceNumber": 1,
                              "commitTimestamp": int(time.time() * 1000)},
        "StageName": stage, "Name": "Northwind Logistics", "Amount": 84000,
    })  # fmt: skip


def outbound_body(*opportunities: tuple[str, str], org: str = SF_ORG) -> bytes:
    notes = "".join(
        f"""<Notification><Id>04l5g0000{index:06d}AAA</Id>
<sObject xsi:type="sf:Opportunity" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
<sf:Id>{opp_id}</sf:Id><sf:StageName>{stage}</sf:StageName><sf:Name>Account {index}</sf:Name></sObject></Notification>"""
        for index, (opp_id, stage) in enumerate(opportunities)
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<soapenv:Body><notifications xmlns="http://soap.sforce.com/2005/09/outbound">
<OrganizationId>{org}</OrganizationId><ActionId>04k5g000000AbCdAAK</ActionId>{notes}
</notifications></soapenv:Body></soapenv:Envelope>""".encode()


# ---- Pipedrive -----------------------------------------------------------------------------------


def pipedrive_won(deal_id: int) -> bytes:
    now = datetime.now(UTC)
    return dumps({
        "meta": {"version": "2.0", "entity": "deal", "action": "change", "id": f"n-{deal_id}",
                 "timestamp": now.isoformat()},
        "data": {"id": deal_id, "title": "Northwind Logistics", "value": 84000, "currency": "EUR", "status": "won",
                 "won_time": now.isoformat(), "add_time": (now - timedelta(days=60)).isoformat(), "owner_id": 12},
        "previous": {"status": "open"},
    })  # fmt: skip


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}
