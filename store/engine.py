"""Engines and transactions for the read model: SQLite on one machine, PostgreSQL when shared."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlmodel import Session

DEFAULT_URL = "sqlite:///.baton/baton.db"
BUSY_TIMEOUT_MS = 30_000
# The execution option that makes a SQLite transaction take the write lock at BEGIN.
SQLITE_IMMEDIATE = "baton_sqlite_immediate"


def database_url(url: str | None = None) -> str:
    return url or os.environ.get("DATABASE_URL") or DEFAULT_URL


def make_engine(url: str | None = None) -> Engine:
    """An engine for `url`, else $DATABASE_URL, else the local SQLite file under `.baton/`."""
    parsed = make_url(database_url(url))
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(parsed)
    if backend in ("postgresql", "postgres"):
        driver = parsed.drivername.partition("+")[2]
        if driver not in ("", "psycopg2"):
            raise ValueError(f"PostgreSQL is reached through psycopg2 (got {parsed.drivername}://)")
        return create_engine(parsed.set(drivername="postgresql+psycopg2"), pool_pre_ping=True)
    raise ValueError(f"unsupported database {parsed.drivername}://: use sqlite:/// or postgresql://")


def _sqlite_engine(url: URL) -> Engine:
    database = url.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    # Activities run in a worker thread pool: connections move between threads.
    engine = create_engine(url, connect_args={"check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite defers BEGIN to the first write, so a read-then-write would not be atomic; turn
        # its handling off and issue BEGIN ourselves below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get(SQLITE_IMMEDIATE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


@contextmanager
def session_scope(engine: Engine, *, write: bool = False) -> Iterator[Session]:
    """One transaction, committed on success and rolled back on an exception.

    `write=True` makes SQLite take its single write lock at BEGIN. A deferred transaction that reads
    and then writes fails at once ("database is locked", no busy wait) when another writer committed
    in between; the repository's writers also ask for this themselves when they open the transaction.
    """
    with Session(engine) as session:
        if write and engine.dialect.name == "sqlite":
            session.connection(execution_options={SQLITE_IMMEDIATE: True})
        yield session
        session.commit()
