"""A quarter of made-up handoffs as a backtest file records them: for the benchmark, the tests and the
README's example. Seeded, so the same count always gives the same deals."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from domain.backtest.canonical import patch_for
from domain.document import FieldName

QUARTER = datetime(2026, 1, 5, 14, 0, tzinfo=UTC)  # a Monday, 09:00 in New York
# How long after the last close a quarter's backtest replays: its 30-day checks and their answers fit in.
SETTLE = timedelta(days=45)
MILESTONES = ["setup_complete", "training_done", "activation_achieved", "first_value"]


def deals(count: int, seed: int = 15) -> list[dict[str, Any]]:
    draw = random.Random(seed)
    return [_deal(draw, number) for number in range(count)]


def write(path: Path, count: int, seed: int = 15) -> Path:
    path.write_text("".join(json.dumps(deal) + "\n" for deal in deals(count, seed)), encoding="utf-8")
    return path


def _deal(draw: random.Random, number: int) -> dict[str, Any]:
    close = QUARTER + timedelta(days=draw.randrange(0, 84), hours=draw.randrange(0, 9), minutes=draw.choice([0, 30]))
    acv = draw.choice([8_000, 18_000, 30_000, 45_000, 70_000, 90_000, 120_000, 240_000])
    facts: dict[str, Any] = {
        "crm": "hubspot",
        "deal_id": f"{700000 + number}",
        "account": f"Account {number}",
        "acv": acv,
        "created_at": (close - timedelta(days=draw.choice([10, 45, 90]))).isoformat(),
        "closed_at": close.isoformat(),
        "ae": f"ae{number % 7}@example.com",
        "sales_manager": "sm@example.com",
        "vp_sales": "vp@example.com",
        "has_executive_sponsor": draw.random() < 0.7,
    }
    facts["sponsor_is_not_implementation_owner"] = facts["has_executive_sponsor"] and draw.random() < 0.4
    if draw.random() < 0.08:
        facts["channel_partner"] = "Northwind Partners"
    statuses = {name.value: draw.choices([1.0, 0.5, 0.0], weights=[6, 3, 1])[0] for name in FieldName}
    submitted = draw.random() < 0.75
    messages = _messages(draw, close)
    if not submitted or draw.random() < 0.3:
        # The AE completes the document a day or two after the close (or fixes what was returned).
        better = {name: max(status, draw.choice([0.5, 1.0])) for name, status in statuses.items()}
        at = (close + timedelta(seconds=draw.randrange(3600, 3 * 86_400))).isoformat()
        messages.append({"at": at, "type": "document", "body": {"fields": _texts(better), "submit": True}})
    return {
        "deal": facts,
        "statuses": statuses,
        "submitted": submitted,
        "messages": messages,
        "active_users": draw.choice([None, 0, 3, 12]),
    }


def _texts(statuses: dict[str, float]) -> dict[str, Any]:
    return patch_for({FieldName(name): status for name, status in statuses.items()}).model_dump(mode="json")


def _messages(draw: random.Random, close: datetime) -> list[dict[str, Any]]:
    def at(hours: float) -> str:
        return (close + timedelta(seconds=round(hours * 3600))).isoformat()

    found = [
        {"at": at(draw.uniform(2, 60)), "type": "intake_review", "body": {"rating": draw.choice([2, 3, 4, 4, 5])}},
        {"at": at(draw.uniform(4, 90)), "type": "first_touch", "body": {"channel": "call"}},
    ]
    if draw.random() < 0.05:
        found.append({"at": at(draw.uniform(24, 200)), "type": "stage", "body": {"stage": "lost", "kind": "lost"}})
        return found
    intro = draw.uniform(20, 160)
    found += [
        {"at": at(intro), "type": "intro", "body": {"action": "scheduled"}},
        {"at": at(intro + draw.uniform(24, 96)), "type": "intro", "body": {"action": "held"}},
        {"at": at(intro + draw.uniform(100, 250)), "type": "kickoff", "body": {}},
    ]
    for index, milestone in enumerate(MILESTONES[: draw.randrange(0, 5)]):
        found.append(
            {
                "at": at(intro + 260 + 140 * index + draw.uniform(0, 60)),
                "type": "milestone",
                "body": {"milestone": milestone},
            }
        )
    if draw.random() < 0.8:
        answers = {"enough_context": draw.random() < 0.85, "concerns": ["a concern"] * (draw.random() < 0.2)}
        found.append({"at": at(24 * 30 + draw.uniform(2, 150)), "type": "post_check", "body": answers})
    return found
