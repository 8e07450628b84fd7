"""Telemetry for the worker's Temporal client: the SDK runtime's Prometheus metrics and OpenTelemetry
traces.

BATON_WORKER_METRICS_ADDRESS (e.g. `0.0.0.0:9464`) makes the SDK core serve its own /metrics (task
latencies, slots, poll success, sticky cache ...) on that address. Unset, the SDK's default runtime is
used, so a test or a CLI command never opens a port it did not ask for.

A Runtime owns native threads and may be created once per address: two runtimes binding the same
port would fail, so the one built here is cached per address for the life of the process.
"""

from __future__ import annotations

from typing import Any

from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from infra.tracing import tracer_from_settings, tracing_interceptors
from worker.settings import WorkerSettings

SERVICE_NAME = "baton-worker"
_runtimes: dict[str, Runtime] = {}


def metrics_runtime(address: str | None) -> Runtime | None:
    if not address:
        return None
    if address not in _runtimes:
        # `_total` on counters, as Prometheus names them (the dashboard reads baton_sla_breaches_total).
        config = PrometheusConfig(bind_address=address, counters_total_suffix=True)
        _runtimes[address] = Runtime(telemetry=TelemetryConfig(metrics=config))
    return _runtimes[address]


def connect_overrides(settings: WorkerSettings) -> dict[str, Any]:
    """Keyword arguments for `infra.temporal_client.connect`: the metrics runtime and the tracing
    interceptor (infra.tracing), each only when the settings configure it."""
    overrides: dict[str, Any] = {}
    runtime = metrics_runtime(settings.worker_metrics_address)
    if runtime is not None:
        overrides["runtime"] = runtime
    interceptors = tracing_interceptors(tracer_from_settings(settings, SERVICE_NAME))
    if interceptors:
        overrides["interceptors"] = interceptors
    return overrides
