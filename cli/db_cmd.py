"""`baton db upgrade [--url URL]`: bring the read model's schema to the newest migration."""

from __future__ import annotations

import argparse

from sqlalchemy.engine import make_url

from cli.settings import get_settings
from store import migrate
from store.engine import database_url


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("db", help="manage the read-model database")
    sub = parser.add_subparsers(dest="db_command", required=True)
    upgrade = sub.add_parser("upgrade", help="apply every pending migration")
    upgrade.add_argument("--url", help="database URL; default $DATABASE_URL, else sqlite:///.baton/baton.db")
    upgrade.set_defaults(run=run_upgrade)


def run_upgrade(args: argparse.Namespace) -> int:
    url = database_url(args.url or get_settings().database_url)
    # The URL may carry a password: never print it.
    shown = make_url(url).render_as_string(hide_password=True)
    before = migrate.current_revision(url)
    migrate.upgrade(url)
    after = migrate.current_revision(url)
    if before == after:
        print(f"{shown}: already at revision {after}")
    else:
        print(f"{shown}: upgraded from {before or 'an empty database'} to revision {after}")
    return 0
