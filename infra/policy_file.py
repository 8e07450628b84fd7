"""Reading the policy file the commands and services run with."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from domain.policy import Policy, PolicyError, load_policy_text, parse_policy, policy_deprecations

log = logging.getLogger("baton.policy")


def read_policy(path: str | os.PathLike[str] | None = None) -> Policy:
    """The policy at `path` (a command's --policy, else the process settings' BATON_POLICY), else the
    built-in defaults. Deprecated keys are logged as warnings."""
    policy, deprecated = read_policy_checked(path)
    for warning in deprecated:
        log.warning("policy %s: %s", path, warning)
    return policy


def read_policy_checked(path: str | os.PathLike[str] | None) -> tuple[Policy, list[str]]:
    """The policy and what it sets that is deprecated (for `baton policy check`, which prints them)."""
    if not path:
        return parse_policy(None), []
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as err:
        raise PolicyError(f"cannot read policy file {path}: {err.strerror}") from None
    return load_policy_text(text), policy_deprecations(text)
