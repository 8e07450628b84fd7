"""`baton worker`: one worker for every Baton workflow and activity, configured by its settings."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from temporalio.worker import Worker

from infra.log_format import configure_logging_from_settings
from infra.temporal_client import connect
from infra.tracing import flush_traces
from worker.malloc import limit_arenas
from worker.registry import WORKFLOW_RUNNER, WORKFLOWS, build_activities
from worker.settings import WorkerSettings, get_settings
from worker.telemetry import connect_overrides

log = logging.getLogger("baton.worker")


async def run_worker(
    task_queue: str | None = None, stop: asyncio.Event | None = None, settings: WorkerSettings | None = None
) -> None:
    """Poll until `stop` is set (or SIGINT/SIGTERM), then finish in-flight work and exit."""
    settings = settings or get_settings()  # a bad setting stops the worker before it connects
    task_queue = task_queue or settings.task_queue
    configure_logging_from_settings(settings)  # JSON lines when BATON_LOG_FORMAT=json
    # glibc's own MALLOC_ARENA_MAX, not a Baton setting, wins: it is read from the process environment.
    limit_arenas(os.environ)  # before the thread pools exist (worker.malloc)
    # SDK metrics on BATON_WORKER_METRICS_ADDRESS, traces to OTEL_EXPORTER_OTLP_ENDPOINT, when set.
    client = await connect(settings.codec, **connect_overrides(settings))
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
            activities=build_activities(settings),
            activity_executor=pool,
            graceful_shutdown_timeout=timedelta(seconds=settings.worker_grace_seconds),
            max_cached_workflows=settings.worker_max_cached_workflows,
        )
        async with worker:
            log.info("worker polling task queue %s on %s", task_queue, client.namespace)
            await stop.wait()
            log.info("worker stopping: finishing in-flight activities")
    flush_traces()  # the process leaves through os._exit
