"""The suite's per-test timeout (pytest-timeout, pyproject's settings): a hung await fails its test and
the session goes on to the next one, rather than hanging CI or ending the whole run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

HUNG = """
import asyncio


async def test_waits_on_a_result_nobody_will_produce():
    # What a workflow's handle.result() is with no worker polling: a future that never completes.
    await asyncio.get_running_loop().create_future()


def test_the_next_test_still_runs():
    assert True
"""


def test_a_hung_test_fails_and_the_session_goes_on(tmp_path):
    (tmp_path / "test_hung.py").write_text(HUNG)
    # The project's own pytest settings (timeout method, asyncio mode), a short limit for this run only.
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-c", str(ROOT / "pyproject.toml")]
    command += ["--rootdir", str(tmp_path), "--timeout", "2", str(tmp_path / "test_hung.py")]
    run = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "Timeout (>2.0s)" in run.stdout
    assert "1 failed, 1 passed" in run.stdout
