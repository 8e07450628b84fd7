"""`make run` keeps the session secret beside its data, so sign-in links and sessions survive a restart."""

from __future__ import annotations

import stat

import pytest

from cli.run_cmd import local_secrets
from cli.settings import CliSettings

pytestmark = pytest.mark.unit


def test_the_session_secret_is_made_once_and_kept(tmp_path, monkeypatch):
    for name in ("BATON_SESSION_SECRET", "BATON_API_KEYS", "BATON_CODEC_KEYS", "BATON_CODEC_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)
    first = local_secrets(tmp_path, CliSettings())["BATON_SESSION_SECRET"]
    assert len(first) >= 32 and local_secrets(tmp_path, CliSettings())["BATON_SESSION_SECRET"] == first
    assert stat.S_IMODE((tmp_path / "session.secret").stat().st_mode) == 0o600


def test_a_configured_secret_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("BATON_SESSION_SECRET", "from-the-environment")
    assert "BATON_SESSION_SECRET" not in local_secrets(tmp_path, CliSettings())
    assert not (tmp_path / "session.secret").exists()
