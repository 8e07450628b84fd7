"""Traces: one trace from the webhook request through the workflow to the notify activity, in the
SDK's in-memory exporter; tracing off unless an OTLP endpoint is configured."""

from __future__ import annotations

import io
import json
import logging
import os

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from temporalio.client import Client

from infra.log_format import configure_logging
from infra.tracing import tracer_from_settings, tracing_interceptors
from tests.api_rig import auth, deal_number, dumps, hubspot_stage, hubspot_v3_headers, running_api
from tests.conftest import assert_eventually
from worker.settings import WorkerSettings
from worker.settings import get_settings as get_worker_settings
from worker.telemetry import connect_overrides


@pytest.fixture
def spans():
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield exporter, provider.get_tracer("baton")
    provider.shutdown()


def _chain(span: ReadableSpan, by_id: dict[int, ReadableSpan]) -> list[str]:
    """The names from this span up to its trace's root."""
    names = [span.name]
    while span.parent is not None and span.parent.span_id in by_id:
        span = by_id[span.parent.span_id]
        names.append(span.name)
    return names


@pytest.mark.temporal
async def test_one_trace_runs_from_the_hubspot_webhook_through_the_workflow_to_the_notify_activity(
    env, rig_factory, spans
):
    exporter, tracer = spans
    # The API's client and the worker's client each carry the SDK's interceptor, as in two processes.
    traced = Client(**{**env.client.config(), "interceptors": tracing_interceptors(tracer)})
    async with rig_factory(client=traced) as rig, running_api(rig, client=traced, tracer=tracer) as api:
        number = deal_number()
        workflow_id = f"baton-hubspot-{number}"
        body = dumps([hubspot_stage(number, "closedwon")])
        headers = hubspot_v3_headers(body)
        answer = await api.http.post("/webhooks/hubspot", content=body, headers=headers)
        assert answer.status_code == 202 and answer.json()[0]["outcome"] == "started", answer.text

        def notified() -> list[ReadableSpan]:
            assert any(n.workflow_id == workflow_id for n in rig.sink.sent)
            done = [s for s in exporter.get_finished_spans() if s.name == "RunActivity:notify"]
            assert done
            return done

        notify_runs = await assert_eventually(notified, timeout=30)

    finished = exporter.get_finished_spans()
    by_id = {s.context.span_id: s for s in finished}
    (request,) = [s for s in finished if s.name == "POST /webhooks/hubspot"]
    assert request.kind is SpanKind.SERVER
    assert request.attributes["http.route"] == "/webhooks/hubspot"
    assert request.attributes["http.response.status_code"] == 202
    # Every notify the run made belongs to the request's trace, through start, run and schedule.
    for run in notify_runs:
        assert run.context.trace_id == request.context.trace_id
        chain = _chain(run, by_id)
        # The SDK parents workflow-side spans on the client's start span (RunWorkflow is their sibling).
        assert chain == [
            "RunActivity:notify",
            "StartActivity:notify",
            "StartWorkflow:DealHandoffWorkflow",
            "POST /webhooks/hubspot",
        ]
    (run_workflow,) = [s for s in finished if s.name == "RunWorkflow:DealHandoffWorkflow"]
    assert run_workflow.context.trace_id == request.context.trace_id
    assert _chain(run_workflow, by_id)[1:] == ["StartWorkflow:DealHandoffWorkflow", "POST /webhooks/hubspot"]
    # No span carries the signature or the body.
    for span in finished:
        attributes = json.dumps(dict(span.attributes or {}))
        assert headers["X-HubSpot-Signature-v3"] not in attributes and "closedwon" not in attributes


@pytest.mark.temporal
async def test_the_request_span_continues_a_callers_traceparent(rig_factory, spans):
    exporter, tracer = spans
    caller_trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    async with rig_factory() as rig, running_api(rig, tracer=tracer) as api:
        headers = {**auth("operator"), "traceparent": f"00-{caller_trace}-00f067aa0ba902b7-01"}
        answer = await api.http.get(f"/v1/handoffs/hubspot/{deal_number()}", headers=headers)
        assert answer.status_code == 404
    (span,) = [s for s in exporter.get_finished_spans() if s.kind is SpanKind.SERVER]
    assert span.name == "GET /v1/handoffs/{crm}/{deal_id}"  # the template, not the deal id
    assert format(span.context.trace_id, "032x") == caller_trace
    assert span.parent is not None and format(span.parent.span_id, "016x") == "00f067aa0ba902b7"


def test_a_log_line_written_inside_a_span_carries_its_trace_id(spans):
    _, tracer = spans
    stream = io.StringIO()
    handler = configure_logging(json=True, stream=stream)
    try:
        with tracer.start_as_current_span("work") as span:
            logging.getLogger("baton.test").warning("inside")
        logging.getLogger("baton.test").warning("outside")
    finally:
        logging.getLogger().removeHandler(handler)
    inside, outside = (json.loads(line) for line in stream.getvalue().splitlines())
    assert inside["trace_id"] == format(span.get_span_context().trace_id, "032x")
    assert "trace_id" not in outside


@pytest.fixture
def environ(monkeypatch):
    """Set variables as the process environment holds them; none of the developer's own OTEL_* leak in."""
    for name in list(os.environ):
        if name.startswith(("OTEL_", "BATON_")):
            monkeypatch.delenv(name)

    def setenv(**variables: str) -> WorkerSettings:
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        return get_worker_settings()

    return setenv


def test_tracing_is_off_without_an_otlp_endpoint(environ):
    settings = environ()
    assert settings.traces_endpoint is None
    assert tracer_from_settings(settings, "baton-worker") is None
    assert tracing_interceptors(None) == []
    assert "interceptors" not in connect_overrides(settings)


def test_the_otlp_endpoint_comes_from_the_standard_variables(environ):
    base = environ(OTEL_EXPORTER_OTLP_ENDPOINT="http://collector:4318/")
    assert base.traces_endpoint == "http://collector:4318/v1/traces"
    both = environ(OTEL_EXPORTER_OTLP_TRACES_ENDPOINT="http://b:4318/traces")
    assert both.traces_endpoint == "http://b:4318/traces"


def test_a_configured_endpoint_gives_the_worker_a_tracing_interceptor(environ):
    settings = environ(OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:9/", OTEL_SERVICE_NAME="baton-worker-eu")
    assert settings.otel_service_name == "baton-worker-eu"
    overrides = connect_overrides(settings)
    (interceptor,) = overrides["interceptors"]
    assert type(interceptor).__name__ == "TracingInterceptor"
    assert tracer_from_settings(settings, "baton-worker") is not None
