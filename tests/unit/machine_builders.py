"""Handoff machines at fixed instants, driven only through the machine's public surface.

Every test starts from one close, so expected instants can be worked by hand: Friday 6 March 2026,
15:00 in New York (EST, UTC-5), two days before the clocks go forward (Sunday 8 March, 02:00 EST
becomes 03:00 EDT, UTC-4). CLOSE is written in UTC so that `CLOSE + 72 * H` is 72 elapsed hours:
Python adds to a New York datetime by wall clock, which is an hour off across the change.
"""

from __future__ import annotations

import weakref
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from domain.deal import Deal
from domain.directory import Directory
from domain.document import HandoffDocument
from domain.effects import Effect, Notify
from domain.machine import HandoffMachine
from domain.messages import IntakeReviewInput, IntroAction, IntroUpdate
from domain.policy import Policy
from domain.recipients import Audience, resolve
from domain.timeline import Kind, TimelineEntry
from tests.handoffs import READY_DOCUMENT, deal

NY = ZoneInfo("America/New_York")
CLOSE = datetime(2026, 3, 6, 20, 0, tzinfo=UTC)  # Friday 15:00 EST
CREATED = CLOSE - timedelta(days=60)
H = timedelta(hours=1)
D = timedelta(days=1)


def utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def won_deal(**fields: Any) -> Deal:
    """A structured deal (ACV 50,000) closed at CLOSE; fields override."""
    values: dict[str, Any] = {"closed_at": CLOSE, "created_at": CREATED, "deal_id": "4242"}
    values.update(fields)
    return deal(**values)


def open_deal(**fields: Any) -> Deal:
    """The same deal before its close (a pre-close start)."""
    return won_deal(closed_at=None, **fields)


def machine(
    document: HandoffDocument | None = READY_DOCUMENT,
    *,
    won: bool = True,
    policy: Policy | None = None,
    now: datetime = CLOSE,
    people_rules: bool = True,
    **deal_fields: Any,
) -> HandoffMachine:
    """A machine started as the workflow starts it: new, then start with the fetched deal.
    `people_rules=False`: a run started before notices went to people (its rules are kept as they were)."""
    d = won_deal(**deal_fields) if won else open_deal(**deal_fields)
    m = HandoffMachine.new(f"baton-{d.crm}-{d.deal_id}", d, policy or Policy(), people_rules=people_rules)
    m.start(d, document, won, now)
    return m


def briefed(m: HandoffMachine, at: datetime, rating: int = 4) -> HandoffMachine:
    """The CSM accepts the document (intake review): the handoff moves to its intro or kickoff."""
    m.check_intake(IntakeReviewInput(rating=rating))
    m.apply_intake(IntakeReviewInput(rating=rating, by="csm-mm-1"), at)
    return m


def intro_held(m: HandoffMachine, scheduled_at: datetime, held_at: datetime) -> HandoffMachine:
    for action, at in ((IntroAction.SCHEDULED, scheduled_at), (IntroAction.HELD, held_at)):
        m.check_intro(IntroUpdate(action=action))
        m.apply_intro(IntroUpdate(action=action), at)
    return m


# The notices each machine has had resolved, so a second look does not record them twice.
_addressed: weakref.WeakKeyDictionary[HandoffMachine, set[str]] = weakref.WeakKeyDictionary()


def address_notices(m: HandoffMachine, directory: Directory | None = None) -> HandoffMachine:
    """Resolve the notices asked for so far, as the workflow's resolve step would as it sends them
    (at the machine's current instant; an empty directory by default, where the deal's addresses are
    still people and role names reach nobody)."""
    done = _addressed.setdefault(m, set())
    for effect in list(m.effects):
        if isinstance(effect, Notify) and not effect.addressed and effect.key not in done:
            done.add(effect.key)
            day = m.now.astimezone(m.policy.calendar.tz).date()
            resolution = resolve([Audience(p) for p in effect.to], m.people(), directory or Directory(), day)
            m.notice_addressed(effect, resolution, m.now)
    return m


def kinds(m: HandoffMachine) -> list[Kind]:
    address_notices(m)
    return [entry.kind for entry in m.state.timeline]


def entries(m: HandoffMachine, kind: Kind, **details: Any) -> list[TimelineEntry]:
    """Timeline entries of `kind` whose details include `details` (the notices resolved first)."""
    address_notices(m)
    return [
        e
        for e in m.state.timeline
        if e.kind is kind and all(e.details.get(key) == value for key, value in details.items())
    ]


E = TypeVar("E", bound=Effect)


def effects_of(m: HandoffMachine, kind: type[E]) -> list[E]:
    return [effect for effect in m.effects if isinstance(effect, kind)]


def notified(m: HandoffMachine) -> list[str]:
    """The events of the notifications the machine asked for, in order."""
    return [effect.event for effect in m.effects if isinstance(effect, Notify)]


def notified_people(m: HandoffMachine, event: str) -> list[list[str]]:
    """Whom each `event` notice went to, as its `notified` entry says once resolved (people, never roles)."""
    return [e.details["to"] for e in entries(m, Kind.NOTIFIED, event=event)]
