"""The bare side of each benchmark pair: a minimal workflow of the same shape as a handoff (one activity,
then a long timer raced against a message), with no Baton code in the path.

`python -m bench.bare --address HOST:PORT --task-queue Q` runs a worker for it as its own process, so its
memory can be measured the same way as Baton's worker.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import Worker

# As long as a handoff's furthest SLA timer, so no run ends during a benchmark.
LONG_TIMER = timedelta(days=30)


@activity.defn(name="bare_notify")
async def bare_notify(workflow_id: str) -> str:
    return workflow_id


@workflow.defn(name="BareWorkflow")
class BareWorkflow:
    def __init__(self) -> None:
        self._messages = 0
        self._score = 0

    @workflow.run
    async def run(self, name: str) -> int:
        # The counterpart of the handoff's first notification: start-to-first-activity is measured on it.
        await workflow.execute_activity(
            bare_notify, workflow.info().workflow_id, start_to_close_timeout=timedelta(seconds=30)
        )
        try:
            await workflow.wait_condition(lambda: self._messages > 0, timeout=LONG_TIMER)
        except TimeoutError:
            pass
        return self._score

    @workflow.update
    def update_score(self, value: int) -> int:
        self._score = value
        return self._score

    @workflow.signal
    def message(self) -> None:
        self._messages += 1

    @workflow.query
    def state(self) -> dict:
        return {"messages": self._messages, "score": self._score}


async def serve(address: str, task_queue: str) -> None:
    client = await Client.connect(address)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with Worker(client, task_queue=task_queue, workflows=[BareWorkflow], activities=[bare_notify]):
        print("bare worker polling", flush=True)
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description="a worker for the bare benchmark workflow")
    parser.add_argument("--address", required=True)
    parser.add_argument("--task-queue", required=True)
    args = parser.parse_args()
    asyncio.run(serve(args.address, args.task_queue))


if __name__ == "__main__":
    main()


@workflow.defn(name="BareTimersWorkflow")
class BareTimersWorkflow:
    """The time-skipping counterpart of a 90-day handoff: 20 timers spread over 90 days."""

    @workflow.run
    async def run(self, timers: int) -> int:
        for _ in range(timers):
            await workflow.sleep(timedelta(days=90) / timers)
        return timers
