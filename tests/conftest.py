"""Shared test harness: a time-skipping Temporal server and a fresh worker per test."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
import pytest_asyncio
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from activities.store_activities import StoreActivities
from activities.usage import UsageRequest
from infra.search_attribute_setup import register_search_attributes
from infra.temporal_binaries import test_server_path
from infra.temporal_client import data_converter
from tests.workers import RecordingSink, handoff_worker, new_database

# The store fixtures (`store`, `postgres_database`) and the notification stubs (`slack`, `smtp`, ...):
# every test module may use them.
pytest_plugins = ["tests.conftest_store", "tests.notify_stubs"]


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
    sink: RecordingSink
    store: StoreActivities
    usage: FakeUsage
    started: list[str] = field(default_factory=list)


@pytest.fixture
def rig_factory(env, tmp_path) -> Callable:
    @asynccontextmanager
    async def make(
        activities_override: list | None = None, client: Client | None = None, **worker_options: Any
    ) -> AsyncIterator[Rig]:
        """`activities_override`: fakes standing in for the real activities of the same names;
        `client`: one on the same server with its own interceptors (the tracing test's); `worker_options`
        go to `handoff_worker` (more sinks, a directory)."""
        client = client or env.client
        usage = FakeUsage()
        async with handoff_worker(
            client, new_database(tmp_path), usage=usage, replace=activities_override or (), **worker_options
        ) as worker:
            yield Rig(client, env, worker.task_queue, worker.sink, worker.store, usage)

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
