"""`baton run` (what `make run` calls): the whole stack comes up, takes a handoff, and stops cleanly."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_run_starts_everything_and_stops_on_interrupt(tmp_path):
    temporal, ui, api = free_port(), free_port(), free_port()
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BATON_", "TEMPORAL_", "DATABASE_URL"))}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cli.main",
            "run",
            "--data",
            str(data),
            "--temporal-port",
            str(temporal),
            "--ui-port",
            str(ui),
            "--api-port",
            str(api),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{api}"
        for _ in range(300):
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None, process.stdout.read().decode()
            time.sleep(0.2)
        else:
            raise AssertionError("the API never became ready")
        key = (data / "api.key").read_text().strip()
        assert (data / "codec.keys").exists() and (data / "temporal.db").exists()
        event = {
            "type": "deal",
            "source": "runtest",
            "stage": "closed_won",
            "deal": {"id": "R-1", "account": "Run Test Co", "acv": 40000, "closed_at": "2026-03-02T15:00:00Z"},
        }
        answer = httpx.post(f"{base}/v1/events", json=event, headers={"Authorization": f"Bearer {key}"}, timeout=30)
        assert answer.status_code == 202 and answer.json()[0]["outcome"] == "started"
        for _ in range(150):
            state = httpx.get(f"{base}/v1/handoffs/runtest/R-1", headers={"Authorization": f"Bearer {key}"}, timeout=10)
            if state.status_code == 200 and state.json()["owners"]["csm"]:
                break
            time.sleep(0.2)
        assert state.json()["approach"]["approach"] == "structured" and state.json()["owners"]["csm"]
        assert httpx.get(f"http://127.0.0.1:{ui}/", timeout=10).status_code == 200
    finally:
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C sends to the terminal's process group
        output = process.communicate(timeout=60)[0].decode()
    assert process.returncode == 0, output
    assert "Baton is running" in output
    for port in (temporal, ui, api):
        with socket.socket() as sock:
            assert sock.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still open after Ctrl-C"
