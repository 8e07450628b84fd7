"""The figures through the API against the plain SDK: start throughput, close to CSM notified, message
round trip and state read. Baton's side goes over real HTTP to the API process."""

from __future__ import annotations

import asyncio
import random
import time
import uuid

import httpx
from temporalio.client import Client

from bench.bare import BareWorkflow
from bench.figures_readmodel import row_seen_at
from bench.measure import activity_done_at, auth, bounded, hubspot_won, spread
from bench.stack import Stack

IN_FLIGHT = 50


def _deal_number() -> int:
    return random.randint(10**9, 10**10 - 1)


async def start_throughput(stack: Stack, http: httpx.AsyncClient, bare: Client, deals: int) -> dict:
    """Won deals per second with 50 requests in flight: half signed HubSpot webhooks, half /v1/events."""
    numbers = [_deal_number() for _ in range(deals)]

    async def one_webhook(index: int) -> None:
        body, headers = hubspot_won(numbers[index])
        answer = await http.post("/webhooks/hubspot", content=body, headers=headers)
        assert answer.status_code == 202 and answer.json()[0]["outcome"] == "started", answer.text

    async def one_event(index: int) -> None:
        event = {"type": "deal", "source": "bench", "stage": "closed_won",
                 "deal": {"id": f"ev{numbers[index]}", "account": "Bench Co", "amount": 50000, "currency": "USD",
                          "ae": "ae@bench.invalid"}}  # fmt: skip
        answer = await http.post("/v1/events", json=event, headers=auth("crm"))
        assert answer.status_code == 202 and answer.json()[0]["outcome"] == "started", answer.text

    half = max(1, deals // 2)
    webhook_s = await bounded(half, IN_FLIGHT, one_webhook)
    events_s = await bounded(deals - half, IN_FLIGHT, one_event) if deals > half else 0.0
    prefix = uuid.uuid4().hex[:8]

    async def one_bare(index: int) -> None:
        await bare.start_workflow(
            BareWorkflow.run, "bench", id=f"bare-start-{prefix}-{index}", task_queue=stack.bare_task_queue
        )

    bare_s = await bounded(deals, IN_FLIGHT, one_bare)
    return {
        "baton": deals / (webhook_s + events_s),
        "bare": deals / bare_s,
        "unit": "starts/s",
        "webhooks_per_s": half / webhook_s,
        "events_per_s": (deals - half) / events_s if events_s else None,
    }


async def close_to_notified(
    stack: Stack, http: httpx.AsyncClient, baton: Client, bare: Client, samples: int
) -> tuple[dict, dict, dict, list[str]]:
    """One at a time, so each is a latency, not a queue: webhook POST to the `csm_assigned` notify done;
    bare: start_workflow to its first activity done. Also the webhook POST to the handoff's first row in
    the read model. Returns the handoff ids for the next figures."""
    baton_s, bare_s, lag_s, ids = [], [], [], []
    timeouts = 0
    for index in range(samples):
        number = _deal_number()
        body, headers = hubspot_won(number)
        workflow_id = f"baton-hubspot-{number}"
        sent = time.time()
        answer = await http.post("/webhooks/hubspot", content=body, headers=headers)
        assert answer.status_code == 202, answer.text
        row = asyncio.create_task(row_seen_at(stack.database_url, workflow_id))
        ids.append(workflow_id)
        try:
            baton_s.append(await activity_done_at(baton, workflow_id, "notify", b"csm_assigned", timeout=20) - sent)
        except TimeoutError:
            # Reported, not fatal: after the throughput burst some handoffs were seen waiting on the
            # read model's CSM assignment (cause not yet diagnosed); the count says how many.
            timeouts += 1
        try:
            lag_s.append(await row - sent)
        except TimeoutError:
            timeouts += 1

        bare_id = f"bare-latency-{uuid.uuid4().hex[:8]}-{index}"
        sent = time.time()
        await bare.start_workflow(BareWorkflow.run, "bench", id=bare_id, task_queue=stack.bare_task_queue)
        bare_s.append(await activity_done_at(bare, bare_id, "bare_notify") - sent)
    found = spread(baton_s) if baton_s else {"p50": float("nan"), "p95": float("nan"), "n": 0}
    lag = spread(lag_s) if lag_s else {"p50": float("nan"), "p95": float("nan"), "n": 0}
    return {**found, "timeouts": timeouts}, spread(bare_s), lag, ids


async def round_trips(
    stack: Stack, http: httpx.AsyncClient, bare: Client, handoff_ids: list[str], samples: int
) -> tuple[dict, dict, dict, dict]:
    """(update Baton, update bare, read Baton, read bare): sequential, over the handoffs already open."""
    bare_ids = []
    for index in range(len(handoff_ids)):
        bare_id = f"bare-rt-{uuid.uuid4().hex[:8]}-{index}"
        await bare.start_workflow(BareWorkflow.run, "bench", id=bare_id, task_queue=stack.bare_task_queue)
        bare_ids.append(bare_id)
    update_baton, update_bare, read_baton, read_bare = [], [], [], []
    # A read goes to the handoff half the list away from the one just updated: a query waits for a
    # workflow task in flight, and right after a change Baton's is the read-model write (about 10 ms),
    # which would make this figure the update's tail rather than a read. Bare reads the same way.
    half = max(1, len(handoff_ids) // 2)
    for index in range(samples):
        workflow_id = handoff_ids[index % len(handoff_ids)]
        deal = workflow_id.removeprefix("baton-hubspot-")
        read_deal = handoff_ids[(index + half) % len(handoff_ids)].removeprefix("baton-hubspot-")
        patch = {"fields": {"goals": f"Cut onboarding time from 40 to {20 + index % 10} days within 6 months."}}
        started = time.perf_counter()
        answer = await http.patch(f"/v1/handoffs/hubspot/{deal}/document", json=patch, headers=auth("ae"))
        update_baton.append(time.perf_counter() - started)
        assert answer.status_code == 200 and answer.json()["quality"]["score"] > 0, answer.text

        handle = bare.get_workflow_handle(bare_ids[index % len(bare_ids)])
        started = time.perf_counter()
        assert await handle.execute_update(BareWorkflow.update_score, index) == index
        update_bare.append(time.perf_counter() - started)

        started = time.perf_counter()
        answer = await http.get(f"/v1/handoffs/hubspot/{read_deal}", headers=auth("operator"))
        read_baton.append(time.perf_counter() - started)
        assert answer.status_code == 200, answer.text

        read_handle = bare.get_workflow_handle(bare_ids[(index + half) % len(bare_ids)])
        started = time.perf_counter()
        await read_handle.query(BareWorkflow.state)
        read_bare.append(time.perf_counter() - started)
    return spread(update_baton), spread(update_bare), spread(read_baton), spread(read_bare)
