"""`baton run` (what `make run` calls): the whole product on one machine.

Temporal's dev server with its Web UI (state in a SQLite file, so runs survive a restart), the
read-model migrations, then a worker and the API as child processes; Ctrl-C stops all three.
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
from pathlib import Path

from worker.temporal_binaries import dev_server_path
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


def run(args: argparse.Namespace) -> int:
    data = Path(args.data).resolve()
    data.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "TEMPORAL_ADDRESS": f"127.0.0.1:{args.temporal_port}",
        "DATABASE_URL": os.environ.get("DATABASE_URL", f"sqlite:///{data / 'baton.db'}"),
        "BATON_UI_ORIGIN": f"http://127.0.0.1:{args.ui_port},http://localhost:{args.ui_port}",
        **local_secrets(data),
    }
    baton = [sys.executable, "-m", "cli.main"]
    children: list[subprocess.Popen] = []
    # Explicit handlers: a shell starts background jobs with SIGINT ignored, and services send SIGTERM.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _interrupt)
    try:
        children.append(
            subprocess.Popen(dev_server_command(data, args.temporal_port, args.ui_port, args.api_port), env=env)
        )
        _wait_for_port(args.temporal_port, children[0])
        subprocess.run([*baton, "db", "upgrade"], env=env, check=True)
        subprocess.run([*baton, "temporal", "setup"], env=env, check=True)
        children.append(subprocess.Popen([*baton, "worker"], env=env))
        children.append(subprocess.Popen([*baton, "api", "--port", str(args.api_port)], env=env))
        _wait_for_port(args.api_port, children[-1])
        print(
            f"\nBaton is running:\n"
            f"  API        http://127.0.0.1:{args.api_port}  (OpenAPI at /docs)\n"
            f"  Temporal   http://127.0.0.1:{args.ui_port}  (Web UI)\n"
            f"  data       {data}\n"
            f'The API key (all roles) is in {data / "api.key"}: try `baton demo --crm-key "$(cat {data / "api.key"})"`.\n'
            f"Payloads are encrypted; sign in at http://127.0.0.1:{args.api_port}/auth/login with that key so the UI\n"
            f"decodes them (UI: Settings, codec server, 'include cross-origin credentials').\n"
            f"Ctrl-C stops everything.\n",
            flush=True,
        )
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        print("a Baton process exited; stopping the rest", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        _stop(children)


def local_secrets(data: Path) -> dict[str, str]:
    """On one machine Baton makes its own secrets on first run and keeps them beside its data: an API key
    with every role, an encryption key for payloads, and the secret that signs browser sessions.
    Configured values always win."""
    found: dict[str, str] = {}
    if not (os.environ.get("BATON_CODEC_KEYS") or os.environ.get("BATON_CODEC_KEY_FILE")):
        keys = data / "codec.keys"
        if not keys.exists():
            _write_secret(keys, f"local-1:{base64.b64encode(secrets.token_bytes(32)).decode()}\n")
        found["BATON_CODEC_KEY_FILE"] = str(keys)
    if not os.environ.get("BATON_API_KEYS"):
        key_file = data / "api.key"
        if not key_file.exists():
            _write_secret(key_file, secrets.token_urlsafe(32))
        digest = hashlib.sha256(key_file.read_text().strip().encode()).hexdigest()
        found["BATON_API_KEYS"] = f"{digest}:crm+ae+cs_lead+operator"
    if not os.environ.get("BATON_SESSION_SECRET"):
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


def _wait_for_port(port: int, process: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"baton run: a process exited while starting (status {process.returncode})")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise SystemExit(f"baton run: nothing listening on port {port} after {timeout:.0f}s")


def _stop(children: list[subprocess.Popen]) -> None:
    """API first, Temporal last, so nothing is left talking to a server that went away."""
    for child in reversed(children):
        if child.poll() is None:
            child.terminate()
    for child in reversed(children):
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()
