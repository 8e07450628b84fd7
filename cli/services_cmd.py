"""`baton worker`, `baton api` and `baton temporal setup`: the long-running parts and cluster setup."""

from __future__ import annotations

import argparse
import asyncio


def add_parser(commands: argparse._SubParsersAction) -> None:
    worker = commands.add_parser("worker", help="run a worker for every Baton workflow and activity")
    worker.add_argument("--task-queue", help="default $BATON_TASK_QUEUE or 'baton'")
    worker.set_defaults(run=run_worker, exits_hard=True)

    api = commands.add_parser("api", help="serve the HTTP API")
    api.add_argument("--host", default="127.0.0.1")
    api.add_argument("--port", type=int, default=8000)
    api.set_defaults(run=run_api)

    temporal = commands.add_parser("temporal", help="prepare a Temporal namespace for Baton")
    sub = temporal.add_subparsers(dest="temporal_command", required=True)
    setup = sub.add_parser("setup", help="register Baton's search attributes and the monthly governance schedule")
    setup.add_argument("--task-queue", default=None)
    setup.set_defaults(run=run_setup, exits_hard=True)


def run_worker(args: argparse.Namespace) -> int:
    from worker.main import run_worker as serve

    asyncio.run(serve(args.task_queue))
    return 0


def run_api(args: argparse.Namespace) -> int:
    from api.main import serve

    serve(args.host, args.port)
    return 0


def run_setup(args: argparse.Namespace) -> int:
    asyncio.run(setup_namespace(args.task_queue))
    return 0


async def setup_namespace(task_queue: str | None = None) -> None:
    from cli.settings import get_settings
    from infra.search_attribute_setup import register_search_attributes
    from infra.temporal_client import connect
    from workflows.governance_schedule import ensure_schedule

    settings = get_settings()
    client = await connect(settings.codec)
    added = await register_search_attributes(client)
    print(f"search attributes: {', '.join(added) if added else 'all already registered'}")
    created = await ensure_schedule(client, task_queue or settings.task_queue)
    print("governance schedule: " + ("created" if created else "already present"))
