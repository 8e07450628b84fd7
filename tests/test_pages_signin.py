"""Sign-in by magic link, without a Temporal server: the link works once and expires, sign-out ends the
session on the server, attempts are rate limited, and cookies are Secure behind a trusted TLS proxy."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
from temporalio.client import Client

from api.app import create_app
from api.pages.viewer import SESSION_COOKIE
from api.settings import ApiSettings
from store.migrate import upgrade
from tests.pages_rig import (
    EMAILS,
    EXAMPLE_DIRECTORY,
    SESSION_SECRET,
    TOKEN,
    RecordingSender,
    csrf_of,
    page_settings,
    sign_in,
)

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@asynccontextmanager
async def app_without_temporal(
    tmp_path, **page_overrides
) -> AsyncIterator[tuple[httpx.AsyncClient, RecordingSender, Clock]]:
    url = f"sqlite:///{tmp_path / 'baton.db'}"
    upgrade(url)
    client = await Client.connect("127.0.0.1:1", lazy=True)
    app = create_app(settings=ApiSettings(database_url=url, session_secret=SESSION_SECRET), client=client)
    app.state.page_settings = page_settings(**page_overrides)
    sender, clock = RecordingSender(), Clock()
    app.state.link_sender, app.state.page_clock = sender, clock
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http, sender, clock


async def ask(
    http: httpx.AsyncClient, email: str, next_path: str = "/me", headers: dict | None = None
) -> httpx.Response:
    form = await http.get("/signin")
    data = {"email": email, "csrf": csrf_of(form.text), "next": next_path}
    return await http.post("/signin", data=data, headers=headers or {})


def link_path(link: str) -> str:
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}"


async def exchange(http: httpx.AsyncClient, link: str) -> httpx.Response:
    opened = await http.get(link_path(link))
    token = TOKEN.search(opened.text)
    assert token, opened.text
    return await http.post("/signin/link", data={"token": token.group(1), "csrf": csrf_of(opened.text)})


async def test_a_link_signs_in_once_and_goes_where_the_person_was_going(tmp_path):
    async with app_without_temporal(tmp_path) as (http, sender, _):
        answer = await ask(http, "  MARIA.LOPEZ@example.com ", next_path="/queue?team=enterprise")
        assert answer.status_code == 200 and "Check your inbox" in answer.text
        link = sender.last("maria")
        assert link.startswith("http://test/signin/link?token=")
        confirm = await http.get(link_path(link))
        assert "Sign in as Maria Lopez?" in confirm.text and SESSION_COOKIE not in http.cookies  # a GET spends nothing
        signed_in = await exchange(http, link)
        assert signed_in.status_code == 303 and signed_in.headers["location"] == "/queue?team=enterprise"
        cookie = signed_in.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
        assert (await http.get("/me")).status_code == 200
        again = await exchange(httpx_clone(http), link)
        assert again.status_code == 409 and "already used" in again.text


def httpx_clone(http: httpx.AsyncClient) -> httpx.AsyncClient:
    """Another browser on the same app (no cookies)."""
    return httpx.AsyncClient(transport=http._transport, base_url="http://test")


async def test_unknown_addresses_get_the_same_answer_and_no_link(tmp_path):
    async with app_without_temporal(tmp_path) as (http, sender, _):
        known, unknown = await ask(http, EMAILS["lena"]), await ask(http, "nobody@example.com")
        assert known.status_code == unknown.status_code == 200
        assert known.text == unknown.text
        assert list(sender.links) == ["lena"]
        assert (await ask(http, "not an address")).status_code == 422


async def test_expired_forged_and_other_kinds_of_token_are_refused(tmp_path):
    async with app_without_temporal(tmp_path) as (http, sender, clock):
        await ask(http, EMAILS["maria"])
        link = sender.last("maria")
        clock.now = NOW + timedelta(minutes=16)
        expired = await http.get(link_path(link))
        assert expired.status_code == 410 and "expired" in expired.text
        token = parse_qs(urlsplit(link).query)["token"][0]
        body, _, mac = token.partition(".")
        forged = await http.get(f"/signin/link?token={body}.{mac[::-1]}")
        assert forged.status_code == 400
        assert (await http.get("/signin/link?token=")).status_code == 400
        # A customer's link is signed too, but for another purpose: it never signs anyone in.
        assert (await http.get("/signin/link?token=e30.AAAA")).status_code == 400


async def test_sign_out_ends_the_session_on_the_server(tmp_path):
    async with app_without_temporal(tmp_path) as (http, sender, _):
        await sign_in(http, sender, "maria")
        stolen = http.cookies[SESSION_COOKIE]
        home = await http.get("/me")
        out = await http.post("/signout", data={"csrf": csrf_of(home.text)})
        assert out.status_code == 303 and out.headers["location"] == "/signin?signed_out=true"
        replay = httpx_clone(http)
        replay.cookies.set(SESSION_COOKIE, stolen)
        assert (await replay.get("/me")).status_code == 303
        tampered = httpx_clone(http)
        token, _, signature = stolen.partition(".")
        tampered.cookies.set(SESSION_COOKIE, f"{token}x.{signature}")
        assert (await tampered.get("/me")).status_code == 303


async def test_sessions_expire(tmp_path):
    async with app_without_temporal(tmp_path, session_hours=2) as (http, sender, clock):
        await sign_in(http, sender, "maria")
        clock.now = NOW + timedelta(hours=1, minutes=59)
        assert (await http.get("/me")).status_code == 200
        clock.now = NOW + timedelta(hours=2)
        assert (await http.get("/me")).status_code == 303


async def test_sign_in_attempts_are_rate_limited(tmp_path):
    async with app_without_temporal(tmp_path) as (http, sender, clock):
        answers = [await ask(http, EMAILS["maria"]) for _ in range(6)]
        assert [a.status_code for a in answers] == [200] * 5 + [429]
        assert int(answers[-1].headers["Retry-After"]) > 0 and len(sender.links["maria"]) == 5
        # Ten per client address: the six above count, whichever address they named.
        others = [await ask(http, f"person{i}@example.com") for i in range(5)]
        assert [a.status_code for a in others] == [200] * 4 + [429]
        clock.now = NOW + timedelta(minutes=16)
        assert (await ask(http, EMAILS["maria"])).status_code == 200


async def test_secure_cookie_only_behind_a_trusted_tls_proxy(tmp_path):
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7, 10.0.0.2"}
    async with app_without_temporal(tmp_path, trust_proxy_headers=True) as (http, sender, _):
        await ask(http, EMAILS["maria"], headers=forwarded)
        opened = await http.get(link_path(sender.last("maria")), headers=forwarded)
        token = TOKEN.search(opened.text)
        answer = await http.post(
            "/signin/link", data={"token": token.group(1), "csrf": csrf_of(opened.text)}, headers=forwarded
        )
        assert "Secure" in answer.headers["set-cookie"]
        assert answer.headers["strict-transport-security"].startswith("max-age=")
    async with app_without_temporal(tmp_path) as (http, sender, _):
        spoofed = await http.get("/signin", headers=forwarded)
        assert "strict-transport-security" not in spoofed.headers


async def test_only_local_paths_are_followed_after_sign_in(tmp_path):
    async with app_without_temporal(tmp_path) as (http, sender, _):
        for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
            await ask(http, EMAILS["maria"], next_path=target)
            answer = await exchange(httpx_clone(http), sender.last("maria"))
            assert answer.headers["location"] == "/"


async def test_a_person_removed_from_the_directory_is_signed_out(tmp_path):
    directory = tmp_path / "people.yaml"
    directory.write_text(EXAMPLE_DIRECTORY.read_text())
    async with app_without_temporal(tmp_path, directory=str(directory)) as (http, sender, _):
        await sign_in(http, sender, "sam")
        assert (await http.get("/me")).status_code == 200
        text = directory.read_text()
        text = re.sub(r"  - \{id: sam,.*?\n(?=  - )", "", text, flags=re.S).replace("aes: [maria, sam]", "aes: [maria]")
        text = text.replace(", delegate: maria}", "}")
        directory.write_text(text)
        assert (await http.get("/me")).status_code == 303


async def test_forms_from_another_site_are_refused_and_a_tls_proxy_is_not_another_site(tmp_path):
    async with app_without_temporal(tmp_path) as (http, sender, _):
        form = await http.get("/signin")
        data = {"email": EMAILS["maria"], "csrf": csrf_of(form.text)}
        assert (await http.post("/signin", data=data, headers={"Origin": "https://evil.example"})).status_code == 403
        assert (await http.post("/signin", data=data, headers={"Origin": "https://test"})).status_code == 200
        operator = await http.post("/auth/session", data={"key": "x"}, headers={"Origin": "https://evil.example"})
        assert operator.status_code == 403
        assert (
            await http.post("/auth/session", data={"key": "x"}, headers={"Origin": "https://test"})
        ).status_code == 401
