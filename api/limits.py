"""A request body size limit, enforced before any route reads or parses the body.

A webhook endpoint is reachable from the internet before it authenticates (a signature needs the
whole body), so an unbounded body would let anyone make the API buffer gigabytes. The limit is the
settings' `max_body_bytes` (BATON_MAX_BODY_BYTES, 1 MiB by default).

Two checks, because a client need not send Content-Length (chunked transfer encoding):
- a declared Content-Length over the limit is answered 413 before the app runs at all;
- otherwise the bytes are counted as they stream in, and the read that crosses the limit raises
  `BodyTooLarge`, a Starlette HTTPException so FastAPI's body reader re-raises it as is (any other
  exception there becomes a 400 "error parsing the body") and the exception middleware answers 413.
  The route never sees the body, so nothing is parsed or started.
"""

from __future__ import annotations

import json

from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes")


class BodySizeLimit:
    """Pure ASGI (not BaseHTTPMiddleware), so the body stays a stream and is never buffered here."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.limit:
            await _too_large(send, self.limit)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                # Also catches a client that declared a small Content-Length and sent more.
                if received > self.limit:
                    raise BodyTooLarge(self.limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            # Raised where no exception handler caught it (a read outside a route); answer if we still can.
            if started:
                raise
            await _too_large(send, self.limit)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server rejects a malformed one; the streamed count still applies
    return None


async def _too_large(send: Send, limit: int) -> None:
    body = json.dumps({"detail": f"the request body is larger than {limit} bytes"}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def install(app: FastAPI, limit: int) -> None:
    app.add_middleware(BodySizeLimit, limit=limit)
