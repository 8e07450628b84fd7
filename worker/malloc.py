"""Fewer glibc malloc arenas for the worker process.

glibc gives threads their own malloc arenas (up to eight per core) and rarely hands their free memory
back. A worker runs activities and workflow tasks on many threads, so its memory grows with arenas
that each hold a little of every run. Two arenas are plenty for a process whose Python code runs
under one GIL. `MALLOC_ARENA_MAX` in the environment, read by glibc at start, wins over this.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Mapping

M_ARENA_MAX = -8  # glibc's mallopt parameter number
WORKER_ARENAS = 2


def limit_arenas(env: Mapping[str, str], arenas: int = WORKER_ARENAS) -> bool:
    """True when the limit was set; False where there is no glibc (or the environment set its own)."""
    if env.get("MALLOC_ARENA_MAX"):
        return False
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        libc = ctypes.CDLL(name)
        return bool(libc.mallopt(M_ARENA_MAX, arenas))
    except (OSError, AttributeError):
        return False
