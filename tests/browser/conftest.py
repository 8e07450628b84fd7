"""One stack and one browser for every browser test: a time-skipping Temporal server with a worker, the
API served by uvicorn on a loopback port, and Debian's Chromium driven by Playwright (nothing downloaded;
the machine's network is closed and the browser is told not to reach for it).

Chromium missing: the browser tests skip with a message, except in CI (`CI=true`), where they fail.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio
import uvicorn
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from api.settings import ApiSettings
from bench.stack import free_port
from infra.search_attribute_setup import register_search_attributes
from infra.temporal_binaries import test_server_path
from infra.temporal_client import data_converter
from tests.conftest import assert_eventually
from tests.pages_rig import SESSION_SECRET, RecordingSender, directory_policy, page_settings
from tests.workers import handoff_worker, new_database

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"

pytestmark = pytest.mark.browser


@dataclass
class Stack:
    url: str
    app: object
    sender: RecordingSender
    client: Client
    task_queue: str
    store_url: str

    def now(self) -> datetime:
        return self.app.state.page_clock()


@pytest_asyncio.fixture(scope="session")
async def stack(tmp_path_factory) -> AsyncIterator[Stack]:
    folder = tmp_path_factory.mktemp("browser-stack")
    store_url = new_database(folder)
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=test_server_path(), data_converter=data_converter()
    )
    await register_search_attributes(env.client)
    port = free_port()
    async with handoff_worker(env.client, store_url) as worker:
        settings = ApiSettings(
            task_queue=worker.task_queue, database_url=store_url, session_secret=SESSION_SECRET, policy_file=None
        )
        app = create_app(settings=settings, client=env.client)
        app.state.page_settings = page_settings()
        sender = RecordingSender()
        app.state.link_sender = sender
        app.state.page_clock = lambda: datetime.now(UTC)
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        serving = asyncio.create_task(server.serve())

        def started() -> None:
            assert server.started or serving.done()

        await assert_eventually(started, timeout=30)
        app.state.policy = directory_policy()
        try:
            yield Stack(f"http://127.0.0.1:{port}", app, sender, env.client, worker.task_queue, store_url)
        finally:
            server.should_exit = True
            await serving
    await env.shutdown()


def chromium_missing() -> bool:
    return not os.path.exists(CHROMIUM)


@pytest_asyncio.fixture(scope="session")
async def browser():
    if chromium_missing():
        message = f"{CHROMIUM} is missing (make test installs Debian's chromium package)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.async_api import async_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    async with async_playwright() as playwright:
        # Playwright starts Chromium with a fresh temporary profile (user-data dir) of its own.
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()
