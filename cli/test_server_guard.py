"""A time-skipping test server that dies with the command that started it, even on SIGKILL.

The SDK starts the server from one of its own threads, so a parent-death signal set for the server
fires when that thread ends, not when the process does; and a command killed outright runs no
cleanup. The SDK is therefore given a small guard as `test_server_existing_path`: a single-threaded
process that starts the real server with a parent-death signal of its own, and exits (killing the
server) as soon as the command that started it is gone.
"""

from __future__ import annotations

import sys
from pathlib import Path

from infra.temporal_binaries import test_server_path

_GUARD = """
import ctypes, os, select, signal, subprocess, sys, time

SERVER = {server!r}
parent = os.getppid()


def die_with_this_guard():
    try:
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG; Linux only
    except (OSError, AttributeError):
        pass


server = subprocess.Popen([SERVER, *sys.argv[1:]], preexec_fn=die_with_this_guard)
for sig in (signal.SIGTERM, signal.SIGINT):
    signal.signal(sig, lambda number, frame: server.send_signal(number))
try:
    parent_fd = os.pidfd_open(parent)
    poller = select.poll()
    poller.register(parent_fd, select.POLLIN)
    poller.register(os.pidfd_open(server.pid), select.POLLIN)
    while server.poll() is None and parent_fd not in [fd for fd, _ in poller.poll()]:
        pass
except (AttributeError, OSError):  # no pidfd here: look every tenth of a second
    while server.poll() is None and os.getppid() == parent:
        time.sleep(0.1)
if server.poll() is None:
    server.kill()
sys.exit(server.wait())
"""


def guarded_test_server(folder: Path) -> str:
    """Write the guard into `folder` (which must outlive the server) and return its path."""
    path = folder / "temporal-test-server-guard"
    # -IS: the guard needs only the standard library, and starts faster without site-packages.
    path.write_text(f"#!{sys.executable} -IS\n" + _GUARD.format(server=test_server_path()), encoding="utf-8")
    path.chmod(0o700)
    return str(path)
