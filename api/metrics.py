"""The API's Prometheus metrics (prometheus_client), served unauthenticated at `/metrics`.

Each app gets its own registry (`app.state.metrics.registry`), so two apps in one process (the tests
build many) never share counts. Labels are bounded on purpose: `route` is the route template
(`/v1/handoffs/{crm}/{deal_id}`), never the raw path, so one series per endpoint rather than one per
deal; `crm` is a fixed segment of a webhook route or a CRM name the ingestion code already checked.
The dashboard in deploy/grafana reads these names.
"""

from __future__ import annotations

import functools
import re
import time
from typing import Any

from fastapi import FastAPI
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.ingest import Ingest
from api.ingest_plan import Outcome, Planned
from infra.log_format import bind_log_context, reset_log_context

# Latency buckets from a cached query (milliseconds) to an update that waits for a worker (seconds).
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
UNMATCHED = "<unmatched>"
WEBHOOKS = "/webhooks/"
# Series that exist at 0 from the start, so a dashboard's rate() and an alert see a CRM before its first
# event (Prometheus cannot tell "never happened" from "not scraped" otherwise).
WEBHOOK_CRMS = ("hubspot", "salesforce", "pipedrive")


class ApiMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "baton_http_requests",
            "HTTP requests by route template and status.",
            ("route", "status"),
            registry=self.registry,
        )
        self.duration = Histogram(
            "baton_http_request_duration_seconds",
            "HTTP request duration by route template.",
            ("route",),
            buckets=DURATION_BUCKETS,
            registry=self.registry,
        )
        self.verification_failures = Counter(
            "baton_webhook_verification_failures",
            "CRM webhooks refused as not from the CRM.",
            ("crm",),
            registry=self.registry,
        )
        self.handoffs_started = Counter(
            "baton_handoffs_started", "Handoff workflows started by the API.", ("crm",), registry=self.registry
        )
        for crm in WEBHOOK_CRMS:
            self.verification_failures.labels(crm)
            self.handoffs_started.labels(crm)

    def observe(self, route: str, status: int, seconds: float) -> None:
        self.requests.labels(route, str(status)).inc()
        self.duration.labels(route).observe(seconds)
        # A webhook answers 401 for exactly one reason: its CRM's signature or credentials did not verify.
        if status == 401 and route.startswith(WEBHOOKS):
            self.verification_failures.labels(route[len(WEBHOOKS) :].split("/")[0]).inc()


class MetricsMiddleware:
    """Plain ASGI rather than BaseHTTPMiddleware: it adds no task or stream copy per request, which the
    benchmark's latency figures would otherwise pay."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500  # an exception that escapes every handler is a 500 to the client

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        token = bind_log_context(**_context_from_path(scope.get("path", "")))
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_status)
        finally:
            reset_log_context(token)
            # The router writes the matched route into this same scope dict, so its template is known now.
            route = getattr(scope.get("route"), "path", None) or UNMATCHED
            self.metrics.observe(route, status, time.perf_counter() - started)


_HANDOFF_PATH = re.compile(r"^/v1/handoffs/([a-z][a-z0-9_-]{0,31})/([^/]{1,64})(?:/|$)")


def _context_from_path(path: str) -> dict[str, str]:
    """Which handoff a request is about, for the log lines it causes (see infra.log_format)."""
    found = _HANDOFF_PATH.match(path)
    if not found:
        return {}
    crm, deal_id = found.groups()
    return {"crm": crm, "deal_id": deal_id, "workflow_id": f"baton-{crm}-{deal_id}"}


class CountingIngest(Ingest):
    """The ingestion rules unchanged; each event also counts a started handoff and names its deal in
    the log context while it is handled."""

    def __init__(self, metrics: ApiMetrics, *args: Any) -> None:
        super().__init__(*args)
        self.metrics = metrics

    async def _one(self, item: Planned) -> Outcome:
        token = bind_log_context(workflow_id=item.workflow_id, crm=item.event.crm, deal_id=item.event.deal_id)
        try:
            outcome = await super()._one(item)
        finally:
            reset_log_context(token)
        if outcome is Outcome.STARTED:
            self.metrics.handoffs_started.labels(item.event.crm).inc()
        return outcome


def install(app: FastAPI) -> ApiMetrics:
    """The middleware, `/metrics`, and the ingestion class that counts starts."""
    metrics = ApiMetrics()
    app.state.metrics = metrics
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    # Every route that takes IngestDep now gets the counting ingestion. Not through
    # app.dependency_overrides: with any override set, FastAPI re-reads every dependency's signature
    # on every request, which was a fifth of the API's CPU under load.
    app.state.ingest_class = functools.partial(CountingIngest, metrics)

    @app.get("/metrics", include_in_schema=False)
    async def metrics_text() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return metrics
