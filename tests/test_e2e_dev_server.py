"""End to end on a real Temporal dev server: webhooks start handoffs, visibility lists them by search
attributes, the UI metadata is set, an outage is a 503 that a retry recovers from, and `baton demo`.

One dev server for the whole file (it takes a second or two to start); each test has its own deal ids
and AE so the tests do not see each other's runs in visibility. The shared server is never stopped
mid-file: an outage is played by an API holding a client for a closed port.
"""

from __future__ import annotations

import argparse
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import pytest_asyncio
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from cli import demo_cmd
from infra.temporal_client import data_converter
from tests.api_rig import (
    KEYS,
    auth,
    deal_number,
    dumps,
    hubspot_stage,
    hubspot_v3_headers,
)
from tests.conftest import assert_eventually
from tests.dev_server import Stack, api_for, dev_server, worker_stack
from tests.handoffs import READY_DOCUMENT
from workflows import search_attributes as sa

pytestmark = pytest.mark.temporal
# Visibility on the dev server lags a write by up to about a second; polls are bounded by this.
VISIBLE_WITHIN = 15.0


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def dev() -> AsyncIterator[WorkflowEnvironment]:
    async with dev_server() as env:
        yield env


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def stack(dev, tmp_path_factory) -> AsyncIterator[Stack]:
    async with worker_stack(dev.client, tmp_path_factory.mktemp("e2e")) as running:
        yield running
        # Nothing may outlive the file's worker: end every run it left open.
        async for execution in dev.client.list_workflows(
            f"TaskQueue = '{running.task_queue}' AND ExecutionStatus = 'Running'"
        ):
            try:
                await dev.client.get_workflow_handle(execution.id).terminate("test file done")
            except RPCError as err:
                if err.status != RPCStatusCode.NOT_FOUND:  # NOT_FOUND: it closed meanwhile
                    raise


@pytest_asyncio.fixture(loop_scope="session")
async def http(stack) -> AsyncIterator[httpx.AsyncClient]:
    async with api_for(stack) as (client, _app):
        yield client


async def run_count(client: Client, workflow_id: str) -> int:
    """Runs of this id, open or closed, as visibility counts them."""
    return (await client.count_workflows(f"WorkflowId = '{workflow_id}'")).count


def generic_won(deal_id: str, ae: str, document: dict | None = None) -> dict:
    now = datetime.now(UTC)
    event = {"type": "deal", "source": "e2e", "stage": "closed_won", "deal": {
        "id": deal_id, "account": "Northwind Logistics", "amount": 84000, "currency": "EUR",
        "created_at": (now - timedelta(days=40)).isoformat(), "closed_at": now.isoformat(), "ae": ae,
    }}  # fmt: skip
    if document is not None:
        event["document"] = document
    return event


async def test_hubspot_batch_starts_a_handoff_and_its_redelivery_starts_none(stack, http):
    number = deal_number()
    workflow_id = f"baton-hubspot-{number}"
    body = dumps([hubspot_stage(number, "closedwon")])
    answer = await http.post("/webhooks/hubspot", content=body, headers=hubspot_v3_headers(body))
    assert answer.status_code == 202, answer.text
    assert [(o["workflow_id"], o["outcome"]) for o in answer.json()] == [(workflow_id, "started")]
    run_id = (await stack.client.get_workflow_handle(workflow_id).describe()).run_id

    again = await http.post("/webhooks/hubspot", content=body, headers=hubspot_v3_headers(body))
    assert again.status_code == 202 and [o["outcome"] for o in again.json()] == ["duplicate"]
    assert (await stack.client.get_workflow_handle(workflow_id).describe()).run_id == run_id

    async def one_run():
        assert await run_count(stack.client, workflow_id) == 1

    await assert_eventually(one_run, timeout=VISIBLE_WITHIN, interval=0.2)


