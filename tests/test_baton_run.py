"""`baton run` (what `make run` calls): the whole stack comes up and takes handoffs, heals itself when
the worker and then the dev server are SIGKILLed (as the OOM killer would), and stops on Ctrl-C."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from cli.restart_policy import RestartPolicy
from cli.run_cmd import Child, _stop, supervise

ROOT = Path(__file__).parent.parent
# Bounds for polls on a loaded machine: they only bound a failure; a passing run returns at once.
READY = 120.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def poll(check, what: str, timeout: float = READY, interval: float = 0.2):
    """Until `check` returns something truthy (exceptions count as not yet); bounded."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
            last = result
        except (httpx.HTTPError, OSError, KeyError) as err:
            last = err
        time.sleep(interval)
    raise AssertionError(f"{what} not within {timeout:.0f}s (last: {last!r})")


def child_pid(parent: int, marker: str) -> int | None:
    """The pid of `parent`'s child whose command line holds `marker` (Linux /proc)."""
    for task in Path(f"/proc/{parent}/task").iterdir():
        for pid in (task / "children").read_text().split():
            try:
                command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            except FileNotFoundError:
                continue
            if marker in command:
                return int(pid)
    return None


def test_run_heals_a_killed_worker_and_dev_server_and_stops_on_interrupt(tmp_path):
    temporal, ui, api = free_port(), free_port(), free_port()
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BATON_", "TEMPORAL_", "DATABASE_URL"))}
    command = [sys.executable, "-m", "cli.main", "run", "--data", str(data)]
    command += ["--temporal-port", str(temporal), "--ui-port", str(ui), "--api-port", str(api)]
    log = (tmp_path / "run.log").open("w+b")
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{api}"

    def output() -> str:
        return (tmp_path / "run.log").read_text(errors="replace")

    def ready() -> bool:
        assert process.poll() is None, output()
        return httpx.get(f"{base}/readyz", timeout=2).status_code == 200

    def won(deal_id: str) -> None:
        event = {
            "type": "deal",
            "source": "runtest",
            "stage": "closed_won",
            "deal": {"id": deal_id, "account": "Run Test Co", "acv": 40000, "closed_at": "2026-03-02T15:00:00Z"},
        }
        answer = httpx.post(f"{base}/v1/events", json=event, headers=headers, timeout=30)
        assert answer.status_code == 202 and answer.json()[0]["outcome"] == "started", answer.text

    def csm_of(deal_id: str) -> str | None:
        state = httpx.get(f"{base}/v1/handoffs/runtest/{deal_id}", headers=headers, timeout=10)
        return state.json()["owners"]["csm"] if state.status_code == 200 else None

    try:
        poll(ready, "the API ready")
        headers = {"Authorization": f"Bearer {(data / 'api.key').read_text().strip()}"}
        assert (data / "codec.keys").exists() and (data / "temporal.db").exists()
        won("R-1")
        poll(lambda: csm_of("R-1"), "R-1's CSM")
        state = httpx.get(f"{base}/v1/handoffs/runtest/R-1", headers=headers, timeout=10).json()
        assert state["approach"]["approach"] == "structured"
        assert httpx.get(f"http://127.0.0.1:{ui}/", timeout=10).status_code == 200

        # The worker dies: the API still takes the next deal, and the restarted worker handles it.
        worker = poll(lambda: child_pid(process.pid, "cli.main worker"), "the worker's pid")
        os.kill(worker, signal.SIGKILL)
        won("R-2")
        poll(lambda: csm_of("R-2"), "R-2's CSM from the restarted worker")
        assert child_pid(process.pid, "cli.main worker") not in (None, worker)

        # The dev server dies: it comes back on the same SQLite file, with the handoffs it held.
        server = poll(lambda: child_pid(process.pid, "start-dev"), "the dev server's pid")
        os.kill(server, signal.SIGKILL)
        poll(lambda: child_pid(process.pid, "start-dev") not in (None, server), "a new dev server")
        poll(ready, "the API ready again")
        assert csm_of("R-1") and csm_of("R-2")
        won("R-3")
        poll(lambda: csm_of("R-3"), "R-3's CSM after the dev server's restart")
    finally:
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C sends to the terminal's process group
        process.wait(timeout=60)
        log.close()
    text = output()
    assert process.returncode == 0, text
    assert "Baton is running" in text
    assert "baton run: worker exited (killed by SIGKILL); restarting it in 1s" in text
    assert "baton run: Temporal dev server exited (killed by SIGKILL); restarting it in 1s" in text
    for port in (temporal, ui, api):
        with socket.socket() as sock:
            assert sock.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still open after Ctrl-C"


def test_a_child_that_keeps_crashing_stops_everything_with_a_message(capsys):
    """Supervision for real (processes, exits, restarts), with the policy's waits shortened."""
    policy = RestartPolicy(first_wait=0.01, longest_wait=0.05)
    flaky = Child("worker", [sys.executable, "-c", "raise SystemExit(3)"], dict(os.environ), policy)
    steady = Child("API", [sys.executable, "-c", "import time; time.sleep(60)"], dict(os.environ), policy)
    flaky.start()
    steady.start()
    try:
        assert supervise([flaky, steady], tick=0.01) == 1
    finally:
        _stop([flaky, steady])
    said = capsys.readouterr().err
    assert said.count("baton run: worker exited (status 3); restarting it in") == 4
    assert said.count("baton run: worker restarted") == 4
    assert "baton run: worker exited (status 3), its 5th exit within 60s; stopping everything" in said
    assert "API" not in said and steady.poll() is not None  # stopped with the rest, never restarted


def test_one_machine_uses_the_example_directory_unless_one_is_configured(tmp_path):
    from cli.run_cmd import EXAMPLE_DIRECTORY, example_directory
    from domain.directory import load_directory_text

    assert example_directory({}) == {"BATON_DIRECTORY": str(EXAMPLE_DIRECTORY)}
    assert load_directory_text(EXAMPLE_DIRECTORY.read_text()).by_crm_owner("hubspot", "61234567").id == "maria"
    assert example_directory({"BATON_DIRECTORY": str(tmp_path / "ours.yaml")}) == {}
