"""The real processes of a Baton deployment, started for a drill: Temporal's dev server on a SQLite
file, `baton worker` and `baton api`, each its own OS process so it can be killed like in production.

Every process writes its output to a log file in the drill's folder (a pipe nobody reads would
eventually block it); `tail()` puts the end of a log into an assertion message.
"""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from cli.run_cmd import dev_server_command
from infra.temporal_binaries import dev_server_path

BATON = str(Path(sys.executable).with_name("baton"))
START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_until(check, what: str, timeout: float = START_TIMEOUT, interval: float = 0.1) -> None:
    """Bounded polling for process start/stop (synchronous: used outside the event loop's tests)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not within {timeout:.0f}s")
        time.sleep(interval)


def tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"


@dataclass
class Proc:
    name: str
    command: list[str]
    env: dict[str, str]
    log: Path
    popen: subprocess.Popen | None = None

    def start(self) -> Proc:
        handle = self.log.open("ab")
        # Own session: a Ctrl-C at the terminal reaches pytest, which stops these itself.
        self.popen = subprocess.Popen(
            self.command,
            env=self.env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        handle.close()
        return self

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL: no graceful shutdown, in-flight work is lost, as in a crash or an OOM kill."""
        if self.running:
            self.popen.send_signal(signal.SIGKILL)
            self.popen.wait(timeout=30)

    def stop(self, timeout: float = 20.0) -> None:
        if not self.running:
            return
        self.popen.terminate()
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(timeout=30)


def policy_text(sla_seconds: int) -> str:
    """Short SLAs so breaches happen inside a test; everything else keeps its default.

    `on_breach` is spelled out: an SLA entry in a policy file replaces the whole default entry, so
    giving only `due` would silently drop the escalation to the CS manager (see the drill report)."""
    return f"slas:\n  csm_briefed: {{due: {sla_seconds}s, on_breach: cs_manager}}\n"


API_KEYS = {"crm": "drill-crm", "ae": "drill-ae", "cs_lead": "drill-lead", "operator": "drill-op"}
HUBSPOT_SECRET = "drill-hubspot-secret"
SF_TOKEN = "drill-sf-token"
PD_USER, PD_PASSWORD = "drill", "drill-pd-password"
WEBHOOK_SECRET = "drill-webhook-secret"


@dataclass
class Deployment:
    """One Temporal dev server (restartable on its file), one worker and one API, sharing an env."""

    folder: Path
    stub_url: str
    sla_seconds: int = 20
    temporal_port: int = field(default_factory=free_port)
    ui_port: int = field(default_factory=free_port)
    api_port: int = field(default_factory=free_port)
    temporal: Proc | None = None
    worker: Proc | None = None
    api: Proc | None = None
    workers_started: int = 0

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def env(self) -> dict[str, str]:
        # Nothing from the developer's own BATON_*/TEMPORAL_* settings leaks into a drill.
        base = {k: v for k, v in os.environ.items() if not k.startswith(("BATON_", "TEMPORAL_", "DATABASE_URL"))}
        keys = ",".join(f"{hashlib.sha256(key.encode()).hexdigest()}:{role}" for role, key in API_KEYS.items())
        return {
            **base,
            "TEMPORAL_ADDRESS": f"127.0.0.1:{self.temporal_port}",
            "TEMPORAL_NAMESPACE": "default",
            "DATABASE_URL": f"sqlite:///{self.folder / 'baton.db'}",
            "BATON_TASK_QUEUE": f"drill-{self.folder.name}",
            "BATON_POLICY": str(self.folder / "policy.yaml"),
            "BATON_HUBSPOT_CLIENT_SECRET": HUBSPOT_SECRET,
            "BATON_SALESFORCE_WEBHOOK_TOKEN": SF_TOKEN,
            "BATON_PIPEDRIVE_USER": PD_USER,
            "BATON_PIPEDRIVE_PASSWORD": PD_PASSWORD,
            "BATON_API_KEYS": keys,
            "BATON_WEBHOOK_URL": f"{self.stub_url}/notify",
            "BATON_WEBHOOK_SECRET": WEBHOOK_SECRET,
            # The worker's HubSpot client goes to the stub; without a token it would be a no-op client.
            "BATON_HUBSPOT_TOKEN": "drill-hubspot-token",
            "BATON_HUBSPOT_API_URL": self.stub_url,
            # Short, so a call into a stopped Temporal answers 503 quickly rather than after 10 s.
            "BATON_RPC_TIMEOUT_SECONDS": "3",
            "BATON_UPDATE_TIMEOUT_SECONDS": "15",
            "BATON_WORKER_GRACE_SECONDS": "2",
            "PYTHONUNBUFFERED": "1",
        }

    # ---- Temporal --------------------------------------------------------------------------------

    def start_temporal(self) -> None:
        command = dev_server_command(self.folder, self.temporal_port, self.ui_port) + ["--headless"]
        self.temporal = Proc("temporal", command, self.env(), self.folder / "temporal.log").start()
        # Serving, not just listening: the port opens before the frontend answers ("Frontend is not
        # healthy yet"), and on a loaded machine a drill's next call would land in that gap.
        wait_until(lambda: self.temporal_serving() or not self.temporal.running, "Temporal serving")
        if not self.temporal.running:
            raise RuntimeError("the dev server exited:\n" + tail(self.temporal.log))

    def temporal_serving(self) -> bool:
        if not port_open(self.temporal_port):
            return False
        address = f"127.0.0.1:{self.temporal_port}"
        health = [dev_server_path(), "operator", "cluster", "health", "--address", address]
        return subprocess.run(health, capture_output=True, timeout=30).returncode == 0

    def stop_temporal(self) -> None:
        if self.temporal:
            self.temporal.stop()
            wait_until(lambda: not port_open(self.temporal_port), "Temporal's port to close", timeout=20)

    # ---- Baton -----------------------------------------------------------------------------------

    def prepare(self) -> None:
        (self.folder / "policy.yaml").write_text(policy_text(self.sla_seconds))
        subprocess.run([BATON, "db", "upgrade"], env=self.env(), check=True, capture_output=True, timeout=120)

    def start_worker(self) -> None:
        self.workers_started += 1
        self.worker = Proc(
            "worker", [BATON, "worker"], self.env(), self.folder / f"worker-{self.workers_started}.log"
        ).start()

    def start_api(self) -> None:
        self.api = Proc(
            "api", [BATON, "api", "--port", str(self.api_port)], self.env(), self.folder / "api.log"
        ).start()

        def healthy() -> bool:
            if not self.api.running:
                raise RuntimeError("the API exited:\n" + tail(self.api.log))
            try:
                return httpx.get(self.api_url + "/healthz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(healthy, "the API's /healthz")

    def logs(self) -> str:
        parts = []
        for path in sorted(self.folder.glob("*.log")):
            parts.append(f"--- {path.name}\n{tail(path)}")
        return "\n".join(parts)

    def stop_all(self) -> None:
        # API first, Temporal last, as `baton run` stops them.
        for proc in (self.api, self.worker, self.temporal):
            if proc is not None:
                proc.stop()
