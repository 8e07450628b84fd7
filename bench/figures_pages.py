"""The two page figures: the CS leads' queue and a handoff page, signed in, with the open handoffs the
memory figure left (10,000 in the full run). A second API process serves the pages with a directory
and a session secret of its own; the session is opened in the read model as a sign-in link opens it."""

from __future__ import annotations

import asyncio
import random
import secrets
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import func, select
from sqlmodel import Session, col

from api.pages import tokens
from bench.measure import spread
from bench.stack import Stack, free_port, wait_for_port
from store.engine import make_engine
from store.sessions import open_session
from store.tables import HandoffRow

DIRECTORY = Path(__file__).resolve().parent.parent / "examples" / "directory.yaml"
SESSION_SECRET = secrets.token_urlsafe(32)
READER = "lena"  # a CS lead: the whole queue, and every handoff to read


def _session_cookie(database_url: str) -> tuple[str, list[tuple[str, str]], int]:
    token, now = secrets.token_urlsafe(32), datetime.now(UTC)
    engine = make_engine(database_url)
    try:
        open_session(engine, token, READER, secrets.token_urlsafe(18), now, now + timedelta(hours=2))
        with Session(engine) as session:
            deals = session.execute(
                select(col(HandoffRow.crm), col(HandoffRow.deal_id))
                .where(col(HandoffRow.outcome) == "open")
                .limit(2000)
            ).all()
            open_count = session.execute(
                select(func.count()).select_from(HandoffRow).where(col(HandoffRow.outcome) == "open")
            ).scalar_one()
    finally:
        engine.dispose()
    return (
        f"{token}.{tokens.mac(SESSION_SECRET.encode(), 'session', token)}",
        [(crm, deal_id) for crm, deal_id in deals],
        int(open_count),
    )


async def _timed(http: httpx.AsyncClient, path: str, failures: list[str]) -> float:
    """Seconds for one GET; an answer other than 200 is kept as a failure (and its time still counts)."""
    started = time.perf_counter()
    answer = await http.get(path)
    elapsed = time.perf_counter() - started
    if answer.status_code != 200:
        failures.append(f"GET {path}: {answer.status_code}")
    return elapsed


TARGETS = {"queue_page": 0.150, "handoff_page": 0.100}


async def measure(stack: Stack, samples: int, record) -> None:
    try:
        timings, failures, open_handoffs = await _measure(stack, samples)
    except Exception as err:
        for name, target in TARGETS.items():
            record(name, {"baton": None, "bare": None, "unit": "-", "target": f"p95 < {target * 1000:.0f} ms",
                          "ok": False, "not_measured": f"{type(err).__name__}: {err}"[:300]})  # fmt: skip
        return
    for name, target in TARGETS.items():
        measured = spread(timings[name])
        record(
            name,
            {
                "baton": measured["p95"],
                "bare": None,
                "unit": "s (p95)",
                "baton_p50": measured["p50"],
                "bare_p50": None,
                "samples": measured["n"],
                "failed": len(failures[name]),
                "failures": failures[name][:5],
                "open_handoffs": open_handoffs,
                "target": f"p95 < {target * 1000:.0f} ms",
                "ok": measured["p95"] < target and not failures[name],
            },
        )


async def _measure(stack: Stack, samples: int) -> tuple[dict[str, list[float]], dict[str, list[str]], int]:
    port = free_port()
    env = stack.env(BATON_DIRECTORY=str(DIRECTORY), BATON_SESSION_SECRET=SESSION_SECRET)
    api = stack.spawn("pages-api", [sys.executable, "-m", "cli.main", "api", "--port", str(port)], env)
    await asyncio.to_thread(wait_for_port, port, api)
    cookie, deals, open_count = await asyncio.to_thread(_session_cookie, stack.database_url)
    if not deals:
        raise RuntimeError("no open handoff in the read model to open a page for")
    chooser = random.Random(7)
    timings: dict[str, list[float]] = {name: [] for name in TARGETS}
    failures: dict[str, list[str]] = {name: [] for name in TARGETS}
    warm_up: list[str] = []
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", cookies={"baton_person": cookie}, timeout=60
    ) as http:
        crm, deal_id = deals[0]
        for path in ("/queue", f"/h/{crm}/{deal_id}"):  # templates, imports, connections
            await _timed(http, path, warm_up)
        for _ in range(samples):
            timings["queue_page"].append(await _timed(http, "/queue", failures["queue_page"]))
        for _ in range(samples):
            crm, deal_id = chooser.choice(deals)
            timings["handoff_page"].append(await _timed(http, f"/h/{crm}/{deal_id}", failures["handoff_page"]))
    return timings, failures, open_count
