"""Record the histories the replay test replays: `python -m tests.record_histories [SCENARIO ...]`.

Each saved history stands for runs that may still be in flight somewhere, so none is ever re-recorded
over: with no arguments the command records every scenario of tests/history_scenarios.py that has no
history yet, and a scenario named on the command line is refused if it has one (`--replace` overwrites
it, for a history added on the branch you are working on and not yet released). After a deliberate,
versioned change to a workflow (`workflow.patched`), add a scenario that exercises the new shape under
a new name, record it, and keep the old files: the replay test then guards both.

Each history is one realistic run: on the time-skipping server, except continue-as-new, which only a
dev server suggests (told to suggest it early).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from infra.search_attribute_setup import register_search_attributes
from infra.temporal_binaries import test_server_path
from infra.temporal_client import data_converter
from tests.dev_server import dev_server
from tests.history_scenarios import SCENARIOS, Recorded
from tests.workers import handoff_worker, new_database

HISTORIES = Path(__file__).parent / "histories"
# Continue-as-new is suggested after this many events (the dev server's dynamic config).
SUGGEST_CONTINUE_AS_NEW_AFTER = 60


def recorded(name: str) -> list[Path]:
    return sorted(HISTORIES.glob(f"{name}-*.json"))


async def _save(runs: Recorded) -> None:
    for label, handle in runs:
        history = await handle.fetch_history()
        kind = history.events[0].workflow_execution_started_event_attributes.workflow_type.name
        path = HISTORIES / f"{label}-{kind}.json"
        # The workflow id is part of what replays (children's ids derive from it).
        path.write_text(json.dumps({"workflow_id": handle.id, "history": json.loads(history.to_json())}))
        print(f"recorded {path.name} ({len(history.events)} events)")


async def _record_on(env: WorkflowEnvironment, name: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        async with handoff_worker(env.client, new_database(folder)) as worker:
            await _save(await SCENARIOS[name].record(env, env.client, worker.task_queue))


async def record(names: list[str]) -> None:
    """Each scenario on a server of its own, so no scenario's clock carries over into the next."""
    for name in names:
        if SCENARIOS[name].dev_server:
            suggest = f"limit.historyCount.suggestContinueAsNew={SUGGEST_CONTINUE_AS_NEW_AFTER}"
            async with dev_server("--dynamic-config-value", suggest) as env:
                await _record_on(env, name)
            continue
        env = await WorkflowEnvironment.start_time_skipping(
            data_converter=data_converter(), test_server_existing_path=test_server_path()
        )
        try:
            await register_search_attributes(env.client)
            await _record_on(env, name)
        finally:
            await env.shutdown()


def chosen(argv: list[str]) -> list[str]:
    parser = argparse.ArgumentParser(prog="python -m tests.record_histories", description=__doc__.split("\n")[0])
    parser.add_argument("scenarios", nargs="*", help=f"of {', '.join(SCENARIOS)}; default: every one not yet recorded")
    parser.add_argument("--replace", action="store_true", help="overwrite the named scenarios' histories")
    args = parser.parse_args(argv)
    unknown = [name for name in args.scenarios if name not in SCENARIOS]
    if unknown:
        parser.error(f"no such scenario: {', '.join(unknown)}")
    if not args.scenarios:
        return [name for name in SCENARIOS if not recorded(name)]
    kept = [name for name in args.scenarios if recorded(name) and not args.replace]
    if kept:
        parser.error(f"already recorded (they guard runs in flight; --replace to overwrite): {', '.join(kept)}")
    return list(args.scenarios)


if __name__ == "__main__":
    names = chosen(sys.argv[1:])
    if not names:
        print("every scenario has its history; name one with --replace to record it again")
    asyncio.run(record(names))
    sys.stdout.flush()
    os._exit(0)  # sdk-python #300: the native bridge can crash at interpreter exit
