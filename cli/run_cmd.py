"""`baton run` (what `make run` calls): the whole product on one machine.

Temporal's dev server with its Web UI (state in a SQLite file, so runs survive a restart), the
read-model migrations, then a worker and the API as child processes, supervised: a child that exits
on its own (the OOM killer, a crash) is restarted with backoff and a log line (cli.restart_policy),
the dev server on the same SQLite file. Only Ctrl-C or SIGTERM stops everything, or a child that keeps
crashing (five times within a minute), with a message saying which.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from cli.restart_policy import CrashRecord, GiveUp, RestartPolicy
from cli.settings import CliSettings, get_settings
from infra.directory_file import DIRECTORY_ENV
from infra.temporal_binaries import dev_server_path
from workflows import search_attributes

_SA_TYPE = {"KEYWORD": "Keyword", "DOUBLE": "Double", "BOOL": "Bool", "DATETIME": "Datetime", "INT": "Int"}


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("run", help="run Temporal (dev server + UI), a worker and the API on this machine")
    parser.add_argument("--data", default=".baton", help="folder for Temporal's and the read model's SQLite files")
    parser.add_argument("--temporal-port", type=int, default=7233)
    parser.add_argument("--ui-port", type=int, default=8233)
    parser.add_argument("--api-port", type=int, default=8000)
    parser.set_defaults(run=run)


def dev_server_command(data: Path, port: int, ui_port: int, api_port: int | None = None) -> list[str]:
    command = [
        dev_server_path(),
        "server",
        "start-dev",
        "--db-filename",
        str(data / "temporal.db"),
        "--port",
        str(port),
        "--ui-port",
        str(ui_port),
        "--ip",
        "127.0.0.1",
        "--log-level",
        "warn",
    ]
    if api_port:
        command += ["--ui-codec-endpoint", f"http://127.0.0.1:{api_port}/codec"]
    for key in search_attributes.ALL:
        command += ["--search-attribute", f"{key.name}={_SA_TYPE[key.indexed_value_type.name]}"]
    return command


def make_private(data: Path) -> None:
    """The SQLite files hold every handoff (account names, people, the timeline): readable by their owner
    only, like the key files. The umask covers what the children create later (the databases' -wal and
    -shm files included); the chmod covers files an earlier version left world-readable."""
    os.umask(0o077)
    data.mkdir(parents=True, exist_ok=True)
    data.chmod(0o700)
    for path in data.iterdir():
        if path.is_file():
            path.chmod(0o600)


def run(args: argparse.Namespace) -> int:
    data = Path(args.data).resolve()
    make_private(data)
    settings = get_settings()
    env = {
        **os.environ,
        "TEMPORAL_ADDRESS": f"127.0.0.1:{args.temporal_port}",
        "DATABASE_URL": settings.database_url or f"sqlite:///{data / 'baton.db'}",
        "BATON_UI_ORIGIN": f"http://127.0.0.1:{args.ui_port},http://localhost:{args.ui_port}",
        **local_secrets(data, settings),
        **example_directory(os.environ),
    }
    baton = [sys.executable, "-m", "cli.main"]
    # Explicit handlers: a shell starts background jobs with SIGINT ignored, and services send SIGTERM.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _interrupt)
    children = [
        Child("Temporal dev server", dev_server_command(data, args.temporal_port, args.ui_port, args.api_port), env),
        Child("worker", [*baton, "worker"], env),
        Child("API", [*baton, "api", "--port", str(args.api_port)], env),
    ]
    temporal, _, api = children
    try:
        temporal.start()
        _wait_for_port(args.temporal_port, temporal)
        subprocess.run([*baton, "db", "upgrade"], env=env, check=True)
        subprocess.run([*baton, "temporal", "setup"], env=env, check=True)
        for child in children[1:]:
            child.start()
        _wait_for_port(args.api_port, api)
        print(
            f"\nBaton is running:\n"
            f"  API        http://127.0.0.1:{args.api_port}  (OpenAPI at /docs)\n"
            f"  Temporal   http://127.0.0.1:{args.ui_port}  (Web UI)\n"
            f"  data       {data}\n"
            f'The API key (all roles) is in {data / "api.key"}: try `baton demo --crm-key "$(cat {data / "api.key"})"`.\n'
            f"Payloads are encrypted; sign in at http://127.0.0.1:{args.api_port}/auth/login with that key so the UI\n"
            f"decodes them (UI: Settings, codec server, 'include cross-origin credentials').\n"
            f"A process that exits is restarted; Ctrl-C stops everything.\n",
            flush=True,
        )
        return supervise(children)
    except KeyboardInterrupt:
        return 0
    finally:
        _stop(children)


class Child:
    """One supervised process: its command, the running Popen, and its crash record."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], policy: RestartPolicy | None = None) -> None:
        self.name, self.command, self.env = name, command, env
        self.process: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0
        self.restart_at: float | None = None
        self.crashes = CrashRecord(policy or RestartPolicy())

    def start(self) -> None:
        # Its own process group: Ctrl-C reaches `baton run` alone, which stops the children in order
        # (API first, Temporal last) instead of each one reading the signal as its own crash.
        self.process = subprocess.Popen(self.command, env=self.env, process_group=0)
        self.started_at = time.monotonic()
        self.restart_at = None

    def poll(self) -> int | None:
        return self.process.poll() if self.process is not None else None


