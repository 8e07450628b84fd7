"""Proof on a real dev server (where Temporal's limits are enforced, as in production) that nothing a
CRM sends can end or wedge a handoff: generated deal events through every ingestion route are each
either a 4xx naming the field, or a `started` run that stays healthy; never a 5xx (issue 12, "Proof").

The time-skipping server enforces no search-attribute size and cannot list workflows, so these run on
the dev server: one per file, one worker, each example with its own deal ids.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
import pytest_asyncio
from hypothesis import HealthCheck, given, settings
from hypothesis import event as label
from hypothesis import strategies as st
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from api.settings import ApiSettings
from tests.api_rig import (
    HUBSPOT_SECRET,
    PD_PASSWORD,
    PD_USER,
    PUBLIC_URL,
    SF_ORG,
    SF_TOKEN,
    api_keys_setting,
    auth,
    basic,
)  # fmt: skip
from tests.conftest import assert_eventually
from tests.dev_server import Stack, dev_server, worker_stack
from workflows import search_attributes
from workflows.handoff import DealHandoffWorkflow

pytestmark = pytest.mark.temporal


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def dev() -> AsyncIterator[WorkflowEnvironment]:
    async with dev_server() as env:
        yield env


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def stack(dev, tmp_path_factory) -> AsyncIterator[Stack]:
    async with worker_stack(dev.client, tmp_path_factory.mktemp("proof")) as running:
        yield running
        async for execution in dev.client.list_workflows(
            f"TaskQueue = '{running.task_queue}' AND ExecutionStatus = 'Running'"
        ):
            try:
                await dev.client.get_workflow_handle(execution.id).terminate("test file done")
            except RPCError as err:
                if err.status != RPCStatusCode.NOT_FOUND:
                    raise


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def http(stack) -> AsyncIterator[httpx.AsyncClient]:
    """The API with every CRM's credentials, on the stack's task queue and store."""
    settings = ApiSettings(
        task_queue=stack.task_queue,
        database_url=stack.database_url,
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
    app = create_app(settings=settings, client=stack.client)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://test") as client,
    ):
        yield client


# ---- what a run must look like after its first workflow tasks ------------------------------------


async def healthy(client: Client, workflow_id: str) -> None:
    """Not terminated, no failed workflow task, no activity past its third attempt, and the machine has
    begun (its state answers with a `started` entry): polled, since the first tasks take a moment."""

    async def begun() -> None:
        description = await client.get_workflow_handle(workflow_id).describe()
        assert description.status == WorkflowExecutionStatus.RUNNING, f"{workflow_id}: {description.status}"
        failed = [
            event
            async for event in client.get_workflow_handle(workflow_id).fetch_history_events()
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
        ]
        assert not failed, f"{workflow_id}: workflow task failed: {failed[0]}"
        raw = description.raw_description
        assert all(activity.attempt <= 3 for activity in raw.pending_activities), raw.pending_activities
        state = await client.get_workflow_handle_for(DealHandoffWorkflow.run, workflow_id).query(
            DealHandoffWorkflow.state
        )
        assert any(entry.kind.value == "started" for entry in state.timeline)

    await assert_eventually(begun, timeout=30)


# ---- generated events -------------------------------------------------------------------------

# Text as CRMs hold it, and as they should not: long, empty, non-ASCII, control characters, surrogates.
# Each odd strategy is weighted towards values a CRM really sends, so enough examples start a run.
fair_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), max_size=60)
odd_text = st.one_of(
    fair_text,
    fair_text,
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=400, max_size=600),
    st.text(alphabet="\U0001f3e2\u00e9\u4e2d", min_size=300, max_size=3000),
    st.sampled_from(["", "Globex\u0000Inc", "Globex\n", "\ud800", "  ", "Initech"]),
)
odd_amount = st.one_of(
    st.floats(min_value=0, max_value=1e9),
    st.floats(min_value=0, max_value=1e9),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**15), max_value=10**15),
    st.sampled_from(["9", True, None, 1e308, 84000]),
)
recent = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC))
odd_instant = st.one_of(
    recent.map(lambda d: d.isoformat()),
    recent.map(lambda d: d.isoformat()),
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)).map(
        lambda d: d.isoformat()
    ),
    st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1)).map(lambda d: d.isoformat()),
    st.sampled_from(["2026-03-06", "not a date", "", None]),
)


def deal_id() -> str:
    return f"P{uuid.uuid4().hex[:12]}"


@st.composite
def generic_event(draw) -> tuple[str, bytes, dict[str, str]]:
    deal = {"id": draw(st.one_of(st.just(deal_id()), st.sampled_from([deal_id() + "\n", "é" + deal_id(), ""])))}
    for key, strategy in (("account", odd_text), ("amount", odd_amount), ("closed_at", odd_instant),
                          ("created_at", odd_instant), ("ae", odd_text), ("channel_partner", odd_text)):  # fmt: skip
        if draw(st.booleans()):
            deal[key] = draw(strategy)
    body = {"type": "deal", "source": "proof", "stage": "closed_won", "deal": deal}
    if draw(st.booleans()):
        body["document"] = {"goals": draw(st.one_of(odd_text, st.none())), "risks": None}
    return "/v1/events", json.dumps(body).encode(), {**auth("crm"), "Content-Type": "application/json"}


@st.composite
def hubspot_workflow_event(draw) -> tuple[str, bytes, dict[str, str]]:
    properties = {"dealstage": {"value": "closedwon"}, "dealname": {"value": draw(odd_text)}}
    if draw(st.booleans()):
        properties["amount"] = {"value": draw(odd_amount)}
    if draw(st.booleans()):
        properties["closedate"] = {"value": draw(st.one_of(odd_instant, st.integers(-(10**15), 10**16)))}
    number = draw(st.integers(min_value=1, max_value=10**12))
    body = json.dumps({"objectId": number, "properties": properties}).encode()
    v2 = hashlib.sha256((HUBSPOT_SECRET + "POST" + PUBLIC_URL + "/webhooks/hubspot").encode() + body).hexdigest()
    headers = {"X-HubSpot-Signature": v2, "X-HubSpot-Signature-Version": "v2", "Content-Type": "application/json"}
    return "/webhooks/hubspot", body, headers


@st.composite
def pipedrive_event(draw) -> tuple[str, bytes, dict[str, str]]:
    now = datetime.now(UTC)
    data = {"id": draw(st.integers(min_value=1, max_value=10**12)), "status": "won", "title": draw(odd_text)}
    if draw(st.booleans()):
        data["value"] = draw(odd_amount)
    data["won_time"] = draw(st.one_of(odd_instant, st.just(now.isoformat())))
    body = {
        "meta": {"version": "2.0", "entity": "deal", "action": "change", "id": uuid.uuid4().hex, "timestamp": now.isoformat()},
        "data": data,
        "previous": {"status": "open"},
    }  # fmt: skip
    return (
        "/webhooks/pipedrive",
        json.dumps(body).encode(),
        {**basic(PD_USER, PD_PASSWORD), "Content-Type": "application/json"},
    )


@st.composite
def salesforce_event(draw) -> tuple[str, bytes, dict[str, str]]:
    record = draw(
        st.one_of(st.just("0065g" + uuid.uuid4().hex[:10].upper()), st.sampled_from(["0065g00000XyZabAé", "x"]))
    )
    body = {
        "ChangeEventHeader": {
            "entityName": "Opportunity", "changeType": "UPDATE", "recordIds": [record],
            "transactionKey": uuid.uuid4().hex, "sequenceNumber": 1, "commitTimestamp": 1741279320000,
        },
        "StageName": "Closed Won", "Name": draw(odd_text), "CloseDate": draw(odd_instant), "Amount": draw(odd_amount),
    }  # fmt: skip
    return (
        "/webhooks/salesforce",
        json.dumps(body).encode(),
        {"X-Baton-Token": SF_TOKEN, "Content-Type": "application/json"},
    )


any_event = st.one_of(generic_event(), hubspot_workflow_event(), pipedrive_event(), salesforce_event())


def names_a_field(answer: httpx.Response) -> bool:
    detail = answer.json()
    if "field" in detail:
        return bool(detail["field"])
    return isinstance(detail.get("detail"), list) and all(item.get("loc") for item in detail["detail"])


# Each started example waits for its run's first workflow tasks on the dev server (a fraction of a
# second, more on two loaded cores): 40 examples keep this test within seconds, well inside the
# suite's budget.
# Derandomised so CI meets the same examples on every run; the odd values are in the strategies.
@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(event=any_event)
async def test_every_generated_event_is_a_4xx_naming_the_field_or_a_healthy_run(http, stack, event):
    path, body, headers = event
    answer = await http.post(path, content=body, headers=headers)
    label(f"{path} answered {answer.status_code}")  # --hypothesis-show-statistics shows the mix
    assert answer.status_code < 500, (answer.status_code, answer.text)
    if answer.status_code >= 400:
        assert names_a_field(answer), answer.text
        return
    assert answer.status_code == 202, answer.text
    for outcome in answer.json():
        if outcome["outcome"] == "started":
            await healthy(stack.client, outcome["workflow_id"])


async def test_the_handoffs_that_exist_are_exactly_the_events_answered_started(http, stack):
    """A batch of good and bad events, one request each: none terminated, none missing."""
    source = f"contract{uuid.uuid4().hex[:6]}"
    good = [deal_id() for _ in range(4)]
    bad = [deal_id() for _ in range(4)]
    now = datetime.now(UTC)
    events = [{"id": d, "account": "Globex", "amount": 84000, "closed_at": now.isoformat()} for d in good] + [
        {"id": bad[0], "account": "x" * 3000},
        {"id": bad[1], "closed_at": "9999-01-01T00:00:00Z"},
        {"id": bad[2], "amount": 1e308, "currency": "EUR"},
        {"id": bad[3], "account": "Globex\u0000"},
    ]
    started: set[str] = set()
    for deal in events:
        body = {"type": "deal", "source": source, "stage": "closed_won", "deal": deal}
        answer = await http.post("/v1/events", json=body, headers=auth("crm"))
        assert answer.status_code < 500
        if answer.status_code == 202:
            started |= {o["workflow_id"] for o in answer.json() if o["outcome"] == "started"}
    assert started == {f"baton-{source}-{d}" for d in good}
    for workflow_id in started:
        await healthy(stack.client, workflow_id)

    async def listed() -> set[str]:
        found = {e.id async for e in stack.client.list_workflows(f"BatonCrm = '{source}'")}
        assert found == started
        return found

    await assert_eventually(listed, timeout=15)


async def test_the_longest_name_a_deal_takes_starts_a_run_that_stays_healthy(http, stack):
    """500 four-byte characters: 2,000 bytes, over Temporal's 2 KB keyword limit before truncation."""
    number = deal_id()
    account = "\U0001f3e2" * 500
    body = {"type": "deal", "source": "proof", "stage": "closed_won", "deal": {"id": number, "account": account}}
    answer = await http.post("/v1/events", json=body, headers=auth("crm"))
    assert answer.json()[0]["outcome"] == "started"
    workflow_id = f"baton-proof-{number}"
    await healthy(stack.client, workflow_id)
    description = await stack.client.get_workflow_handle(workflow_id).describe()

    async def shown() -> str:
        value = (await stack.client.get_workflow_handle(workflow_id).describe()).typed_search_attributes.get(
            search_attributes.ACCOUNT
        )
        assert value
        return value

    shown_account = await assert_eventually(shown)
    assert len(json.dumps(shown_account)) <= search_attributes.MAX_KEYWORD_BYTES and account.startswith(shown_account)
    state = await stack.client.get_workflow_handle_for(DealHandoffWorkflow.run, workflow_id).query(
        DealHandoffWorkflow.state
    )
    assert state.deal.account == account and description.status == WorkflowExecutionStatus.RUNNING
    # A later valid event for the same deal is a duplicate of the live run, not a lost deal.
    again = await http.post("/v1/events", json=body, headers=auth("crm"))
    assert again.json()[0]["outcome"] == "duplicate"


async def test_a_forged_page_token_is_a_fast_4xx(http):
    """Temporal refuses it as INVALID_ARGUMENT: the caller's mistake, not Temporal being down (503)."""
    forged = base64.urlsafe_b64encode(b"\x00garbage that decodes but is no token").decode()
    answer = await http.get("/v1/handoffs", params={"page_token": forged}, headers=auth("operator"))
    assert 400 <= answer.status_code < 500, answer.text
