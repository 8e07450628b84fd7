"""The request body size limit: 413 before the body is parsed, declared or streamed, and nothing starts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from api.limits import BodySizeLimit
from api.settings import ApiSettings
from tests.api_rig import auth, deal_number, dumps, hubspot_stage, hubspot_v3_headers, running_api
from tests.test_api_webhooks import exists

LIMIT = 4096  # small, so over-limit bodies stay cheap; the default is tested on its own


async def chunks(body: bytes, size: int = 1000) -> AsyncIterator[bytes]:
    # An async generator makes httpx send Transfer-Encoding: chunked with no Content-Length.
    for start in range(0, len(body), size):
        yield body[start : start + size]


def generic_won(deal_id: str, padding: int = 0) -> bytes:
    now = datetime.now(UTC)
    event = {
        "type": "deal",
        "source": "limits",
        "stage": "closed_won",
        "deal": {
            "id": deal_id,
            "account": "Northwind Logistics",
            "amount": 84000,
            "currency": "EUR",
            "created_at": (now - timedelta(days=40)).isoformat(),
            "closed_at": now.isoformat(),
            "ae": "ae-limits",
        },
    }
    if padding:
        event["document"] = {"goals": "x" * padding}
    return dumps(event)


def hubspot_batch(first: int, events: int) -> bytes:
    return dumps(
        [hubspot_stage(first, "closedwon", 1)]
        + [hubspot_stage(deal_number(), "appointmentscheduled", i) for i in range(2, events + 2)]
    )


@pytest.fixture
def small_limit(monkeypatch):
    # The middleware reads the variable when the app builds its stack (first request), as in production.
    monkeypatch.setenv("BATON_MAX_BODY_BYTES", str(LIMIT))


@pytest.mark.temporal
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_an_oversized_hubspot_batch_is_413_and_starts_nothing(rig_factory, small_limit, chunked):
    async with rig_factory() as rig, running_api(rig) as api:
        number = deal_number()
        body = hubspot_batch(number, 40)
        assert len(body) > LIMIT
        headers = hubspot_v3_headers(body)  # correctly signed: only its size is wrong
        content = chunks(body) if chunked else body
        answer = await api.http.post("/webhooks/hubspot", content=content, headers=headers)
        assert answer.status_code == 413, answer.text
        assert "larger than" in answer.json()["detail"]
        assert not await exists(rig.client, f"baton-hubspot-{number}")


@pytest.mark.temporal
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_an_oversized_event_is_413_and_starts_nothing(rig_factory, small_limit, chunked):
    async with rig_factory() as rig, running_api(rig) as api:
        deal_id = f"L{deal_number()}"
        body = generic_won(deal_id, padding=LIMIT)
        content = chunks(body) if chunked else body
        headers = {**auth("crm"), "Content-Type": "application/json"}
        answer = await api.http.post("/v1/events", content=content, headers=headers)
        assert answer.status_code == 413, answer.text
        assert not await exists(rig.client, f"baton-limits-{deal_id}")


@pytest.mark.temporal
async def test_a_body_under_the_limit_still_goes_through_streamed(rig_factory, small_limit):
    async with rig_factory() as rig, running_api(rig) as api:
        deal_id = f"L{deal_number()}"
        api.track(f"baton-limits-{deal_id}")
        body = generic_won(deal_id, padding=100)
        assert len(body) < LIMIT
        answer = await api.http.post(
            "/v1/events", content=chunks(body, 100), headers={**auth("crm"), "Content-Type": "application/json"}
        )
        assert answer.status_code == 202, answer.text
        assert [o["outcome"] for o in answer.json()] == ["started"]


async def test_a_declared_length_over_the_limit_never_reaches_the_app():
    calls = []

    async def app(scope, receive, send):
        calls.append(scope["path"])

    limited = BodySizeLimit(app, limit=10)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=limited), base_url="http://test") as http:
        answer = await http.post("/webhooks/pipedrive", content=b"x" * 11)
    assert answer.status_code == 413
    assert calls == []


async def test_a_client_sending_more_than_it_declared_is_cut_off():
    """A lying Content-Length is caught by the streamed count."""
    seen = []

    async def app(scope, receive, send):
        while True:
            message = await receive()
            seen.append(len(message.get("body", b"")))
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    messages = iter(
        [
            {"type": "http.request", "body": b"x" * 6, "more_body": True},
            {"type": "http.request", "body": b"x" * 6, "more_body": False},
        ]
    )

    async def receive():
        return next(messages)

    sent = []

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/v1/events", "headers": [(b"content-length", b"5")]}
    await BodySizeLimit(app, limit=10)(scope, receive, send)
    assert sent[0]["status"] == 413
    assert seen == [6]  # the app got the first chunk only; the one crossing the limit was refused


def test_the_limit_defaults_to_one_mebibyte_and_refuses_nonsense(monkeypatch):
    monkeypatch.delenv("BATON_MAX_BODY_BYTES", raising=False)
    assert ApiSettings().max_body_bytes == 1024 * 1024
    monkeypatch.setenv("BATON_MAX_BODY_BYTES", "2048")
    assert ApiSettings().max_body_bytes == 2048
    monkeypatch.setenv("BATON_MAX_BODY_BYTES", "0")
    with pytest.raises(ValueError):
        ApiSettings()