async def test_visibility_listing_search_attributes_and_ui_metadata(stack, http):
    ae = f"ae-{uuid.uuid4().hex[:8]}@example.com"
    document = READY_DOCUMENT.model_dump(mode="json", exclude_none=True)
    ids = []
    for _ in range(2):
        deal_id = f"D-{deal_number()}"
        answer = await http.post("/v1/events", json=generic_won(deal_id, ae, document), headers=auth("crm"))
        assert answer.json()[0]["outcome"] == "started", answer.text
        ids.append(f"baton-e2e-{deal_id}")
    reader = auth("operator")

    async def both_listed_in_intake_review():
        page = await http.get(
            "/v1/handoffs", params={"tier": "ready", "ae": ae, "phase": "intake_review"}, headers=reader
        )
        assert page.status_code == 200, page.text
        rows = page.json()["handoffs"]
        assert sorted(r["id"] for r in rows) == sorted(ids), rows
        assert all(r["csm"] and r["breached"] is False and r["score"] >= 85 for r in rows), rows
        return rows

    await assert_eventually(both_listed_in_intake_review, timeout=VISIBLE_WITHIN, interval=0.2)

    # Filters that must exclude the runs, and ones that must keep them.
    for params, expected in [
        ({"ae": ae, "breached": "false"}, 2),
        ({"ae": ae, "breached": "true"}, 0),
        ({"ae": ae, "phase": "onboarding"}, 0),
        ({"ae": ae, "tier": "gaps"}, 0),
    ]:
        page = await http.get("/v1/handoffs", params=params, headers=reader)
        assert len(page.json()["handoffs"]) == expected, (params, page.text)

    # Paging: one row per page, the token leads to the other row, and the last page has no token.
    first = (await http.get("/v1/handoffs", params={"ae": ae, "page_size": 1}, headers=reader)).json()
    assert len(first["handoffs"]) == 1 and first["next_page_token"]
    second = (
        await http.get(
            "/v1/handoffs", params={"ae": ae, "page_size": 1, "page_token": first["next_page_token"]}, headers=reader
        )
    ).json()
    assert len(second["handoffs"]) == 1 and {first["handoffs"][0]["id"], second["handoffs"][0]["id"]} == set(ids)
    if second["next_page_token"]:
        third = (
            await http.get(
                "/v1/handoffs",
                params={"ae": ae, "page_size": 1, "page_token": second["next_page_token"]},
                headers=reader,
            )
        ).json()
        assert third == {"handoffs": [], "next_page_token": None}

    handle = stack.client.get_workflow_handle(ids[0])
    described = await handle.describe()
    attrs = described.typed_search_attributes
    assert attrs.get(sa.CRM) == "e2e" and attrs.get(sa.TIER) == "ready" and attrs.get(sa.PHASE) == "intake_review"
    assert attrs.get(sa.AE) == ae and attrs.get(sa.CSM) and attrs.get(sa.SCORE) >= 85
    assert attrs.get(sa.DEAL_ID) == ids[0].removeprefix("baton-e2e-") and attrs.get(sa.SLA_BREACHED) is False
    assert abs(attrs.get(sa.CLOSED_AT) - datetime.now(UTC)) < timedelta(minutes=5)
    # No contact's name in a plain-text search attribute (DECISIONS.md "Security").
    assert not any("Priya" in str(pair.value) for pair in attrs)

    # The start's static summary (encoded by the data converter) and the workflow's current details,
    # which the SDK serves through its built-in metadata query (describe() does not carry them).
    summary = await described.static_summary()
    assert summary.startswith("Northwind Logistics · ACV ") and summary.endswith("· structured"), summary
    metadata = await handle.query("__temporal_workflow_metadata", result_type=WorkflowMetadata)
    assert metadata.current_details.startswith("intake_review · structured · ready"), metadata.current_details
    assert "CSM csm-" in metadata.current_details