def supervise(children: list[Child], tick: float = 0.2) -> int:
    """Until Ctrl-C or SIGTERM (KeyboardInterrupt) restart any child that exits; 1 when one gives up."""
    while True:
        now = time.monotonic()
        for child in children:
            if child.restart_at is not None:
                if now >= child.restart_at:
                    child.start()
                    _say(f"{child.name} restarted")
                continue
            status = child.poll()
            if status is None:
                continue
            decision = child.crashes.exited(child.started_at, now)
            if isinstance(decision, GiveUp):
                _say(
                    f"{child.name} exited ({_describe(status)}), its {decision.crashes}th exit within "
                    f"{decision.window:.0f}s; stopping everything. Its output above says why."
                )
                return 1
            _say(f"{child.name} exited ({_describe(status)}); restarting it in {decision.wait:.0f}s")
            child.restart_at = now + decision.wait
        time.sleep(tick)


def _describe(status: int) -> str:
    if status < 0:
        return f"killed by {signal.Signals(-status).name}"
    return f"status {status}"


def _say(message: str) -> None:
    print(f"baton run: {message}", file=sys.stderr, flush=True)


EXAMPLE_DIRECTORY = Path(__file__).resolve().parents[1] / "examples" / "directory.yaml"


def example_directory(environ: Mapping[str, str]) -> dict[str, str]:
    """On one machine without a directory of its own, the example's people (so a HubSpot owner
    61234567 is Maria Lopez, and notices name people); a configured BATON_DIRECTORY always wins."""
    if environ.get(DIRECTORY_ENV, "").strip() or not EXAMPLE_DIRECTORY.is_file():
        return {}
    _say(f"people directory: {EXAMPLE_DIRECTORY} (the example; set {DIRECTORY_ENV} to use your own)")
    return {DIRECTORY_ENV: str(EXAMPLE_DIRECTORY)}


def local_secrets(data: Path, settings: CliSettings) -> dict[str, str]:
    """On one machine Baton makes its own secrets on first run and keeps them beside its data: an API key
    with every role, an encryption key for payloads, and the secret that signs browser sessions.
    Configured values always win."""
    found: dict[str, str] = {}
    if not (settings.codec_keys.get_secret_value() or settings.codec_key_file):
        keys = data / "codec.keys"
        if not keys.exists():
            _write_secret(keys, f"local-1:{base64.b64encode(secrets.token_bytes(32)).decode()}\n")
        found["BATON_CODEC_KEY_FILE"] = str(keys)
    if not settings.api_keys.get_secret_value():
        key_file = data / "api.key"
        if not key_file.exists():
            _write_secret(key_file, secrets.token_urlsafe(32))
        digest = hashlib.sha256(key_file.read_text().strip().encode()).hexdigest()
        found["BATON_API_KEYS"] = f"{digest}:crm+ae+cs_lead+operator"
    if not settings.session_secret.get_secret_value():
        # Signs sign-in links and session cookies: kept, so a restart signs nobody out.
        secret_file = data / "session.secret"
        if not secret_file.exists():
            _write_secret(secret_file, secrets.token_urlsafe(32))
        found["BATON_SESSION_SECRET"] = secret_file.read_text().strip()
    return found


def _write_secret(path: Path, text: str) -> None:
    path.touch(mode=0o600)
    path.write_text(text)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _wait_for_port(port: int, child: Child, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise SystemExit(f"baton run: the {child.name} exited while starting (status {child.poll()})")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise SystemExit(f"baton run: nothing listening on port {port} after {timeout:.0f}s")


def _stop(children: list[Child]) -> None:
    """API first, Temporal last, so nothing is left talking to a server that went away."""
    running = [child.process for child in reversed(children) if child.process is not None]
    for process in running:
        if process.poll() is None:
            process.terminate()
    for process in running:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
