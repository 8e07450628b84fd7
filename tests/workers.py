"""The one worker the tests, the history recorder and the dev-server stack run: Baton's workflows with
its real activities on a throwaway SQLite read model, the log sink and a recording sink, a no-op CRM and
a usage source the caller picks; any activity can be replaced by a fake registered under the same name."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from temporalio.client import Client
from temporalio.worker import Worker

from activities.crm import CrmActivities
from activities.notify import NotifyActivities
from activities.notify_sinks import LogSink, Sink
from activities.recipients import RecipientActivities
from activities.report_activities import ReportActivities
from activities.store_activities import StoreActivities
from activities.usage import NoUsageSource, UsageActivities, UsageSource
from domain.notifications import Notification
from store.engine import make_engine
from store.migrate import upgrade
from worker.registry import WORKFLOW_RUNNER, WORKFLOWS, activities_of


def new_database(folder: Path | str) -> str:
    """A migrated SQLite read model in `folder`; its URL."""
    url = f"sqlite:///{folder}/baton-{uuid.uuid4().hex[:6]}.db"
    upgrade(url)
    return url


class RecordingSink:
    """Keeps every notification it is given, for tests to read (production sinks keep nothing)."""

    name = "recording"

    def __init__(self) -> None:
        self.sent: list[Notification] = []

    async def send(self, n: Notification) -> None:
        self.sent.append(n)

    async def aclose(self) -> None:
        pass


@dataclass
class HandoffWorker:
    task_queue: str
    database_url: str
    engine: Engine
    sink: RecordingSink
    store: StoreActivities


@asynccontextmanager
async def handoff_worker(
    client: Client,
    database_url: str,
    *,
    task_queue: str | None = None,
    sink: RecordingSink | None = None,
    sinks: Sequence[Sink] = (),
    recipients: RecipientActivities | None = None,
    usage: UsageSource | None = None,
    replace: Sequence[Callable[..., Any]] = (),
    **worker_options: Any,
) -> AsyncIterator[HandoffWorker]:
    """`task_queue`: a fresh one unless given (a second worker taking over the first's); `sinks`: more
    notification sinks (a Slack sink on a stub); `recipients`: the directory (default $BATON_DIRECTORY);
    `replace`: activities that stand in for the real ones of the same name; `worker_options` go to `Worker`."""
    engine = make_engine(database_url)
    sink = sink or RecordingSink()
    store = StoreActivities(engine)
    notify = NotifyActivities([LogSink(), sink, *sinks])
    real = activities_of(
        CrmActivities({}), notify, store, UsageActivities(usage or NoUsageSource()), recipients=recipients
    )
    real.append(ReportActivities(engine).governance)
    replaced = {_activity_name(fake) for fake in replace}
    activities = [a for a in real if _activity_name(a) not in replaced] + list(replace)
    task_queue = task_queue or f"tq-{uuid.uuid4()}"
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            async with Worker(
                client,
                task_queue=task_queue,
                workflows=WORKFLOWS,
                workflow_runner=WORKFLOW_RUNNER,
                activities=activities,
                activity_executor=pool,
                **worker_options,
            ):
                yield HandoffWorker(task_queue, database_url, engine, sink, store)
    finally:
        await notify.aclose()
        engine.dispose()


def _activity_name(activity: Callable[..., Any]) -> str:
    return str(activity.__temporal_activity_definition.name)  # type: ignore[attr-defined]
