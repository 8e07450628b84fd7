"""`baton policy check FILE` and `baton policy show`."""

from __future__ import annotations

import argparse
import sys

from cli.settings import policy_path
from domain.policy import dump_policy
from infra.policy_file import read_policy, read_policy_checked


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("policy", help="validate or print the handoff policy")
    sub = parser.add_subparsers(dest="policy_command", required=True)
    check = sub.add_parser("check", help="validate a policy file")
    check.add_argument("file")
    check.set_defaults(run=run_check)
    show = sub.add_parser("show", help="print the effective policy (defaults filled in)")
    show.add_argument("--policy", help="policy file; default $BATON_POLICY or built-in")
    show.set_defaults(run=run_show)


def run_check(args: argparse.Namespace) -> int:
    policy, deprecated = read_policy_checked(args.file)
    print(f"{args.file}: valid policy '{policy.name}'")
    for warning in deprecated:
        print(f"warning: {warning}", file=sys.stderr)
    return 0


def run_show(args: argparse.Namespace) -> int:
    print(dump_policy(read_policy(policy_path(args.policy))), end="")
    return 0
