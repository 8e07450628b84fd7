"""The benchmark's own stack: a Temporal dev server (SQLite file in a temp dir), Baton's worker and API,
and the bare worker, each a child process on free loopback ports, so they use their own cores and their
memory can be read from /proc. Everything is stopped and the temp dir removed on exit."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from cli.run_cmd import dev_server_command
from store.migrate import upgrade

PUBLIC_URL = "https://baton.bench.invalid"
HUBSPOT_SECRET = "bench-hubspot-secret"
KEYS = {"crm": "bench-key-crm", "ae": "bench-key-ae", "operator": "bench-key-op"}


# The default teams hold 25 open handoffs per CSM; thousands of bench deals would exhaust them, and a
# deal with no CSM free is never "CSM notified". One roomy team serves every approach instead.
BENCH_POLICY = """teams:
  - name: bench
    approaches: [automated, structured, white_glove, internal, partner_mediated]
    csms: [{id: csm-bench-1, capacity: 1000000}, {id: csm-bench-2, capacity: 1000000}]
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Stack:
    folder: Path
    temporal_address: str
    api_url: str
    database_url: str
    task_queue: str = "bench-baton"
    bare_task_queue: str = "bench-bare"
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def env(self, **extra: str) -> dict[str, str]:
        keys = ",".join(f"{hashlib.sha256(k.encode()).hexdigest()}:{role}" for role, k in KEYS.items())
        return {
            **os.environ,
            "TEMPORAL_ADDRESS": self.temporal_address,
            "DATABASE_URL": self.database_url,
            "BATON_TASK_QUEUE": self.task_queue,
            "BATON_PUBLIC_URL": PUBLIC_URL,
            "BATON_HUBSPOT_CLIENT_SECRET": HUBSPOT_SECRET,
            "BATON_API_KEYS": keys,
            # The worker says when it polls; the bench waits for that line rather than sleeping.
            "BATON_LOG_FORMAT": "json",
            "BATON_LOG_LEVEL": "WARNING",
            "BATON_POLICY": str(self.folder / "policy.yaml"),
            **extra,
        }

    def spawn(self, name: str, command: list[str], env: dict[str, str]) -> subprocess.Popen:
        log = open(self.folder / f"{name}.log", "wb")  # noqa: SIM115 (the child process owns it)
        process = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=Path(__file__).parent.parent
        )
        self.processes[name] = process
        return process

    def baton_worker(self, name: str, task_queue: str) -> subprocess.Popen:
        env = self.env(BATON_TASK_QUEUE=task_queue, BATON_LOG_LEVEL="INFO")
        process = self.spawn(name, [sys.executable, "-m", "cli.main", "worker"], env)
        self.wait_for_line(name, b"worker polling")
        return process

    def bare_worker(self, name: str, task_queue: str) -> subprocess.Popen:
        command = [sys.executable, "-m", "bench.bare", "--address", self.temporal_address, "--task-queue", task_queue]
        process = self.spawn(name, command, dict(os.environ))
        self.wait_for_line(name, b"bare worker polling")
        return process

    def wait_for_line(self, name: str, marker: bytes, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.processes[name].poll() is not None:
                raise RuntimeError(f"{name} exited: see {self.folder / (name + '.log')}")
            if marker in (self.folder / f"{name}.log").read_bytes():
                return
            time.sleep(0.1)
        raise RuntimeError(f"{name} not ready after {timeout:.0f}s")

    def wait_quiet(
        self, names: tuple[str, ...] = ("worker", "bare-worker", "api"), busy: float = 0.05, timeout: float = 300.0
    ) -> float:
        """Until each named process used under `busy` of a core over a whole second: the backlog of one
        figure must not be charged to the next. Returns the seconds waited."""
        started = deadline = time.monotonic()
        deadline += timeout
        while time.monotonic() < deadline:
            pids = [self.processes[name].pid for name in names]
            before = [cpu_seconds(pid) for pid in pids]
            time.sleep(1.0)
            if all(cpu_seconds(pid) - used < busy for pid, used in zip(pids, before, strict=True)):
                break
        return time.monotonic() - started

    def stop(self) -> None:
        for process in reversed(list(self.processes.values())):
            if process.poll() is None:
                process.terminate()
        for process in reversed(list(self.processes.values())):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"a bench process exited while starting (status {process.returncode})")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listening on port {port} after {timeout:.0f}s")


@contextmanager
def running_stack():
    """Dev server, migrated read model, Baton worker, Baton API and bare worker, ready to measure."""
    with tempfile.TemporaryDirectory(prefix="baton-bench-") as folder_name:
        folder = Path(folder_name)
        temporal_port, ui_port, api_port = free_port(), free_port(), free_port()
        stack = Stack(
            folder, f"127.0.0.1:{temporal_port}", f"http://127.0.0.1:{api_port}", f"sqlite:///{folder / 'baton.db'}"
        )
        try:
            server = stack.spawn("temporal", dev_server_command(folder, temporal_port, ui_port), dict(os.environ))
            wait_for_port(temporal_port, server)
            upgrade(stack.database_url)
            (folder / "policy.yaml").write_text(BENCH_POLICY)
            api = stack.spawn("api", [sys.executable, "-m", "cli.main", "api", "--port", str(api_port)], stack.env())
            stack.baton_worker("worker", stack.task_queue)
            stack.bare_worker("bare-worker", stack.bare_task_queue)
            wait_for_port(api_port, api)
            yield stack
        finally:
            stack.stop()
