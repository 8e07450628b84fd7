"""`baton scorecard` and `baton report churn|at-risk`: the read model's reports, as a table or JSON."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import UTC, date, datetime

from pydantic import BaseModel
from sqlmodel import Session

from cli.settings import get_settings
from store.at_risk import at_risk
from store.engine import make_engine
from store.governance import churn_report
from store.reports import Figure, Scorecard, scorecard

URL_HELP = "database URL; default $DATABASE_URL, else sqlite:///.baton/baton.db"
MISSED = "*"


def add_parser(commands: argparse._SubParsersAction) -> None:
    card = commands.add_parser("scorecard", help="handoff quality scorecard by AE, CS team, segment or month")
    card.add_argument("--by", choices=["ae", "cs_team", "segment", "month"], default="ae")
    card.add_argument("--from", dest="start", type=date.fromisoformat, help="first close day (YYYY-MM-DD, UTC)")
    card.add_argument("--to", dest="end", type=date.fromisoformat, help="day after the last close day (exclusive)")
    _common(card)
    card.set_defaults(run=run_scorecard)

    report = commands.add_parser("report", help="churn autopsy and open handoffs at risk")
    kinds = report.add_subparsers(dest="report", required=True)
    _common(kinds.add_parser("churn", help="churned accounts against their handoff")).set_defaults(run=run_churn)
    _common(kinds.add_parser("at-risk", help="open handoffs with breached or due SLAs, or a weak tier")).set_defaults(
        run=run_at_risk
    )


def _common(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--url", help=URL_HELP)
    return parser


def _query(url: str | None, compute):
    engine = make_engine(url or get_settings().database_url)
    try:
        with Session(engine) as session:
            return compute(session)
    finally:
        engine.dispose()


def _print_json(model: BaseModel | list[BaseModel]) -> None:
    if isinstance(model, list):
        print("[" + ",\n".join(item.model_dump_json(indent=2) for item in model) + "]")
    else:
        print(model.model_dump_json(indent=2))


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]
    lines = [
        "  ".join(str(cell).ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in [header, *rows]
    ]
    return "\n".join([lines[0], "  ".join("-" * w for w in widths), *lines[1:]])


def show(fig: Figure, unit: str = "") -> str:
    if fig.value is None:
        return "-"
    return f"{fig.value:.1f}{unit}" + (MISSED if fig.met is False else "")


def run_scorecard(args: argparse.Namespace) -> int:
    now = datetime.now(UTC)
    card: Scorecard = _query(args.url, lambda s: scorecard(s, args.by, args.start, args.end, now))
    if args.json:
        _print_json(card)
        return 0
    header = [
        "group",
        "won",
        "complete",
        "specific",
        "score",
        "ready/gaps/blocked",
        "intro p50/p90",
        "kickoff p50/p90",
        "intake<24h",
        "CSM",
        "NPS",
        "rework",
    ]
    rows = [
        [
            row.group,
            str(row.handoffs),
            show(row.completeness, "%"),
            show(row.specific_share, "%"),
            show(row.quality_score),
            "/".join(str(row.tiers[t]) for t in ("ready", "gaps", "blocked")),
            f"{show(row.time_to_intro_median, 'd')} / {show(row.time_to_intro_p90, 'd')}",
            f"{show(row.time_to_kickoff_median, 'd')} / {show(row.time_to_kickoff_p90, 'd')}",
            show(row.intake_within_24h, "%"),
            show(row.csm_rating),
            show(row.first_touch_nps),
            show(row.rework_rate, "%"),
        ]
        for row in [*card.rows, card.overall]
    ]
    window = f"{card.start or 'the beginning'} to {card.end or 'now'}"
    print(f"Handoff scorecard by {card.group_by}, closes from {window}")
    print(table(header, rows))
    print(f"{MISSED} misses its target: completeness 100%, intro < 5d, kickoff < 10d, CSM >= 4.0, NPS >= 8")
    if card.overall.sla_compliance:
        print("\nSLA compliance (met / settled)")
        print(
            table(
                ["sla", "met", "breached", "rate"],
                [
                    [name, str(c.met), str(c.breached), f"{c.rate:.1f}%" if c.rate is not None else "-"]
                    for name, c in card.overall.sla_compliance.items()
                ],
            )
        )
    return 0


def run_churn(args: argparse.Namespace) -> int:
    report = _query(args.url, churn_report)
    if args.json:
        _print_json(report)
        return 0
    print("Churned accounts and their handoff")
    print(
        table(
            ["account", "churned", "handoff", "ae", "csm", "score", "tier", "breaches", "reason"],
            [
                [
                    m.account,
                    str(m.churned_on),
                    m.workflow_id,
                    m.ae or "-",
                    m.csm or "-",
                    "-" if m.score is None else f"{m.score:.1f}",
                    m.tier or "-",
                    str(m.breaches),
                    m.reason,
                ]
                for m in report.matched
            ],
        )
    )
    print("\nChurn rate by handoff tier")
    print(
        table(
            ["tier", "handoffs", "churned", "rate"],
            [
                [t.tier, str(t.handoffs), str(t.churned), "-" if t.rate is None else f"{t.rate:.1f}%"]
                for t in report.by_tier
            ],
        )
    )
    if report.unmatched:
        print("\nNo handoff found for: " + ", ".join(f"{u.account} ({u.churned_on})" for u in report.unmatched))
    return 0


def run_at_risk(args: argparse.Namespace) -> int:
    items = _query(args.url, lambda s: at_risk(s, datetime.now(UTC)))
    if args.json:
        _print_json(items)
        return 0
    if not items:
        print("No open handoff at risk.")
        return 0
    print(
        table(
            ["handoff", "account", "ae", "csm", "phase", "tier", "score", "next due", "reasons"],
            [
                [
                    i.workflow_id,
                    i.account,
                    i.ae or "-",
                    i.csm or "-",
                    i.phase,
                    i.tier or "-",
                    "-" if i.score is None else f"{i.score:.1f}",
                    "-" if i.next_due is None else i.next_due.strftime("%Y-%m-%d %H:%MZ"),
                    "; ".join(i.reasons),
                ]
                for i in items
            ],
        )
    )
    return 0
