"""Sign-in by magic link: ask with an e-mail address, open the link, get a session; sign out ends it.

Opening the link shows a button rather than signing in at once: mail scanners fetch links, and a GET
must not spend the link. The answer to "send me a link" is the same whether or not the address is in
the directory, so the form cannot be used to find out who works here.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from api.pages import tokens
from api.pages.headers import client_address
from api.pages.link_delivery import LinkSender
from api.pages.rate_limit import SignInLimits
from api.pages.render import render
from api.pages.viewer import (
    SESSION_COOKIE,
    Viewer,
    check_csrf,
    clock,
    directory,
    find_viewer,
    local_path,
    require_viewer,
    secret,
    session_lifetime,
    set_session_cookie,
    settings_of,
)
from infra.page_links import public_base
from store.sessions import LinkAlreadyUsed, end_session, open_session

log = logging.getLogger("baton.pages")
router = APIRouter(include_in_schema=False)
PURPOSE = "sign-in"
LOOPBACK = ("127.0.0.1", "::1", "localhost")

Text = Annotated[str, Form(max_length=2000)]


def _limits(request: Request) -> SignInLimits:
    return request.app.state.sign_in_limits


def _too_many(request: Request, wait: int) -> Response:
    response = render(
        request, "signin.html", {"error": "Too many sign-in attempts. Try again in a few minutes."}, None, 429
    )
    response.headers["Retry-After"] = str(wait)
    return response


@router.get("/signin")
async def sign_in_form(request: Request, next: str = "/", signed_out: bool = False) -> Response:
    return render(request, "signin.html", {"next": local_path(next), "signed_out": signed_out})


@router.post("/signin")
async def ask_for_link(request: Request, email: Text, csrf: Text = "", next: Text = "/") -> Response:
    check_csrf(request, csrf)
    email = email.strip()
    if "@" not in email or len(email) > 254:
        context = {"next": local_path(next), "email": email, "error": "Enter the e-mail address you work with."}
        return render(request, "signin.html", context, None, 422)
    settings, now = settings_of(request), clock(request)
    address = client_address(request, settings.trust_proxy_headers)
    wait = _limits(request).by_client.retry_after(address, now) or _limits(request).by_address.retry_after(
        email.lower(), now
    )
    if wait:
        return _too_many(request, wait)
    person = directory(request).by_email(email)
    if person is not None:
        claims = {"p": person.id, "n": secrets.token_urlsafe(18), "next": local_path(next)}
        token = tokens.sign(secret(request), PURPOSE, claims, now + timedelta(minutes=settings.sign_in_link_minutes))
        link = f"{public_base(_base(request))}/signin/link?token={token}"
        sender: LinkSender = request.app.state.link_sender
        channels = await sender.send(person, link, settings.sign_in_link_minutes)
        if not channels and address in LOOPBACK and not settings.trust_proxy_headers:
            # One machine with no mail or Slack configured (`make run`): the person at this console is
            # the operator, and the console is the only way the link can reach them.
            log.warning("no e-mail or Slack configured for sign-in links; open this one: %s", link)
    return render(request, "signin_sent.html", {"minutes": settings.sign_in_link_minutes})


@router.get("/signin/link")
async def confirm_link(request: Request, token: str = "") -> Response:
    claims, problem, status = _read_link(request, token)
    if problem:
        return render(request, "signin.html", {"error": problem}, None, status)
    person = directory(request).person(claims["p"])
    if person is None:
        return render(
            request, "signin.html", {"error": "This link is for someone no longer in the directory."}, None, 403
        )
    return render(request, "signin_confirm.html", {"token": token, "person": person})


@router.post("/signin/link")
async def open_link(request: Request, token: Text, csrf: Text = "") -> Response:
    check_csrf(request, csrf)
    now = clock(request)
    address = client_address(request, settings_of(request).trust_proxy_headers)
    wait = _limits(request).exchanges.retry_after(address, now)
    if wait:
        return _too_many(request, wait)
    claims, problem, status = _read_link(request, token)
    if problem:
        return render(request, "signin.html", {"error": problem}, None, status)
    if directory(request).person(claims["p"]) is None:
        return render(
            request, "signin.html", {"error": "This link is for someone no longer in the directory."}, None, 403
        )
    session = secrets.token_urlsafe(32)
    try:
        await asyncio.to_thread(
            open_session,
            request.app.state.engine,
            session,
            claims["p"],
            claims["n"],
            now,
            now + session_lifetime(request),
        )
    except LinkAlreadyUsed:
        return render(request, "signin.html", {"error": "This link was already used. Ask for a new one."}, None, 409)
    response = RedirectResponse(local_path(claims.get("next")), status_code=303)
    set_session_cookie(request, response, session)
    return response


@router.post("/signout")
async def sign_out(request: Request, viewer: Annotated[Viewer, Depends(require_viewer)], csrf: Text = "") -> Response:
    check_csrf(request, csrf)
    await asyncio.to_thread(end_session, request.app.state.engine, viewer.token, clock(request))
    response = RedirectResponse("/signin?signed_out=true", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/")
async def home(request: Request) -> Response:
    viewer = await asyncio.to_thread(find_viewer, request)
    return RedirectResponse("/me" if viewer else "/signin", status_code=303)


def _read_link(request: Request, token: str) -> tuple[dict, str, int]:
    try:
        claims = tokens.verify(secret(request), PURPOSE, token, clock(request))
    except tokens.ExpiredToken:
        return {}, "This sign-in link has expired. Ask for a new one.", 410
    except tokens.BadToken:
        return {}, "This sign-in link is not valid. Ask for a new one.", 400
    if not isinstance(claims.get("p"), str) or not isinstance(claims.get("n"), str):
        return {}, "This sign-in link is not valid. Ask for a new one.", 400
    return claims, "", 200


def _base(request: Request) -> str | None:
    # Behind the proxy the configured public URL is the address people use; locally, the one they called.
    configured = request.app.state.settings.public_url
    return configured or str(request.base_url)
