"""Small helpers the figures share: percentiles, HubSpot signing, and activity completion times."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import math
import time

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from bench.stack import HUBSPOT_SECRET, KEYS, PUBLIC_URL


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile: with few samples it reports a value that was really observed."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def spread(values: list[float]) -> dict[str, float]:
    return {"p50": percentile(values, 50), "p95": percentile(values, 95), "n": len(values)}


def auth(role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {KEYS[role]}"}


def hubspot_won(deal_id: int) -> tuple[bytes, dict[str, str]]:
    """A one-event batch for a won deal, signed v3 as HubSpot signs it."""
    body = json.dumps([{
        "eventId": 1, "subscriptionId": 1, "portalId": 1, "occurredAt": int(time.time() * 1000),
        "subscriptionType": "deal.propertyChange", "attemptNumber": 0, "objectId": deal_id,
        "propertyName": "dealstage", "propertyValue": "closedwon",
    }]).encode()  # fmt: skip
    timestamp = str(int(time.time() * 1000))
    source = b"POST" + (PUBLIC_URL + "/webhooks/hubspot").encode() + body + timestamp.encode()
    signature = base64.b64encode(hmac.new(HUBSPOT_SECRET.encode(), source, hashlib.sha256).digest()).decode()
    return body, {
        "X-HubSpot-Signature-v3": signature,
        "X-HubSpot-Request-Timestamp": timestamp,
        "Content-Type": "application/json",
    }


async def activity_done_at(
    client: Client, workflow_id: str, activity_type: str, needle: bytes = b"", timeout: float = 60.0
) -> float:
    """When the server recorded the first completion of that activity (whose input holds `needle`), in
    epoch seconds. The server's own event time, so polling the history adds no error to the figure."""
    deadline = time.monotonic() + timeout
    handle = client.get_workflow_handle(workflow_id)
    while time.monotonic() < deadline:
        scheduled: set[int] = set()
        async for event in handle.fetch_history_events():
            if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
                attrs = event.activity_task_scheduled_event_attributes
                data = b"".join(p.data for p in attrs.input.payloads)
                if attrs.activity_type.name == activity_type and needle in data:
                    scheduled.add(event.event_id)
            elif (
                event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED
                and event.activity_task_completed_event_attributes.scheduled_event_id in scheduled
            ):
                return event.event_time.ToNanoseconds() / 1e9
        await asyncio.sleep(0.05)
    raise TimeoutError(f"{workflow_id}: no completed {activity_type} after {timeout:.0f}s")


async def bounded(count: int, in_flight: int, one) -> float:
    """Run one(i) for i in range(count), `in_flight` at a time; the elapsed seconds."""
    limit = asyncio.Semaphore(in_flight)

    async def step(index: int) -> None:
        async with limit:
            await one(index)

    started = time.perf_counter()
    await asyncio.gather(*(step(i) for i in range(count)))
    return time.perf_counter() - started
