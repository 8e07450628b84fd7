"""Opening, finding and ending page sessions (store.tables.PageSessionRow); each call is one short transaction."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from store.engine import session_scope
from store.tables import PageSessionRow


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class LinkAlreadyUsed(Exception):
    """The sign-in link behind this nonce already opened a session."""


def open_session(
    engine: Engine, token: str, person_id: str, link_nonce: str, now: datetime, expires_at: datetime
) -> None:
    """Records the session for `token` (kept as a digest); a link's nonce opens one session only."""
    row = PageSessionRow(
        id=digest(token), person_id=person_id, link_nonce=digest(link_nonce), created_at=now, expires_at=expires_at
    )
    try:
        with session_scope(engine, write=True) as session:
            session.add(row)
    except IntegrityError:
        raise LinkAlreadyUsed() from None


def active_person(engine: Engine, token: str, now: datetime) -> str | None:
    """The person a live session belongs to: not ended, not expired; None for anything else."""
    with Session(engine) as session:
        row = session.exec(select(PageSessionRow).where(PageSessionRow.id == digest(token))).first()
    if row is None or row.ended_at is not None or row.expires_at <= now:
        return None
    return row.person_id


def end_session(engine: Engine, token: str, now: datetime) -> None:
    with session_scope(engine, write=True) as session:
        session.execute(
            update(PageSessionRow)
            .where(col(PageSessionRow.id) == digest(token), col(PageSessionRow.ended_at).is_(None))
            .values(ended_at=now)
        )
