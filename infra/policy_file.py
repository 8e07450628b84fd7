"""Reading the policy file the commands and services run with."""

from __future__ import annotations

import os
from pathlib import Path

from domain.policy import Policy, PolicyError, load_policy_text, parse_policy


def read_policy(path: str | os.PathLike[str] | None = None) -> Policy:
    """The policy at `path` (a command's --policy, else the process settings' BATON_POLICY), else the
    built-in defaults."""
    if not path:
        return parse_policy(None)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as err:
        raise PolicyError(f"cannot read policy file {path}: {err.strerror}") from None
    return load_policy_text(text)
