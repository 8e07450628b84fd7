"""Fixtures for the store tests: each test runs on SQLite and on PostgreSQL.

Imported by test_store.py (tests/conftest.py belongs to the workflow tests). PostgreSQL gets one
throwaway database per test run, created from `BATON_TEST_POSTGRES_URL` (default: the local server's
`test` database) and dropped at the end; each test starts from emptied tables.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg2
import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url

from store.engine import make_engine
from store.migrate import upgrade
from store.tables import SQLModel

ADMIN_URL = os.environ.get("BATON_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


@dataclass
class Store:
    url: str
    engine: Engine

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name


def _admin_connection():
    url = make_url(ADMIN_URL)
    connection = psycopg2.connect(
        host=url.host or "127.0.0.1",
        port=url.port or 5432,
        user=url.username or "postgres",
        password=url.password,
        dbname=url.database or "postgres",
        connect_timeout=3,
    )
    connection.autocommit = True
    return connection


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str | Exception]:
    """A fresh, migrated database for the run, or the error that kept us from reaching the server."""
    try:
        admin = _admin_connection()
    except psycopg2.OperationalError as err:
        yield err
        return
    name = f"baton_test_{uuid.uuid4().hex[:12]}"
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def require_postgres(postgres_database: str | Exception) -> str:
    if isinstance(postgres_database, str):
        return postgres_database
    url = make_url(ADMIN_URL)
    where = f"{url.host or '127.0.0.1'}:{url.port or 5432}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"PostgreSQL not reachable at {where} and CI=true requires it: {postgres_database}")
    pytest.skip(f"PostgreSQL not reachable at {where} — store tests ran on SQLite only")


def _empty(engine: Engine) -> None:
    tables = ", ".join(f'"{table.name}"' for table in SQLModel.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY"))


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path, postgres_database) -> Iterator[Store]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'baton.db'}"
        upgrade(url)
    else:
        url = require_postgres(postgres_database)
    engine = make_engine(url)
    if request.param == "postgresql":
        _empty(engine)
    try:
        yield Store(url=url, engine=engine)
    finally:
        engine.dispose()
