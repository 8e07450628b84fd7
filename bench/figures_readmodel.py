"""The read model: the scorecard over N handoffs recorded with record_state, on SQLite and on PostgreSQL
(a throwaway database on BATON_BENCH_POSTGRES_URL's server), and how soon a won event shows as a row."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from domain.approach import ApproachDecision
from domain.approach_kinds import Approach
from domain.deal import Deal
from domain.roles import SlaName
from domain.scoring import QualityReport, Tier
from domain.state import Deadline, DeadlineStatus, Facts, HandoffState, Owners, Phase
from domain.timeline import Kind, TimelineEntry
from store import repository
from store.engine import make_engine, session_scope
from store.migrate import upgrade
from store.reports import scorecard

NOW = datetime(2026, 4, 15, 12, tzinfo=UTC)
TEAMS = ["enterprise", "mid-market", "scale"]
APPROACHES = [Approach.WHITE_GLOVE, Approach.STRUCTURED, Approach.AUTOMATED]


def _state(index: int) -> HandoffState:
    """Varied enough that every scorecard column has data: teams, tiers, met and breached SLAs."""
    close = NOW - timedelta(hours=7 * index % (24 * 120))
    team = TEAMS[index % 3]
    breached = index % 4 == 0
    deadline = Deadline(
        sla=SlaName.CSM_BRIEFED,
        due=close + timedelta(hours=48),
        set_at=close,
        status=DeadlineStatus.BREACHED if breached else DeadlineStatus.MET,
        met_at=None if breached else close + timedelta(hours=20),
        breached_at=close + timedelta(hours=48) if breached else None,
    )
    tier = [Tier.READY, Tier.GAPS, Tier.BLOCKED][index % 3]
    return HandoffState(
        workflow_id=f"baton-bench-{index}",
        deal=Deal(
            crm="bench",
            deal_id=str(index),
            account=f"Account {index}",
            acv=50_000,
            ae=f"ae{index % 40}",
            closed_at=close,
        ),
        policy_name="default",
        phase=Phase.ONBOARDING,
        approach=ApproachDecision(approach=APPROACHES[index % 3], reason="bench", acv_in_base=50_000),
        quality=QualityReport(score=90 - 20 * (index % 3), tier=tier, fields={}, completeness=90, specific_share=60),
        owners=Owners(ae=f"ae{index % 40}", csm=f"csm-{team}-{index % 7}", cs_team=team),
        facts=Facts(won_at=close, submitted_at=close + timedelta(hours=2)),
        deadlines={SlaName.CSM_BRIEFED: deadline},
        timeline=[TimelineEntry(seq=1, at=close, kind=Kind.STARTED)],
    )


POSTGRES_ENV = "BATON_BENCH_POSTGRES_URL"
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


def scorecard_seconds(rows: int, url: str | None = None, batch: int = 1000) -> tuple[float, int]:
    """(seconds for one scorecard over every row, groups it returned) on `url`, or on a SQLite file
    in a temp dir; inserting is not timed."""
    with tempfile.TemporaryDirectory() as folder:
        url = url or f"sqlite:///{folder}/readmodel.db"
        upgrade(url)
        engine = make_engine(url)
        try:
            for start in range(0, rows, batch):
                with session_scope(engine) as session:
                    for index in range(start, min(rows, start + batch)):
                        repository.record_state(session, _state(index))
            with session_scope(engine) as session:
                started = time.perf_counter()
                card = scorecard(session, "cs_team", None, None, NOW)
                elapsed = time.perf_counter() - started
            return elapsed, len(card.rows)
        finally:
            engine.dispose()


def scorecard_seconds_postgres(rows: int) -> tuple[float, int]:
    """The same on a database created for the run and dropped after it."""
    server = make_url(os.environ.get(POSTGRES_ENV, DEFAULT_POSTGRES))
    name = f"baton_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(
        server.set(drivername="postgresql+psycopg2"), isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
    )
    try:
        with admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {name}"))
        try:
            return scorecard_seconds(rows, server.set(database=name).render_as_string(hide_password=False))
        finally:
            with admin.connect() as connection:
                connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    finally:
        admin.dispose()


async def row_seen_at(database_url: str, workflow_id: str, timeout: float = 20.0) -> float:
    """When the handoff's row first shows in the stack's SQLite read model, in epoch seconds (polled
    every 2 ms, read-only, so the figure's error is a few milliseconds)."""
    path = make_url(database_url).database
    if path is None:
        raise ValueError(f"{database_url}: the read model is not a SQLite file")
    return await asyncio.to_thread(_poll_row, path, workflow_id, timeout)


def _poll_row(path: str, workflow_id: str, timeout: float) -> float:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if connection.execute("SELECT 1 FROM handoffs WHERE workflow_id = ?", (workflow_id,)).fetchone():
                return time.time()
            time.sleep(0.002)
    finally:
        connection.close()
    raise TimeoutError(f"{workflow_id}: no read-model row after {timeout:.0f}s")
