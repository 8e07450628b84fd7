"""Shared test harness: a time-skipping Temporal server and a fresh worker per test."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import pytest
import pytest_asyncio
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.crm import CrmActivities
from activities.notify import NotifyActivities
from activities.notify_sinks import LogSink
from activities.store_activities import StoreActivities
from activities.usage import UsageActivities, UsageRequest
from infra.search_attribute_setup import register_search_attributes
from infra.temporal_binaries import test_server_path
from infra.temporal_client import data_converter
from store.engine import make_engine
from store.migrate import upgrade
from worker.registry import WORKFLOW_RUNNER, WORKFLOWS, activities_of

# The store fixtures (`store`, `postgres_database`): every test module may use them.
pytest_plugins = ["tests.conftest_store"]


@pytest_asyncio.fixture
async def env() -> AsyncIterator[WorkflowEnvironment]:
    """A fresh time-skipping server per test (it starts in about 0.1 s): one test's runs never hold
    the clock of another's."""
    environment = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=test_server_path(), data_converter=data_converter()
    )
    await register_search_attributes(environment.client)
    yield environment
    await environment.shutdown()


class FakeUsage:
    """A usage source the test sets: None means not measured."""

    name = "fake"

    def __init__(self) -> None:
        self.users: int | None = 5

    async def active_users(self, request: UsageRequest) -> int | None:
        return self.users


@dataclass
class Rig:
    """A worker on its own task queue with real activities: SQLite store, log sink, no-op CRM."""

    client: Client
    env: WorkflowEnvironment
    task_queue: str
    sink: LogSink
    store: StoreActivities
    usage: FakeUsage
    started: list[str] = field(default_factory=list)


@pytest.fixture
def rig_factory(env, tmp_path) -> Callable:
    @asynccontextmanager
    async def make(activities_override: list | None = None, client: Client | None = None) -> AsyncIterator[Rig]:
        """`client`: one on the same server with its own interceptors (the tracing test's)."""
        client = client or env.client
        url = f"sqlite:///{tmp_path}/baton-{uuid.uuid4().hex[:6]}.db"
        upgrade(url)
        sink = LogSink()
        store = StoreActivities(make_engine(url))
        usage = FakeUsage()
        acts = activities_of(CrmActivities({}), NotifyActivities([sink]), store, UsageActivities(usage))
        if activities_override:
            names = {getattr(a, "__temporal_activity_definition").name for a in activities_override}
            acts = [
                a for a in acts if getattr(a, "__temporal_activity_definition").name not in names
            ] + activities_override
        task_queue = f"tq-{uuid.uuid4()}"
        with ThreadPoolExecutor(max_workers=4) as pool:
            async with Worker(
                client,
                task_queue=task_queue,
                workflows=WORKFLOWS,
                workflow_runner=WORKFLOW_RUNNER,
                activities=acts,
                activity_executor=pool,
            ):
                yield Rig(client, env, task_queue, sink, store, usage)
        store.engine.dispose()

    return make


async def assert_eventually(check: Callable, timeout: float = 10.0, interval: float = 0.05):
    """Poll until `check` (sync or async) stops raising AssertionError; never a bare sleep."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            result = check()
            if asyncio.iscoroutine(result):
                result = await result
            return result
        except AssertionError:
            if loop.time() > deadline:
                raise
            await asyncio.sleep(interval)


_exit_status = 0


def pytest_sessionfinish(session, exitstatus) -> None:
    global _exit_status
    _exit_status = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config) -> None:
    # The SDK's native bridge can crash at interpreter exit after a test server ran (sdk-python #300):
    # leave with pytest's own status once everything is reported.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(_exit_status)
