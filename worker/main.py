"""`baton worker`: one worker for every Baton workflow and activity, configured from the environment."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from temporalio.worker import Worker

from infra.log_format import configure_logging_from_env
from infra.temporal_client import connect
from infra.tracing import flush_traces
from worker.malloc import limit_arenas
from worker.registry import WORKFLOW_RUNNER, WORKFLOWS, build_activities
from worker.telemetry import connect_overrides

log = logging.getLogger("baton.worker")

TASK_QUEUE_ENV = "BATON_TASK_QUEUE"
DEFAULT_TASK_QUEUE = "baton"


async def run_worker(task_queue: str | None = None, stop: asyncio.Event | None = None) -> None:
    """Poll until `stop` is set (or SIGINT/SIGTERM), then finish in-flight work and exit."""
    env = dict(os.environ)
    task_queue = task_queue or env.get(TASK_QUEUE_ENV, DEFAULT_TASK_QUEUE)
    cached = cached_runs(env)  # a bad setting stops the worker before it connects
    configure_logging_from_env(env)  # JSON lines when BATON_LOG_FORMAT=json
    limit_arenas(env)  # before the thread pools exist (worker.malloc)
    # SDK metrics on BATON_WORKER_METRICS_ADDRESS, traces to OTEL_EXPORTER_OTLP_ENDPOINT, when set.
    client = await connect(env, **connect_overrides(env, "baton-worker"))
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, stop.set)
        except (NotImplementedError, RuntimeError):  # not the main thread
            pass
    with ThreadPoolExecutor(max_workers=16, thread_name_prefix="baton-activity") as pool:
        worker = Worker(
            client,
            task_queue=task_queue,
            workflows=WORKFLOWS,
            workflow_runner=WORKFLOW_RUNNER,
            activities=build_activities(env),
            activity_executor=pool,
            graceful_shutdown_timeout=_grace(),
            max_cached_workflows=cached,
        )
        async with worker:
            log.info("worker polling task queue %s on %s", task_queue, client.namespace)
            await stop.wait()
            log.info("worker stopping: finishing in-flight activities")
    flush_traces()  # the process leaves through os._exit


# A handoff works in short bursts (a few workflow tasks within a second of each event) and then waits
# hours or days for the next: a run kept in the worker's cache between events buys almost nothing, and
# each costs memory (about 300 KB), so the cache holds what is busy now, not every open handoff. A run
# that was evicted replays its history on its next event: milliseconds, hours later.
CACHE_ENV = "BATON_WORKER_MAX_CACHED_WORKFLOWS"
DEFAULT_CACHED_RUNS = 250
MIN_CACHED_RUNS = 100  # the SDK's default of concurrent workflow tasks, each of which needs a cached run


def cached_runs(env: Mapping[str, str]) -> int:
    text = env.get(CACHE_ENV, "").strip()
    if not text:
        return DEFAULT_CACHED_RUNS
    try:
        value = int(text)
    except ValueError:
        raise SystemExit(f"{CACHE_ENV} must be a whole number of runs, got {text!r}") from None
    if value < MIN_CACHED_RUNS:
        raise SystemExit(f"{CACHE_ENV} must be at least {MIN_CACHED_RUNS}, got {value}")
    return value


def _grace() -> timedelta:
    return timedelta(seconds=float(os.environ.get("BATON_WORKER_GRACE_SECONDS", "10")))
