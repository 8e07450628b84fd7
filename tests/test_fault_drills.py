"""Fault drills on a real deployment: Temporal's dev server on a SQLite file, `baton worker` and
`baton api` as their own processes, and a local stub for the outbound webhook and the HubSpot API.

Each drill checks what a user would: one run per deal, the timeline entries present once (through
the API, as people read it), every notification applied once by a receiver honouring
`Idempotency-Key`, and no deadline lost. One deployment serves the whole file; the drills that stop
Temporal or kill the worker come last and leave it running again. Waits are bounded polls on a
condition; no test asserts how long anything took.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import random
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import pytest_asyncio
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from domain.ids import normalise_salesforce_id
from tests.conftest import assert_eventually
from tests.drills.processes import (
    API_KEYS,
    HUBSPOT_SECRET,
    PD_PASSWORD,
    PD_USER,
    SF_TOKEN,
    Deployment,
)  # fmt: skip
from tests.drills.stub import Stub

pytestmark = pytest.mark.temporal

SLA_SECONDS = 20
# The drills that need a timer still pending when they inject the fault (a worker killed, Temporal
# stopped) start deals whose close lies this far ahead, so the deadline falls SLA_SECONDS + HEADROOM after
# the event: on a loaded two-core machine reaching the fault can take longer than the SLA alone, and a
# deadline already breached would prove nothing about timers surviving the fault. The kill drill waits
# out a 30 s activity timeout anyway, so the headroom costs it nothing.
HEADROOM = timedelta(seconds=25)
# Bounds for polls: past an SLA plus a 30 s activity timeout (a killed worker's in-flight attempt)
# plus retry backoff. Generous: they only bound a failure, a passing drill returns as soon as it can.
SETTLE = 120.0
VISIBLE = 60.0


# ---- the deployment ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stub() -> Iterator[Stub]:
    server = Stub().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def deployment(stub, tmp_path_factory) -> Iterator[Deployment]:
    d = Deployment(tmp_path_factory.mktemp("drill"), stub.url, sla_seconds=SLA_SECONDS)
    try:
        d.start_temporal()
        d.prepare()
        d.start_worker()
        d.start_api()
        yield d
    finally:
        d.stop_all()


@pytest_asyncio.fixture(loop_scope="session")
async def http(deployment) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=deployment.api_url, timeout=30) as client:
        yield client


@pytest_asyncio.fixture(loop_scope="session")
async def temporal(deployment) -> AsyncIterator[Client]:
    # Visibility only (counts and describes): no payload is decoded, so the default converter does.
    yield await Client.connect(f"127.0.0.1:{deployment.temporal_port}")


def key(role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {API_KEYS[role]}"}


# ---- events from each CRM -------------------------------------------------------------------------


def hubspot(deployment: Deployment, deal: int, attempt: int = 0, stage: str = "closedwon") -> tuple[bytes, dict]:
    body = json.dumps([{
        "eventId": 100 + attempt, "subscriptionId": 2411, "portalId": 62515, "occurredAt": int(time.time() * 1000),
        "subscriptionType": "deal.propertyChange", "attemptNumber": attempt, "objectId": deal,
        "propertyName": "dealstage", "propertyValue": stage,
    }]).encode()  # fmt: skip
    # No BATON_PUBLIC_URL in the drill: HubSpot v3 signs the URI the API itself sees.
    timestamp = str(int(time.time() * 1000))
    uri = f"{deployment.api_url}/webhooks/hubspot"
    mac = hmac.new(HUBSPOT_SECRET.encode(), b"POST" + uri.encode() + body + timestamp.encode(), hashlib.sha256)
    return body, {
        "X-HubSpot-Signature-v3": base64.b64encode(mac.digest()).decode(),
        "X-HubSpot-Request-Timestamp": timestamp,
        "Content-Type": "application/json",
    }


def salesforce(record: str, replay: int = 0) -> tuple[bytes, dict]:
    body = json.dumps({
        "ChangeEventHeader": {"entityName": "Opportunity", "changeType": "UPDATE", "recordIds": [record],
                              "transactionKey": f"tx-{record}", "sequenceNumber": 1,
                              "commitTimestamp": int(time.time() * 1000)},
        "replayId": 9000 + replay, "StageName": "Closed Won", "Name": "Drill Salesforce", "Amount": 84000,
    }).encode()  # fmt: skip
    return body, {"X-Baton-Token": SF_TOKEN, "Content-Type": "application/json"}


def pipedrive(deal: int, retry: int = 0) -> tuple[bytes, dict]:
    now = datetime.now(UTC)
    body = json.dumps({
        "meta": {"version": "2.0", "entity": "deal", "action": "change", "id": f"n-{deal}", "attempt": retry + 1,
                 "timestamp": now.isoformat()},
        "data": {"id": deal, "title": "Drill Pipedrive", "value": 84000, "currency": "EUR", "status": "won",
                 "won_time": now.isoformat(), "add_time": (now - timedelta(days=60)).isoformat(), "owner_id": 12},
        "previous": {"status": "open"},
    }).encode()  # fmt: skip
    auth = base64.b64encode(f"{PD_USER}:{PD_PASSWORD}".encode()).decode()
    return body, {"Authorization": f"Basic {auth}", "Content-Type": "application/json"}


def generic(deal_id: str, ae: str = "ae-drill", closes_in: timedelta = timedelta(0)) -> dict:
    now = datetime.now(UTC)
    closed = now + closes_in
    return {
        "type": "deal",
        "source": "drill",
        "stage": "closed_won",
        "deal": {
            "id": deal_id,
            "account": "Drill Generic",
            "amount": 84000,
            "currency": "EUR",
            "created_at": (now - timedelta(days=40)).isoformat(),
            "closed_at": closed.isoformat(),
            "ae": ae,
        },
    }


def new_number() -> int:
    return random.randint(10**9, 10**10 - 1)


def new_id(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


# ---- what a user checks ---------------------------------------------------------------------------


async def state(http: httpx.AsyncClient, crm: str, deal_id: str) -> dict:
    answer = await http.get(f"/v1/handoffs/{crm}/{deal_id}", headers=key("operator"))
    assert answer.status_code == 200, answer.text
    return answer.json()


def kinds(s: dict, kind: str, **details) -> list[dict]:
    return [e for e in s["timeline"] if e["kind"] == kind and all(e["details"].get(k) == v for k, v in details.items())]


def notified_keys(s: dict) -> set[str]:
    """The Idempotency-Key of each notification: the `key` its notified entry records (the people rules'
    `<workflow id>:notice:<n>`), else, before them, `<workflow id>:<seq of its notified entry>`."""
    return {e["details"].get("key") or f"{s['workflow_id']}:{e['seq']}" for e in kinds(s, "notified")}


async def runs(temporal: Client, workflow_id: str) -> int:
    return (await temporal.count_workflows(f"WorkflowId = '{workflow_id}'")).count


async def exactly_one_run(temporal: Client, workflow_id: str) -> None:
    async def visible():
        assert await runs(temporal, workflow_id) >= 1

    await assert_eventually(visible, timeout=VISIBLE, interval=0.3)
    assert await runs(temporal, workflow_id) == 1


async def no_activity_pending(temporal: Client, workflow_id: str) -> None:
    description = await temporal.get_workflow_handle(workflow_id).describe()
    assert not description.raw_description.pending_activities, f"{workflow_id}: activities in flight"


async def wait_delivered(http: httpx.AsyncClient, stub: Stub, crm: str, deal_id: str, *needed: tuple) -> dict:
    """Until the timeline holds each `needed` (kind, details) and the stub has every notification it names."""

    async def settled():
        s = await state(http, crm, deal_id)
        for kind, details in needed:
            assert kinds(s, kind, **details), f"no {kind} {details} yet"
        missing = notified_keys(s) - set(stub.delivered)
        assert not missing, f"not delivered yet: {missing}"
        return s

    return await assert_eventually(settled, timeout=SETTLE, interval=0.5)


def assert_each_delivered_once(stub: Stub, s: dict, may_repeat: set[str] = frozenset()) -> None:
    """The receiver saw exactly the timeline's notifications; each 2xx once, except a key whose first
    delivery a killed worker never heard back about (then the receiver's idempotency folds it)."""
    mine = stub.keys_for(s["workflow_id"])
    assert mine == notified_keys(s)
    for k in mine:
        assert stub.delivered[k] == 1 or (k in may_repeat and stub.delivered[k] == 2), (k, stub.delivered[k])


def assert_once(s: dict, kind: str, **details) -> None:
    assert len(kinds(s, kind, **details)) == 1, (kind, details, [e for e in s["timeline"] if e["kind"] == kind])


# ---- 1. redelivery storm ---------------------------------------------------------------------------


async def test_a_redelivery_storm_starts_exactly_one_run_per_deal(deployment, http, temporal, stub):
    hs, pd = new_number(), new_number()
    sf = normalise_salesforce_id("0065g" + uuid.uuid4().hex[:10].upper())
    gen = new_id("S")
    deals = {("hubspot", str(hs)), ("salesforce", sf), ("pipedrive", str(pd)), ("drill", gen)}
    limit = asyncio.Semaphore(20)

    async def post(i: int) -> tuple[str, int, list]:
        source = ("hubspot", "salesforce", "pipedrive", "drill")[i % 4]
        attempt = i // 4
        async with limit:
            if source == "hubspot":
                body, headers = hubspot(deployment, hs, attempt=attempt % 5)
                answer = await http.post("/webhooks/hubspot", content=body, headers=headers)
            elif source == "salesforce":
                body, headers = salesforce(sf, replay=attempt)
                answer = await http.post("/webhooks/salesforce", content=body, headers=headers)
            elif source == "pipedrive":
                body, headers = pipedrive(pd, retry=attempt)
                answer = await http.post("/webhooks/pipedrive", content=body, headers=headers)
            else:
                answer = await http.post("/v1/events", json=generic(gen), headers=key("crm"))
        return source, answer.status_code, answer.json() if answer.status_code < 300 else answer.text

    answers = await asyncio.gather(*(post(i) for i in range(200)))
    assert [a for a in answers if not 200 <= a[1] < 300] == []
    outcomes = Counter((source, o["outcome"]) for source, _, body in answers for o in body)
    assert {outcome for (_, outcome) in outcomes} <= {"started", "duplicate"}, outcomes
    # The answer says truthfully which delivery started the handoff: one, however many arrived at once.
    assert {source: outcomes[(source, "started")] for source in ("hubspot", "salesforce", "pipedrive", "drill")} == {
        "hubspot": 1,
        "salesforce": 1,
        "pipedrive": 1,
        "drill": 1,
    }, outcomes

    for crm, deal_id in sorted(deals):
        workflow_id = f"baton-{crm}-{deal_id}"
        await exactly_one_run(temporal, workflow_id)
        s = await wait_delivered(http, stub, crm, deal_id, ("csm_assigned", {}))
        assert_once(s, "started")
        assert_once(s, "csm_assigned")
        assert_each_delivered_once(stub, s)


# ---- 6. a bad message never wedges a workflow -------------------------------------------------------


async def test_refused_messages_change_nothing_and_a_valid_one_still_goes_through(http, stub):
    deal_id = new_id("B")
    assert (await http.post("/v1/events", json=generic(deal_id), headers=key("crm"))).status_code == 202
    base = f"/v1/handoffs/drill/{deal_id}"
    before = await wait_delivered(http, stub, "drill", deal_id, ("csm_assigned", {}))
    lead = key("cs_lead")

    refusals = [
        ("POST", "/intro", {"action": "held"}, 409),  # held before it was scheduled
        ("POST", "/milestones", {"milestone": "first_value"}, 409),  # onboarding has not started
        ("POST", "/post-check", {"enough_context": True}, 409),  # the 30-day check has not started
        ("POST", "/intake-review", {"rating": 9}, 422),
        ("POST", "/deadlines/csm_briefed", {"reason": "x", "extend_by": "soon"}, 422),
        ("PATCH", "/document", {"goals": {"nested": ["not", "text"]}}, 422),
    ]
    for method, path, body, expected in refusals:
        answer = await http.request(method, base + path, json=body, headers=lead)
        assert answer.status_code == expected, (path, answer.status_code, answer.text)
    junk = await http.post(base + "/intro", content=b"{not json", headers={**lead, "Content-Type": "application/json"})
    assert junk.status_code == 422

    after = await state(http, "drill", deal_id)
    assert after["timeline"] == before["timeline"]  # nothing a refusal touched
    scheduled = await http.post(base + "/intro", json={"action": "scheduled"}, headers=lead)
    assert scheduled.status_code == 200, scheduled.text
    assert len(scheduled.json()["timeline"]) > len(before["timeline"])
    held = await http.post(base + "/intro", json={"action": "held"}, headers=lead)  # now in order: accepted
    assert held.status_code == 200, held.text
    assert (await state(http, "drill", deal_id))["phase"] not in ("closed",)


# ---- 5. outside systems failing ----------------------------------------------------------------------


async def test_a_failing_webhook_receiver_gets_each_notification_once_when_it_is_back(http, stub):
    stub.fail_notifications(500, 503, 429)
    deal_id = new_id("N")
    assert (await http.post("/v1/events", json=generic(deal_id), headers=key("crm"))).status_code == 202
    s = await wait_delivered(http, stub, "drill", deal_id, ("csm_assigned", {}))
    assert stub.notify_script == []  # every scripted failure was answered, so retries happened
    assert sum(stub.refused[k] for k in notified_keys(s)) >= 1
    assert_each_delivered_once(stub, s)
    assert not kinds(s, "crm_write_failed")


async def test_a_crm_404_is_not_retried_and_the_handoff_goes_on_with_the_carried_deal(deployment, http, stub):
    deal = new_number()
    stub.script_deal(str(deal), 404)
    body, headers = hubspot(deployment, deal)
    assert (await http.post("/webhooks/hubspot", content=body, headers=headers)).status_code == 202
    s = await wait_delivered(
        http, stub, "hubspot", str(deal), ("crm_write_failed", {"what": "fetch deal"}), ("csm_assigned", {})
    )
    assert_once(s, "crm_write_failed", what="fetch deal")
    assert stub.crm_calls[str(deal)] == 1  # a 4xx is final: no retry
    assert s["deal"]["deal_id"] == str(deal) and s["phase"] != "pre_close"


async def test_a_crm_503_is_retried_and_the_handoff_gets_the_fetched_fields(deployment, http, stub):
    deal = new_number()
    stub.script_deal(str(deal), 503, 503, fields={"dealname": "Fetched Drill Corp", "amount": "150000"})
    body, headers = hubspot(deployment, deal)
    assert (await http.post("/webhooks/hubspot", content=body, headers=headers)).status_code == 202

    async def fetched():
        s = await state(http, "hubspot", str(deal))
        assert s["deal"]["account"] == "Fetched Drill Corp"
        return s

    s = await assert_eventually(fetched, timeout=SETTLE, interval=0.5)
    assert stub.crm_calls[str(deal)] == 3
    assert s["deal"]["amount"] == 150000
    assert not kinds(s, "crm_write_failed")


# ---- 2. the worker killed -----------------------------------------------------------------------------


async def test_a_killed_worker_loses_no_deadline_and_repeats_no_side_effect(deployment, http, stub):
    deal_ids = [new_id("K") for _ in range(3)]
    stub.hold_notifications()  # so a notify activity is in flight, for sure, at the kill
    try:
        for deal_id in deal_ids:
            event = generic(deal_id, closes_in=HEADROOM)
            assert (await http.post("/v1/events", json=event, headers=key("crm"))).status_code == 202

        async def timers_pending_and_a_notification_in_flight():
            for deal_id in deal_ids:
                s = await state(http, "drill", deal_id)
                assert kinds(s, "deadline_set", sla="csm_briefed")
                assert not kinds(s, "sla_breached")
            assert stub.held

        await assert_eventually(timers_pending_and_a_notification_in_flight, timeout=VISIBLE, interval=0.2)
        dues = [
            datetime.fromisoformat(
                kinds(await state(http, "drill", d), "deadline_set", sla="csm_briefed")[0]["details"]["due"]
            )
            for d in deal_ids
        ]
        deployment.worker.kill()
    finally:
        # The receiver applies what it was holding; the killed worker never hears the answer.
        stub.release_notifications()

    try:
        # Let every deadline pass while no worker runs: the timers are the server's, not the worker's.
        async def deadlines_passed():
            assert datetime.now(UTC) > max(dues) + timedelta(seconds=1)

        await assert_eventually(deadlines_passed, timeout=SETTLE, interval=0.5)
        # Whatever reached the receiver by now came from the killed worker, which never learned the
        # answer: those are the only notifications a retry may bring again (with the same key).
        from_killed_worker = set(stub.delivered)
        assert stub.ever_held and stub.ever_held <= from_killed_worker
    finally:
        deployment.start_worker()  # also when the drill fails: the drills after it need a worker

    for deal_id in deal_ids:
        s = await wait_delivered(
            http,
            stub,
            "drill",
            deal_id,
            ("sla_breached", {"sla": "csm_briefed"}),
            ("escalated", {"sla": "csm_briefed"}),
            ("notified", {"event": "escalated"}),
        )
        assert_once(s, "started")
        assert_once(s, "sla_breached", sla="csm_briefed")
        assert_once(s, "escalated", sla="csm_briefed")
        assert_once(s, "csm_assigned")
        assert_each_delivered_once(stub, s, may_repeat=from_killed_worker)

    async def retried_with_the_same_key():
        # The in-flight attempt times out (30 s) and its retry carries the same Idempotency-Key, so the
        # receiver folds it: delivered twice, applied once.
        assert all(stub.delivered[k] == 2 for k in stub.ever_held), {k: stub.delivered[k] for k in stub.ever_held}

    await assert_eventually(retried_with_the_same_key, timeout=SETTLE, interval=0.5)
    assert stub.ever_held <= stub.applied


# ---- 3. Temporal restarted ------------------------------------------------------------------------------


async def test_open_handoffs_and_their_timers_survive_a_temporal_restart(deployment, http, temporal, stub):
    deal_ids = [new_id("R") for _ in range(2)]
    for deal_id in deal_ids:
        event = generic(deal_id, closes_in=HEADROOM)
        assert (await http.post("/v1/events", json=event, headers=key("crm"))).status_code == 202
    for deal_id in deal_ids:
        s = await wait_delivered(
            http, stub, "drill", deal_id, ("deadline_set", {"sla": "csm_briefed"}), ("csm_assigned", {})
        )
        assert not kinds(s, "sla_breached")
        # Delivered is not yet recorded: the start's notices run together, and one whose completion
        # the stopped server never got is delivered again after it (at least once, as documented).
        await assert_eventually(lambda s=s: no_activity_pending(temporal, s["workflow_id"]), timeout=SETTLE)
    api_pid = deployment.api.popen.pid

    deployment.stop_temporal()
    try:
        down = await http.get(f"/v1/handoffs/drill/{deal_ids[0]}", headers=key("operator"))
        assert down.status_code == 503 and down.headers.get("Retry-After")
        assert (await http.get("/readyz")).status_code == 503
        listing = await http.get("/v1/handoffs", headers=key("operator"))
        assert listing.status_code == 503, listing.text
    finally:
        deployment.start_temporal()

    async def ready():
        assert (await http.get("/readyz")).status_code == 200

    await assert_eventually(ready, timeout=VISIBLE, interval=0.3)
    assert deployment.api.running and deployment.api.popen.pid == api_pid  # recovered without a restart
    for deal_id in deal_ids:
        s = await wait_delivered(
            http,
            stub,
            "drill",
            deal_id,
            ("sla_breached", {"sla": "csm_briefed"}),
            ("escalated", {"sla": "csm_briefed"}),
            ("notified", {"event": "escalated"}),
        )
        assert_once(s, "started")
        assert_once(s, "sla_breached", sla="csm_briefed")
        assert_each_delivered_once(stub, s)
    assert deployment.worker.running  # the worker rode the outage out too


# ---- 4. Temporal unreachable when a webhook arrives -------------------------------------------------------


async def test_a_webhook_during_an_outage_is_503_and_its_retry_starts_one_handoff(deployment, http, temporal, stub):
    deal = new_number()
    workflow_id = f"baton-hubspot-{deal}"
    deployment.stop_temporal()
    try:
        body, headers = hubspot(deployment, deal, attempt=0)
        refused = await http.post("/webhooks/hubspot", content=body, headers=headers)
        assert refused.status_code == 503, refused.text  # not acknowledged: HubSpot will retry
        assert refused.headers.get("Retry-After")
        event = await http.post("/v1/events", json=generic(f"U{deal}"), headers=key("crm"))
        assert event.status_code == 503, event.text
    finally:
        deployment.start_temporal()

    client = await Client.connect(f"127.0.0.1:{deployment.temporal_port}")
    with pytest.raises(RPCError) as missing:  # the refused event left nothing behind
        await client.get_workflow_handle(workflow_id).describe()
    assert missing.value.status == RPCStatusCode.NOT_FOUND

    async def retried():
        body, headers = hubspot(deployment, deal, attempt=1)
        answer = await http.post("/webhooks/hubspot", content=body, headers=headers)
        assert answer.status_code == 202, answer.text
        return answer.json()

    first = await assert_eventually(retried, timeout=VISIBLE, interval=0.5)
    assert [o["outcome"] for o in first] == ["started"]
    again = await retried()
    assert [o["outcome"] for o in again] == ["duplicate"]
    await exactly_one_run(client, workflow_id)
    s = await wait_delivered(http, stub, "hubspot", str(deal), ("csm_assigned", {}))
    assert_once(s, "started")
    assert_each_delivered_once(stub, s)
