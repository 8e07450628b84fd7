"""`make bench` must not rot: run it with tiny counts and check that every figure came out. Never a time:
the benchmark measures speed, the suite only that it still runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.temporal

FIGURES = {"start_throughput", "close_to_csm_notified", "message_round_trip", "state_read", "read_model_lag",
           "worker_rss_open_runs", "simulate_90_days", "backtest_two_policies", "scorecard_sqlite",
           "scorecard_postgresql", "queue_page", "handoff_page"}  # fmt: skip
BATON_ONLY = {"read_model_lag", "backtest_two_policies", "scorecard_sqlite", "scorecard_postgresql", "queue_page",
              "handoff_page"}  # fmt: skip


def test_the_bench_produces_every_figure(tmp_path):
    output = tmp_path / "results.json"
    # A child process: the bench starts its own servers and leaves with os._exit, as `make bench` does.
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--tiny", "--output", str(output)],
        cwd=Path(__file__).parent.parent,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    figures = json.loads(output.read_text())["figures"]
    assert set(figures) == FIGURES
    for name, figure in figures.items():
        # PostgreSQL runs on every machine this project tests on (CI included), so it is measured too.
        assert figure["baton"] is not None and figure["baton"] > 0, (name, figure)
        assert figure["bare"] is None if name in BATON_ONLY else figure["bare"] > 0, name
        assert figure["target"] and "ok" in figure, name
    for name in ("close_to_csm_notified", "message_round_trip", "state_read"):
        assert figures[name]["baton_p50"] > 0 and figures[name]["bare_p50"] > 0, name
