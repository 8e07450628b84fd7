"""A server span per API request, the parent of the Temporal client's spans (infra.tracing).

On only when tracing is configured. The span is named by method and route template
(`POST /webhooks/hubspot`, `GET /v1/handoffs/{crm}/{deal_id}`), never by the raw path, and carries no
header or body: a caller's credentials and a deal's contacts stay out of the trace backend. A
`traceparent` header from the caller is honoured, so a CRM-side or gateway trace continues here.
"""

from __future__ import annotations

from fastapi import FastAPI
from opentelemetry import propagate
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer

UNMATCHED = "<unmatched>"


def _headers(scope) -> dict[str, str]:
    return {key.decode("latin-1"): value.decode("latin-1") for key, value in scope.get("headers", [])}


class TracingMiddleware:
    """Plain ASGI, like the metrics middleware: no extra task per request."""

    def __init__(self, app, tracer: Tracer) -> None:
        self.app, self.tracer = app, tracer

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope.get("method", "GET")
        parent = propagate.extract(_headers(scope))
        with self.tracer.start_as_current_span(
            f"{method} {UNMATCHED}", context=parent, kind=SpanKind.SERVER, attributes={"http.request.method": method}
        ) as span:
            status = [500]

            async def send_status(message) -> None:
                if message["type"] == "http.response.start":
                    status[0] = message["status"]
                await send(message)

            try:
                await self.app(scope, receive, send_status)
            finally:
                route = getattr(scope.get("route"), "path", None) or UNMATCHED
                span.update_name(f"{method} {route}")
                span.set_attribute("http.route", route)
                span.set_attribute("http.response.status_code", status[0])
                if status[0] >= 500:
                    span.set_status(Status(StatusCode.ERROR))


def install(app: FastAPI, tracer: Tracer | None) -> None:
    if tracer is not None:
        app.add_middleware(TracingMiddleware, tracer=tracer)
