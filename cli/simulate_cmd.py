"""`baton simulate SCENARIO`: a handoff scenario's timeline, as JSON lines in the scenario's own time.

By default the pure simulator runs it (domain/simulation/): the handoff's rules and its children's on
a virtual clock, in milliseconds, the same bytes every time. `--temporal` runs the real workflows on
the time-skipping test server instead, the fidelity check that the two agree, with a hard timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import threading
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from cli.errors import UsageError, describe_validation_error
from cli.settings import policy_path
from domain.directory import Directory, DirectoryError
from domain.policy import Policy, parse_policy
from domain.scenario import Scenario
from domain.simulation.simulator import simulate
from infra.directory_file import read_directory
from infra.policy_file import read_policy

# Well above what a 90-day scenario takes on the test server (under a second), well below forever.
DEFAULT_TIMEOUT_SECONDS = 120.0
STALLED = 3  # the exit status when `--temporal` ran out of time


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("simulate", help="a handoff scenario's timeline, on a virtual clock")
    parser.add_argument("scenario", help="scenario file (YAML or JSON)")
    parser.add_argument("--policy", help="policy file; default $BATON_POLICY or built-in")
    parser.add_argument(
        "--directory",
        help="people directory the notices resolve against; default $BATON_DIRECTORY (a scenario's own "
        "`directory:` section wins)",
    )
    parser.add_argument(
        "--temporal",
        action="store_true",
        help="run the real workflows on the time-skipping test server instead of the pure simulator",
    )
    parser.add_argument(
        "--timeout",
        type=_seconds,
        default=DEFAULT_TIMEOUT_SECONDS,
        help=f"with --temporal: give up after this many seconds (default {DEFAULT_TIMEOUT_SECONDS:g})",
    )
    parser.set_defaults(run=run, exits_hard=True)


def run(args: argparse.Namespace) -> int:
    scenario = load_scenario(args.scenario)
    policy = scenario_policy(scenario, read_policy(policy_path(args.policy)))
    directory = _directory(args.directory)
    lines = (
        _on_temporal(scenario, policy, directory, args.timeout)
        if args.temporal
        else simulate(scenario, policy, directory)
    )
    for line in lines:
        print(json.dumps(line, default=str))
    return 0


def load_scenario(path: str) -> Scenario:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as err:
        raise UsageError(f"cannot read {path}: {err.strerror}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        raise UsageError(f"{path}: not YAML or JSON ({err})") from None
    try:
        return Scenario.model_validate(data)
    except ValidationError as err:
        raise UsageError(describe_validation_error(err, path)) from None


def scenario_policy(scenario: Scenario, base: Policy) -> Policy:
    """The policy file's policy with the scenario's own `policy:` keys laid over it."""
    if not scenario.policy:
        return base
    return parse_policy(_deep_merge(base.model_dump(mode="json"), scenario.policy))


def _directory(path: str | None) -> Directory:
    try:
        return read_directory(path)
    except DirectoryError as err:
        raise UsageError(str(err)) from None


def _on_temporal(scenario: Scenario, policy: Policy, directory: Directory, timeout: float) -> list[dict[str, Any]]:
    # Imported here: the default path needs neither the SDK's server nor a worker.
    from cli.simulate_temporal import simulate as simulate_on_server

    # A watchdog thread rather than an asyncio timeout: a stalled server can leave the event loop
    # waiting inside the SDK, where a cancellation is not guaranteed to land. Leaving with os._exit
    # ends the guard's parent, so the test server goes too.
    watchdog = threading.Timer(timeout, _give_up, args=(timeout,))
    watchdog.daemon = True
    watchdog.start()
    try:
        return asyncio.run(simulate_on_server(scenario, policy, directory))
    finally:
        watchdog.cancel()


def _give_up(timeout: float) -> None:
    print(
        f"baton: simulate --temporal made no progress within {timeout:g} s: the time-skipping server "
        "stalled (the scenario runs without it: drop --temporal)",
        file=sys.stderr,
        flush=True,
    )
    os._exit(STALLED)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds (got {text})")
    return value


def _deep_merge(base: dict, changes: dict) -> dict:
    merged = dict(base)
    for key, value in changes.items():
        merged[key] = (
            _deep_merge(base[key], value) if isinstance(value, dict) and isinstance(base.get(key), dict) else value
        )
    return merged
