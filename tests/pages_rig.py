"""The pages in process on a test worker: a directory of people, a policy whose CS teams are those
people, sign-in through the real magic-link flow with a sender that keeps the links, and a clock."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from fastapi import FastAPI

from api.app import create_app
from api.pages.settings import PageSettings
from domain.approach_kinds import Approach
from domain.deal import Deal
from domain.directory import Person
from domain.policy import Policy
from domain.teams import Csm, CsTeam
from tests.api_rig import settings_for
from tests.conftest import Rig
from tests.handoffs import deal

EXAMPLE_DIRECTORY = Path(__file__).resolve().parent.parent / "examples" / "directory.yaml"
SESSION_SECRET = "test-session-secret-5b1f0e7d9a"
# maria is an AE (HubSpot owner 61234567), sam another AE; lena leads every CS team, carl manages them;
# priya and tom are mid-market CSMs, erin the enterprise CSM; dan the sales manager, vera the VP, rita RevOps.
MARIA_OWNER_ID = "61234567"
EMAILS = {
    "maria": "maria.lopez@example.com",
    "sam": "sam.okafor@example.com",
    "lena": "lena.fischer@example.com",
    "carl": "carl.mensah@example.com",
    "priya": "priya.raman@example.com",
    "tom": "tom.becker@example.com",
    "erin": "erin.walsh@example.com",
    "dan": "dan.kim@example.com",
    "vera": "vera.novak@example.com",
    "rita": "rita.osei@example.com",
    "pam": "pam.ito@example.com",
}


def directory_policy() -> Policy:
    """CS teams whose CSMs are the example directory's people, so assignment by rule names a person."""
    return Policy(
        teams=[
            CsTeam(name="scale", approaches=[Approach.AUTOMATED], csms=[Csm(id="priya", capacity=60)]),
            CsTeam(
                name="mid-market",
                approaches=[Approach.STRUCTURED, Approach.INTERNAL, Approach.PARTNER_MEDIATED],
                csms=[Csm(id="priya"), Csm(id="tom")],
            ),
            CsTeam(name="enterprise", approaches=[Approach.WHITE_GLOVE], csms=[Csm(id="erin", capacity=10)]),
        ]
    )


def maria_deal(**fields) -> Deal:
    return deal(
        closed_at=fields.pop("closed_at", datetime.now(UTC)), ae=MARIA_OWNER_ID, sales_manager="", vp_sales="", **fields
    )


@dataclass
class RecordingSender:
    """Keeps each sign-in link instead of mailing it (the SMTP and Slack senders have their own tests)."""

    links: dict[str, list[str]] = field(default_factory=dict)

    async def send(self, person: Person, link: str, minutes: int) -> list[str]:
        self.links.setdefault(person.id, []).append(link)
        return ["recorded"]

    def last(self, person_id: str) -> str:
        return self.links[person_id][-1]


def page_settings(**overrides) -> PageSettings:
    return PageSettings(**{"directory": str(EXAMPLE_DIRECTORY), **overrides})


def build_app(rig: Rig, page_overrides: dict | None = None, **api_overrides) -> tuple[FastAPI, RecordingSender]:
    app = create_app(settings=settings_for(rig, session_secret=SESSION_SECRET, **api_overrides), client=rig.client)
    app.state.page_settings = page_settings(**(page_overrides or {}))
    sender = RecordingSender()
    app.state.link_sender = sender
    return app, sender


@dataclass
class Pages:
    app: FastAPI
    sender: RecordingSender
    rig: Rig
    base_url: str = "http://test"

    def client(self) -> httpx.AsyncClient:
        """A browser of its own: its own cookie jar."""
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url=self.base_url)

    async def signed_in(self, person_id: str) -> httpx.AsyncClient:
        http = self.client()
        await sign_in(http, self.sender, person_id)
        return http


@asynccontextmanager
async def running_pages(rig: Rig, page_overrides: dict | None = None, **api_overrides) -> AsyncIterator[Pages]:
    app, sender = build_app(rig, page_overrides, **api_overrides)
    app.state.policy = directory_policy()
    async with app.router.lifespan_context(app):
        app.state.policy = directory_policy()
        yield Pages(app, sender, rig)


CSRF = re.compile(r'name="csrf" value="([^"]+)"')
TOKEN = re.compile(r'name="token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF field on the page"
    return found.group(1)


async def sign_in(http: httpx.AsyncClient, sender: RecordingSender, person_id: str) -> None:
    """As a person does it: the form, the link from their inbox, the button."""
    form = await http.get("/signin")
    asked = await http.post("/signin", data={"email": EMAILS[person_id], "csrf": csrf_of(form.text), "next": "/me"})
    assert asked.status_code == 200, asked.text
    link = sender.last(person_id)
    parts = urlsplit(link)
    opened = await http.get(f"{parts.path}?{parts.query}")
    assert opened.status_code == 200, opened.text
    token = TOKEN.search(opened.text)
    assert token
    exchanged = await http.post("/signin/link", data={"token": token.group(1), "csrf": csrf_of(opened.text)})
    assert exchanged.status_code == 303, exchanged.text
