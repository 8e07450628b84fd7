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

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Tracer
from temporalio.contrib.opentelemetry import TracingInterceptor

from infra.baton_settings import BatonSettings

TRACER_NAME = "baton"

_providers: dict[tuple[str, str], TracerProvider] = {}


def tracer_from_settings(settings: BatonSettings, service: str) -> Tracer | None:
    """A tracer exporting in batches to the configured endpoint, or None when tracing is off; one
    provider per endpoint and service for the life of the process."""
    endpoint = settings.traces_endpoint
    if endpoint is None:
        return None
    name = (settings.otel_service_name or "").strip() or service
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
