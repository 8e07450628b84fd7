"""A signed-in browser session, so the Temporal UI can reach the codec server with a cookie.

The UI cannot send a bearer key to a codec endpoint; it can send cookies ("include cross-origin
credentials"). An operator signs in once at /auth/login with their key; the cookie carries their roles,
an expiry and an HMAC, never the key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request, Response
from fastapi.responses import HTMLResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.deps import SettingsDep, caller_roles, check_roles

log = logging.getLogger("baton.api")

COOKIE = "baton_session"
LIFETIME_SECONDS = 8 * 3600

router = APIRouter(prefix="/auth", tags=["session"])
_bearer = HTTPBearer(auto_error=False)


def session_secret(state: Any) -> bytes:
    """From BATON_SESSION_SECRET when set (`make run` keeps one in .baton/session.secret), so cookies and
    sign-in links survive restarts and replicas; else random per process, and a restart signs everyone out."""
    settings = state.settings
    configured = settings.session_secret.get_secret_value() if hasattr(settings, "session_secret") else ""
    if configured:
        return configured.encode()
    if not hasattr(state, "session_secret"):
        log.warning("BATON_SESSION_SECRET is not set: sessions and sign-in links end when this process stops")
        state.session_secret = secrets.token_bytes(32)
    return state.session_secret


def _secret(request: Request) -> bytes:
    return session_secret(request.app.state)


def issue(roles: frozenset[str], secret: bytes, now: float) -> str:
    body = base64.urlsafe_b64encode(json.dumps({"r": sorted(roles), "exp": int(now + LIFETIME_SECONDS)}).encode())
    mac = hmac.new(secret, body, hashlib.sha256).hexdigest()
    return f"{body.decode()}.{mac}"


def verify(token: str, secret: bytes, now: float) -> frozenset[str]:
    """The roles a valid, unexpired token carries; empty for anything else."""
    body, _, mac = token.partition(".")
    if not hmac.compare_digest(hmac.new(secret, body.encode(), hashlib.sha256).hexdigest(), mac):
        return frozenset()
    try:
        claims = json.loads(base64.urlsafe_b64decode(body.encode()))
    except ValueError:
        return frozenset()
    if not isinstance(claims, dict) or claims.get("exp", 0) < now:
        return frozenset()
    return frozenset(role for role in claims.get("r", []) if isinstance(role, str))


def require_session_or_roles(*allowed: str):
    """A signed-in session with one of `allowed`, or else a bearer key checked as usual."""

    def check(
        request: Request,
        settings: SettingsDep,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> frozenset[str]:
        token = request.cookies.get(COOKIE)
        if token and credentials is None:
            roles = verify(token, _secret(request), time.time())
            if roles & set(allowed):
                return roles
            if roles:
                raise HTTPException(403, f"this needs one of the roles: {', '.join(allowed)}")
        return check_roles(settings, credentials, allowed)

    return check


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
async def login_page(request: Request) -> HTMLResponse:
    from api.pages.render import render

    return render(request, "operator_signin.html", {})


@router.post(
    "/session",
    summary="Sign in: a session cookie for the browser",
    description="Unauthenticated: the form's `key` is an API key; the cookie carries that key's roles "
    "(the Temporal UI sends it to the codec endpoints).",
    include_in_schema=False,  # a browser form, not part of the integration API
)
async def sign_in(
    request: Request, response: Response, settings: SettingsDep, key: Annotated[str, Form(min_length=1, max_length=512)]
) -> dict[str, list[str]]:
    _same_site_form(request)
    roles = caller_roles(settings, key)
    if not roles:
        raise HTTPException(401, "unknown API key")
    # SameSite=Lax: the UI (another port on the same host) is the same site, so its fetches carry it.
    response.set_cookie(
        COOKIE,
        issue(roles, _secret(request), time.time()),
        max_age=LIFETIME_SECONDS,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return {"roles": sorted(roles)}


def _same_site_form(request: Request) -> None:
    """The operator form has no CSRF token (the Temporal UI's own requests never post it): a browser
    names the page a form came from in Origin, and a page of another site is refused."""
    from api.pages.viewer import same_site

    if not same_site(request):
        raise HTTPException(403, "this form was sent from another site")


@router.delete(
    "/session", summary="Sign out", description="Unauthenticated: clears the session cookie.", include_in_schema=False
)
async def sign_out(response: Response) -> dict[str, str]:
    response.delete_cookie(COOKIE)
    return {"status": "signed out"}
