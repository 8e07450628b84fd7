"""Traces through OpenTelemetry, on only when an OTLP endpoint is configured.

`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (a full URL, e.g. `http://collector:4318/v1/traces`) or
`OTEL_EXPORTER_OTLP_ENDPOINT` (a base URL; `/v1/traces` is added) turns tracing on, over OTLP/HTTP.
`OTEL_SERVICE_NAME` names the process in the backend (default `baton-api` or `baton-worker`).

Spans come from the SDK's `TracingInterceptor` on the Temporal client: starting, signalling, updating
and querying a workflow on the API side; the workflow run and every activity on the worker side, the
trace context travelling in Temporal headers. The API adds a server span per request
(`api.tracing`), so one trace runs from the CRM's webhook to the CSM notification.

Unset, no tracer exists and no interceptor is installed: tracing costs nothing when off.
"""

from __future__ import annotations

from collections.abc import Mapping

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Tracer
from temporalio.contrib.opentelemetry import TracingInterceptor

TRACES_ENDPOINT_ENV = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
ENDPOINT_ENV = "OTEL_EXPORTER_OTLP_ENDPOINT"
SERVICE_NAME_ENV = "OTEL_SERVICE_NAME"
TRACER_NAME = "baton"

_providers: dict[tuple[str, str], TracerProvider] = {}


def traces_endpoint(env: Mapping[str, str]) -> str | None:
    """The OTLP/HTTP traces URL the environment names, or None when tracing is off."""
    explicit = env.get(TRACES_ENDPOINT_ENV, "").strip()
    if explicit:
        return explicit
    base = env.get(ENDPOINT_ENV, "").strip()
    return base.rstrip("/") + "/v1/traces" if base else None


def tracer_from_env(env: Mapping[str, str], service: str) -> Tracer | None:
    """A tracer exporting in batches to the configured endpoint; one provider per endpoint and
    service for the life of the process."""
    endpoint = traces_endpoint(env)
    if endpoint is None:
        return None
    name = env.get(SERVICE_NAME_ENV, "").strip() or service
    if (endpoint, name) not in _providers:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider = TracerProvider(resource=Resource.create({"service.name": name}))
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
        _providers[(endpoint, name)] = provider
    return _providers[(endpoint, name)].get_tracer(TRACER_NAME)


def tracing_interceptors(tracer: Tracer | None) -> list[TracingInterceptor]:
    """For `Client.connect(interceptors=...)`; a worker built on that client traces too."""
    return [TracingInterceptor(tracer)] if tracer is not None else []


def flush_traces(timeout_millis: int = 5000) -> None:
    """Send what is still batched: the worker and `baton` commands leave through os._exit, which
    would drop it."""
    for provider in _providers.values():
        provider.force_flush(timeout_millis)
