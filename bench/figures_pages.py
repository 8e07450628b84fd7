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
from sqlalchemy import select
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


def _session_cookie(database_url: str) -> tuple[str, list[tuple[str, str]]]:
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
    finally:
        engine.dispose()
    return f"{token}.{tokens.mac(SESSION_SECRET.encode(), 'session', token)}", [
        (crm, deal_id) for crm, deal_id in deals
    ]


async def _timed(http: httpx.AsyncClient, path: str) -> float:
    started = time.perf_counter()
    answer = await http.get(path)
    elapsed = time.perf_counter() - started
    if answer.status_code != 200:
        raise RuntimeError(f"GET {path} answered {answer.status_code}")
    return elapsed


async def measure(stack: Stack, samples: int, record) -> None:
    port = free_port()
    env = stack.env(BATON_DIRECTORY=str(DIRECTORY), BATON_SESSION_SECRET=SESSION_SECRET)
    api = stack.spawn("pages-api", [sys.executable, "-m", "cli.main", "api", "--port", str(port)], env)
    await asyncio.to_thread(wait_for_port, port, api)
    cookie, deals = await asyncio.to_thread(_session_cookie, stack.database_url)
    if not deals:
        raise RuntimeError("no open handoff in the read model to open a page for")
    chooser = random.Random(7)
    cookies = {"baton_person": cookie}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", cookies=cookies, timeout=60) as http:
        crm, deal_id = deals[0]
        for path in ("/queue", f"/h/{crm}/{deal_id}"):  # warm-up: templates, imports, connections
            await _timed(http, path)
        queue = [await _timed(http, "/queue") for _ in range(samples)]
        pages = []
        for _ in range(samples):
            crm, deal_id = chooser.choice(deals)
            pages.append(await _timed(http, f"/h/{crm}/{deal_id}"))
    for name, values, target in (("queue_page", queue, 0.150), ("handoff_page", pages, 0.100)):
        measured = spread(values)
        record(
            name,
            {
                "baton": measured["p95"],
                "bare": None,
                "unit": "s (p95)",
                "baton_p50": measured["p50"],
                "bare_p50": None,
                "samples": measured["n"],
                "open_handoffs": len(deals),
                "target": f"p95 < {target * 1000:.0f} ms",
                "ok": measured["p95"] < target,
            },
        )