async def test_temporal_down_is_503_and_the_retry_starts_exactly_one_handoff(stack):
    number = deal_number()
    workflow_id = f"baton-hubspot-{number}"
    body = dumps([hubspot_stage(number, "closedwon")])
    down = await Client.connect("127.0.0.1:1", lazy=True, data_converter=data_converter())
    async with api_for(stack, client=down) as (http, _):
        answer = await http.post("/webhooks/hubspot", content=body, headers=hubspot_v3_headers(body))
        assert answer.status_code == 503 and answer.headers["retry-after"], answer.text
    assert await run_count(stack.client, workflow_id) == 0

    # HubSpot redelivers the same batch once Temporal is back.
    async with api_for(stack) as (http, _):
        answer = await http.post("/webhooks/hubspot", content=body, headers=hubspot_v3_headers(body))
        assert answer.status_code == 202 and [o["outcome"] for o in answer.json()] == ["started"], answer.text
        again = await http.post("/webhooks/hubspot", content=body, headers=hubspot_v3_headers(body))
        assert [o["outcome"] for o in again.json()] == ["duplicate"]

    async def exactly_one():
        assert await run_count(stack.client, workflow_id) == 1

    await assert_eventually(exactly_one, timeout=VISIBLE_WITHIN, interval=0.2)


async def test_demo_posts_every_kind_of_deal(stack, http):
    printed: list[str] = []
    outcomes = await demo_cmd.post_demo(http, KEYS["crm"], out=printed.append)
    kinds = [(o["deal_id"], o["kind"], o["outcome"]) for o in outcomes]
    assert kinds == [
        ("DEMO-1001", "won", "started"),
        ("DEMO-1002", "won", "started"),
        ("DEMO-1003", "won", "started"),
        ("DEMO-1004", "won", "started"),
        ("DEMO-1005", "won", "started"),
        ("DEMO-1006", "won", "started"),
        ("DEMO-1006", "lost", "ended"),
        ("DEMO-1007", "won", "started"),
    ]
    assert any("6 handoffs started" in line for line in printed)  # the lost deal's run ended at once

    async def approaches():
        found = {}
        for number in (1001, 1002, 1003, 1004, 1005, 1007):
            described = await stack.client.get_workflow_handle(f"baton-demo-DEMO-{number}").describe()
            found[number] = (
                described.typed_search_attributes.get(sa.APPROACH),
                described.typed_search_attributes.get(sa.TIER),
            )
        assert {n: a for n, (a, _) in found.items()} == {
            1001: "automated",
            1002: "structured",
            1003: "white_glove",
            1004: "partner_mediated",
            1005: "internal",
            1007: "structured",
        }
        assert found[1007][1] in ("gaps", "blocked") and found[1002][1] == "ready"

    await assert_eventually(approaches, timeout=VISIBLE_WITHIN, interval=0.2)

    async def lost_run_ended():
        described = await stack.client.get_workflow_handle("baton-demo-DEMO-1006").describe()
        assert described.status != WorkflowExecutionStatus.RUNNING

    await assert_eventually(lost_run_ended, timeout=VISIBLE_WITHIN, interval=0.2)

    # Run again: every open deal is a duplicate. The lost deal's win counts as won after all (api/ingest's
    # rule for a run that ended lost), so it restarts and is ended again by its lost event.
    printed.clear()
    again = await demo_cmd.post_demo(http, KEYS["crm"], out=printed.append)
    # Won, then lost: that deal keeps its one (closed) run, so neither event starts or ends anything now.
    assert {(o["deal_id"], o["outcome"]) for o in again if o["outcome"] != "duplicate"} == {
        ("DEMO-1006", "already_handed_off"),
        ("DEMO-1006", "ignored"),
    }
    assert any("No new open handoff" in line for line in printed)


async def test_demo_needs_a_crm_key(http, capsys, monkeypatch):
    monkeypatch.delenv(demo_cmd.KEY_ENV, raising=False)
    # A parser of its own: the command's wiring is tested without depending on cli/main's registry.
    parser = argparse.ArgumentParser(prog="baton")
    demo_cmd.add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["demo", "--url", "http://127.0.0.1:1"])
    assert args.run(args) == 2
    assert "BATON_API_KEYS" in capsys.readouterr().err

    with pytest.raises(demo_cmd.DemoError, match="crm role"):
        await demo_cmd.post_demo(http, KEYS["ae"], out=lambda _: None)
