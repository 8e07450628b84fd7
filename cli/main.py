"""The `baton` command: one entry point for every command-line task."""

from __future__ import annotations

import argparse
import os
import sys

from cli import (
    backtest_cmd,
    db_cmd,
    demo_cmd,
    directory_cmd,
    policy_cmd,
    reports_cmd,
    run_cmd,
    score,
    services_cmd,
    simulate_cmd,
)
from cli.errors import UsageError
from domain.policy import PolicyError

COMMANDS = [
    score,
    policy_cmd,
    directory_cmd,
    db_cmd,
    reports_cmd,
    run_cmd,
    services_cmd,
    simulate_cmd,
    backtest_cmd,
    demo_cmd,
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="baton", description="Durable sales-to-CS handoffs on Temporal.")
    commands = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code = args.run(args)
    except (UsageError, PolicyError) as err:
        print(f"baton: {err}", file=sys.stderr)
        code = 2
    if getattr(args, "exits_hard", False) and argv is None:
        # After a Temporal test server the SDK's native bridge can crash at interpreter exit
        # (sdk-python #300): flush and leave without running interpreter teardown.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


if __name__ == "__main__":
    sys.exit(main())
