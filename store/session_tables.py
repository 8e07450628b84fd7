"""Browser sessions of people signed in to the pages: the server-side record a session cookie points at.

Only digests are kept: a copied table opens no session and replays no sign-in link. No name or e-mail
either, just the directory's person id.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from store.tables import UtcDateTime


class PageSessionRow(SQLModel, table=True):
    __tablename__ = "page_sessions"

    id: str = Field(primary_key=True, max_length=64, description="sha256 hex of the cookie's random token")
    person_id: str = Field(max_length=64, index=True)
    # Unique, so a sign-in link opens one session at most however often it is clicked.
    link_nonce: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    expires_at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    ended_at: datetime | None = Field(default=None, sa_type=UtcDateTime, nullable=True)
