"""The API's Prometheus metrics, served unauthenticated at `/metrics` in the text exposition format.

A tiny hand-rolled registry rather than prometheus_client: the project does not depend on it, and four
metric families do not justify a new dependency. Each app gets its own registry (`app.state.metrics`),
so two apps in one process (the tests build many) never share counts.

Labels are bounded on purpose: `route` is the route template (`/v1/handoffs/{crm}/{deal_id}`), never the
raw path, so one series per endpoint rather than one per deal; `crm` comes from the route or the parsed
event, which the ingestion code already restricts to known CRM names.
"""

from __future__ import annotations

import functools
import re
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import cast

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, Response

from api.crm import SignatureError
from api.ingest import Ingest
from api.ingest_plan import Outcome, Planned
from api.logging_setup import bind_log_context, reset_log_context

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Latency buckets from a cached query (milliseconds) to an update that waits for a worker (seconds).
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
UNMATCHED = "<unmatched>"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(names: Sequence[str], values: Sequence[str], extra: str = "") -> str:
    parts = [f'{name}="{_escape(value)}"' for name, value in zip(names, values, strict=True)]
    if extra:
        parts.append(extra)
    return "{" + ",".join(parts) + "}" if parts else ""


def _number(value: float) -> str:
    if value == float("inf"):
        return "+Inf"
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


class Counter:
    def __init__(self, name: str, help: str, labels: Sequence[str]) -> None:
        self.name, self.help, self.label_names = name, help, tuple(labels)
        self._values: dict[tuple[str, ...], float] = {}
        self._lock = threading.Lock()

    def inc(self, *labels: str, amount: float = 1.0) -> None:
        with self._lock:
            self._values[labels] = self._values.get(labels, 0.0) + amount

    def value(self, *labels: str) -> float:
        return self._values.get(labels, 0.0)

    def render(self) -> Iterable[str]:
        yield f"# HELP {self.name} {self.help}"
        yield f"# TYPE {self.name} counter"
        for labels, value in sorted(self._values.items()):
            yield f"{self.name}{_labels(self.label_names, labels)} {_number(value)}"


class Histogram:
    def __init__(self, name: str, help: str, labels: Sequence[str], buckets: Sequence[float]) -> None:
        self.name, self.help, self.label_names = name, help, tuple(labels)
        self.buckets = tuple(sorted(buckets)) + (float("inf"),)
        # Per label set: a count per bucket (not cumulative until rendered), the sum and the count.
        self._series: dict[tuple[str, ...], tuple[list[int], list[float]]] = {}
        self._lock = threading.Lock()

    def observe(self, value: float, *labels: str) -> None:
        with self._lock:
            counts, total = self._series.setdefault(labels, ([0] * len(self.buckets), [0.0]))
            for index, bound in enumerate(self.buckets):
                if value <= bound:
                    counts[index] += 1
                    break
            total[0] += value

    def count(self, *labels: str) -> int:
        series = self._series.get(labels)
        return sum(series[0]) if series else 0

    def render(self) -> Iterable[str]:
        yield f"# HELP {self.name} {self.help}"
        yield f"# TYPE {self.name} histogram"
        for labels, (counts, total) in sorted(self._series.items()):
            running = 0
            for bound, count in zip(self.buckets, counts, strict=True):
                running += count
                le = 'le="' + _number(bound) + '"'
                yield f"{self.name}_bucket{_labels(self.label_names, labels, le)} {running}"
            yield f"{self.name}_sum{_labels(self.label_names, labels)} {_number(total[0])}"
            yield f"{self.name}_count{_labels(self.label_names, labels)} {running}"


