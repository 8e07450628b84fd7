"""`baton directory check [FILE]` and `baton directory sync --crm NAME [--directory FILE] [--write]`."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from datetime import date
from pathlib import Path

import httpx

from cli.errors import UsageError
from domain.directory import Directory, DirectoryError, dump_directory, load_directory_text, parse_directory
from domain.directory_check import directory_summary, directory_warnings
from domain.directory_sync import CrmUser, merge_crm_users
from infra.crm_owners import CRMS, HTTP_TIMEOUT, CrmOwnersError, read_crm_users
from infra.crm_settings import CrmSettings
from infra.directory_file import DIRECTORY_ENV, directory_path


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("directory", help="validate the people directory, or fill it from a CRM's users")
    sub = parser.add_subparsers(dest="directory_command", required=True)
    check = sub.add_parser("check", help="validate a directory file and warn about what will bite later")
    check.add_argument("file", nargs="?", help=f"directory file; default ${DIRECTORY_ENV}")
    check.set_defaults(run=run_check)
    sync = sub.add_parser("sync", help="merge a CRM's users into the directory (prints the result unless --write)")
    sync.add_argument("--crm", required=True, choices=CRMS)
    sync.add_argument("--directory", help=f"directory file; default ${DIRECTORY_ENV}")
    sync.add_argument("--write", action="store_true", help="replace the file (atomically) instead of printing")
    sync.set_defaults(run=run_sync)


def _chosen(given: str | None) -> Path:
    where = directory_path(given)
    if where is None:
        raise UsageError(f"no directory file: give one or set {DIRECTORY_ENV}")
    return where


def _read_text(where: Path, *, missing_ok: bool = False) -> str:
    try:
        return where.read_text(encoding="utf-8")
    except FileNotFoundError:
        if missing_ok:
            return ""
        raise UsageError(f"cannot read directory file {where}: no such file") from None
    except (OSError, UnicodeDecodeError) as err:
        reason = err.strerror if isinstance(err, OSError) else "not UTF-8 text"
        raise UsageError(f"cannot read directory file {where}: {reason}") from None


def _load(where: Path, text: str) -> Directory:
    try:
        return load_directory_text(text)
    except DirectoryError as err:
        raise UsageError(f"{where}: {err}") from None


def run_check(args: argparse.Namespace) -> int:
    where = _chosen(args.file)
    directory = _load(where, _read_text(where))
    print(f"{where}: valid directory: {directory_summary(directory)}")
    for warning in directory_warnings(directory, date.today()):
        print(f"warning: {warning}", file=sys.stderr)
    return 0


def make_http() -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=HTTP_TIMEOUT)


async def _fetch(crm: str, settings: CrmSettings) -> list[CrmUser]:
    async with make_http() as http:
        return await read_crm_users(crm, settings, http)


def run_sync(args: argparse.Namespace) -> int:
    where = _chosen(args.directory)
    before = _load(where, _read_text(where, missing_ok=True))
    try:
        settings = CrmSettings()
        users = asyncio.run(_fetch(args.crm, settings))
    except CrmOwnersError as err:
        raise UsageError(str(err)) from None
    except ValueError as err:  # a settings error names its variable, never its value
        raise UsageError(f"CRM settings: {err}") from None
    merged, report = merge_crm_users(before, users)
    for line in report.lines():
        print(line, file=sys.stderr)
    try:
        # Built without validation: this is where a merged directory proves usable (or names its keys).
        text = dump_directory(parse_directory(merged.model_dump(mode="json")))
    except DirectoryError as err:
        if not args.write:
            print(dump_directory(merged), end="")
        raise UsageError(f"the merged directory is not usable yet, {where} left as it was: {err}") from None
    if not args.write:
        print(text, end="")
        return 0
    if not report.changed and where.exists():
        print(f"{where}: nothing to change", file=sys.stderr)
        return 0
    write_atomically(where, text)
    print(f"{where}: written", file=sys.stderr)
    return 0


def write_atomically(where: Path, text: str) -> None:
    """Replace `where` with `text` by a temporary file in the same folder and a rename, so a reader (the
    worker reads the file live) sees the old file or the new one, never half of one. The file keeps its
    mode; a new file is 0600 (it lists people's e-mail addresses)."""
    try:
        mode = where.stat().st_mode & 0o777
    except FileNotFoundError:
        mode = 0o600
    folder = where.parent
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{where.name}.", suffix=".tmp", dir=folder)
    except OSError as err:
        raise UsageError(f"cannot write next to {where}: {err.strerror}") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, where)
    except OSError as err:
        Path(temporary).unlink(missing_ok=True)
        raise UsageError(f"cannot write {where}: {err.strerror}") from None
