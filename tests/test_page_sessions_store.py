"""Page sessions in the read model, on SQLite and PostgreSQL: one session per link, ended by sign-out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from store.sessions import LinkAlreadyUsed, active_person, end_session, open_session

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


def test_a_session_lives_until_it_expires_or_is_ended(store):
    open_session(store.engine, "tok-a", "maria", "nonce-a", NOW, NOW + timedelta(hours=12))
    assert active_person(store.engine, "tok-a", NOW + timedelta(hours=11)) == "maria"
    assert active_person(store.engine, "tok-a", NOW + timedelta(hours=12)) is None
    assert active_person(store.engine, "tok-unknown", NOW) is None
    end_session(store.engine, "tok-a", NOW + timedelta(minutes=5))
    assert active_person(store.engine, "tok-a", NOW + timedelta(minutes=6)) is None
    end_session(store.engine, "tok-a", NOW + timedelta(minutes=7))  # twice: still ended, no error


def test_a_sign_in_link_opens_one_session_only(store):
    open_session(store.engine, "tok-1", "maria", "nonce-x", NOW, NOW + timedelta(hours=1))
    with pytest.raises(LinkAlreadyUsed):
        open_session(store.engine, "tok-2", "maria", "nonce-x", NOW, NOW + timedelta(hours=1))
    assert active_person(store.engine, "tok-2", NOW) is None


def test_only_digests_are_stored(store):
    open_session(store.engine, "cookie-token-secret", "maria", "link-nonce-secret", NOW, NOW + timedelta(hours=1))
    with store.engine.connect() as connection:
        stored = " ".join(str(v) for row in connection.execute(text("SELECT * FROM page_sessions")) for v in row)
    assert "cookie-token-secret" not in stored and "link-nonce-secret" not in stored and "maria" in stored