class ApiMetrics:
    def __init__(self) -> None:
        self.requests = Counter(
            "baton_http_requests_total", "HTTP requests by route template and status.", ("route", "status")
        )
        self.duration = Histogram(
            "baton_http_request_duration_seconds",
            "HTTP request duration by route template.",
            ("route",),
            DURATION_BUCKETS,
        )
        self.verification_failures = Counter(
            "baton_webhook_verification_failures_total", "CRM webhooks refused as not from the CRM.", ("crm",)
        )
        self.handoffs_started = Counter(
            "baton_handoffs_started_total", "Handoff workflows started by the API.", ("crm",)
        )

    def render(self) -> str:
        families = (self.requests, self.duration, self.verification_failures, self.handoffs_started)
        return "\n".join(line for family in families for line in family.render()) + "\n"


class MetricsMiddleware:
    """Plain ASGI rather than BaseHTTPMiddleware: it adds no task or stream copy per request, which the
    benchmark's latency figures would otherwise pay."""

    def __init__(self, app, metrics: ApiMetrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = [500]  # an exception that escapes every handler is a 500 to the client

        async def send_status(message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        token = bind_log_context(**_context_from_path(scope.get("path", "")))
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_status)
        finally:
            reset_log_context(token)
            # The router writes the matched route into this same scope dict, so its template is known now.
            route = getattr(scope.get("route"), "path", None) or UNMATCHED
            self.metrics.requests.inc(route, str(status[0]))
            self.metrics.duration.observe(time.perf_counter() - started, route)


_HANDOFF_PATH = re.compile(r"^/v1/handoffs/([a-z][a-z0-9_-]{0,31})/([^/]{1,64})(?:/|$)")


def _context_from_path(path: str) -> dict[str, str]:
    """Which handoff a request is about, for the log lines it causes (see api.logging_setup)."""
    found = _HANDOFF_PATH.match(path)
    if not found:
        return {}
    crm, deal_id = found.groups()
    return {"crm": crm, "deal_id": deal_id, "workflow_id": f"baton-{crm}-{deal_id}"}


class CountingIngest(Ingest):
    """The ingestion rules unchanged; each event also counts a started handoff and names its deal in
    the log context while it is handled."""

    def __init__(self, metrics: ApiMetrics, *args) -> None:
        super().__init__(*args)
        self.metrics = metrics

    async def _one(self, item: Planned) -> Outcome:
        token = bind_log_context(workflow_id=item.workflow_id, crm=item.event.crm, deal_id=item.event.deal_id)
        try:
            outcome = await super()._one(item)
        finally:
            reset_log_context(token)
        if outcome is Outcome.STARTED:
            self.metrics.handoffs_started.inc(item.event.crm)
        return outcome


def install(app: FastAPI) -> ApiMetrics:
    """The middleware, `/metrics`, and the two hooks that count verification failures and starts.
    Call after `errors.install`: the signature handler it wraps must already be registered."""
    metrics = ApiMetrics()
    app.state.metrics = metrics
    app.add_middleware(MetricsMiddleware, metrics=metrics)

    # Registered by `errors.install` as an async handler of SignatureError; FastAPI types the table's
    # handlers as taking any exception and answering either way.
    answer_signature_error = cast(
        Callable[[Request, SignatureError], Awaitable[Response]], app.exception_handlers[SignatureError]
    )

    async def counted_signature_error(request: Request, err: SignatureError) -> Response:
        # Every webhook route is /webhooks/<crm>[/...]: the CRM is a fixed path segment, never input.
        parts = request.url.path.strip("/").split("/")
        crm = parts[1] if len(parts) > 1 and parts[0] == "webhooks" else "unknown"
        metrics.verification_failures.inc(crm)
        return await answer_signature_error(request, err)

    app.exception_handlers[SignatureError] = counted_signature_error

    # Every route that takes IngestDep now gets the counting ingestion. Not through
    # app.dependency_overrides: with any override set, FastAPI re-reads every dependency's signature
    # on every request, which was a fifth of the API's CPU under load.
    app.state.ingest_class = functools.partial(CountingIngest, metrics)

    @app.get("/metrics", include_in_schema=False)
    async def metrics_text() -> PlainTextResponse:
        return PlainTextResponse(metrics.render(), media_type=CONTENT_TYPE)

    return metrics
