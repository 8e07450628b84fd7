"""`baton backtest`: a quarter's handoffs replayed under a candidate policy, against the current one.

The deals come from the read model (closed between `--from` and `--to`) or from a file
(cli/backtest_files.py). Both policies replay the same deals on the pure simulator, in close-time
order and sharing the CSM round robin, until `--until` (default: 45 days after the last close or
message, time for the 30-day check). Prints, per SLA and overall, old against new and the change.
"""

from __future__ import annotations

import argparse
import gc
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlmodel import Session

from cli.backtest_files import read_deals
from cli.errors import UsageError
from cli.reports_cmd import URL_HELP, table
from cli.settings import policy_path
from domain.backtest.recorded import RecordedHandoff
from domain.backtest.replay import replay
from domain.backtest.report import compare, figures
from domain.policy import Policy
from infra.policy_file import read_policy
from store.engine import make_engine
from store.handoff_facts import load

# After the last close or message: the 30-day check and its week for answers fit in.
SETTLING = timedelta(days=45)


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("backtest", help="replay past handoffs under a candidate policy and compare")
    parser.add_argument("--candidate", required=True, help="the policy file to try")
    parser.add_argument("--policy", help="the current policy file; default $BATON_POLICY or built-in")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--from", dest="start", type=_day, help="read model: first close day (YYYY-MM-DD, UTC)")
    source.add_argument("--file", help="deals from a JSON-lines or CSV file instead of the read model")
    parser.add_argument("--to", dest="end", type=_day, help="read model: day after the last close day (exclusive)")
    parser.add_argument("--until", type=_instant, help="replay up to this instant (ISO 8601 with an offset)")
    parser.add_argument("--url", help=URL_HELP)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(run=run)


@contextmanager
def fewer_collections() -> Iterator[None]:
    """A replay makes a great many small objects that live until it ends (timelines, states): the
    collector, run at its usual pace, spent a fifth of a backtest re-scanning them. Rarer young
    collections for the replay; the process's own pace after."""
    before = gc.get_threshold()
    gc.set_threshold(100_000, before[1], before[2])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def run(args: argparse.Namespace) -> int:
    current, candidate = read_policy(policy_path(args.policy)), read_policy(args.candidate)
    deals, skipped = _deals(args)
    if not deals:
        raise UsageError("no handoffs to replay: nothing closed in that period (or the file is empty)")
    until = args.until or (max(_last(deal) for deal in deals) + SETTLING).replace(microsecond=0)
    with fewer_collections():
        result = compare(figures(replay(deals, current, until)), figures(replay(deals, candidate, until)))
    result["replayed"] = {"handoffs": len(deals), "skipped_without_facts": skipped, "until": until.isoformat()}
    print(json.dumps(result, indent=2) if args.json else render(result, current, candidate))
    return 0


def _deals(args: argparse.Namespace) -> tuple[list[RecordedHandoff], int]:
    if args.file:
        if args.end:
            raise UsageError("--to goes with --from (the read model), not with --file")
        return read_deals(args.file), 0
    if args.end is None or args.end <= args.start:
        raise UsageError("--from needs a later --to (the day after the last close day)")
    engine = make_engine(args.url)
    try:
        with Session(engine) as session:
            loaded = load(session, _midnight(args.start), _midnight(args.end))
    finally:
        engine.dispose()
    return loaded.handoffs, loaded.without_facts


def render(result: dict[str, Any], current: Policy, candidate: Policy) -> str:
    old, new, change = result["current"], result["candidate"], result["change"]
    rows: list[list[str]] = []

    def row(label: str, path: list[str]) -> None:
        rows.append([label, _show(_at(old, path)), _show(_at(new, path)), _signed(_at(change, path))])

    for name in ("handoffs", "handed_off", "lost", "breaches"):
        row(name.replace("_", " "), [name])
    for role in sorted(set(old["escalations"]) | set(new["escalations"])):
        row(f"escalations to {role}", ["escalations", role])
    for tier in ("ready", "gaps", "blocked"):
        row(f"tier {tier}", ["tiers", tier])
    row("commission released", ["commission_released"])
    row("commission held", ["commission_held"])
    for figure in ("intro_days_median", "intro_days_p90", "kickoff_days_median", "kickoff_days_p90"):
        row(figure.replace("_days_", " days ").replace("_", " "), [figure])
    for sla in sorted(set(old["slas"]) | set(new["slas"])):
        row(f"{sla}: breached", ["slas", sla, "breached"])
        for role in sorted(
            set(_at(old, ["slas", sla, "escalations"]) or {}) | set(_at(new, ["slas", sla, "escalations"]) or {})
        ):
            row(f"{sla}: escalated to {role}", ["slas", sla, "escalations", role])
    replayed = result["replayed"]
    heading = f"{replayed['handoffs']} handoffs replayed until {replayed['until']}" + (
        f" ({replayed['skipped_without_facts']} recorded without facts left out)"
        if replayed["skipped_without_facts"]
        else ""
    )
    return heading + "\n\n" + table(["", f"current ({current.name})", f"candidate ({candidate.name})", "change"], rows)


def _at(found: Any, path: list[str]) -> Any:
    for key in path:
        found = found.get(key) if isinstance(found, dict) else None
    return found


def _show(value: Any) -> str:
    return "-" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def _signed(value: Any) -> str:
    if value is None:
        return "-"
    return "0" if value == 0 else f"{value:+g}"


def _last(deal: RecordedHandoff) -> datetime:
    return max([deal.start, *(message.at for message in deal.timed())])


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a day (YYYY-MM-DD): {text!r}") from None


def _instant(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 instant: {text!r}") from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} needs a UTC offset, e.g. 2026-07-15T00:00:00Z")
    return moment


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)
