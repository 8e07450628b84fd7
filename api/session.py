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
import secrets
import time
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request, Response
from fastapi.responses import HTMLResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.deps import SettingsDep, caller_roles, check_roles

COOKIE = "baton_session"
LIFETIME_SECONDS = 8 * 3600

router = APIRouter(prefix="/auth", tags=["session"])
_bearer = HTTPBearer(auto_error=False)


def _secret(request: Request) -> bytes:
    """From BATON_SESSION_SECRET when set (sessions survive restarts and replicas), else per process."""
    settings = request.app.state.settings
    configured = settings.session_secret.get_secret_value() if hasattr(settings, "session_secret") else ""
    if configured:
        return configured.encode()
    if not hasattr(request.app.state, "session_secret"):
        request.app.state.session_secret = secrets.token_bytes(32)
    return request.app.state.session_secret


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


_LOGIN_PAGE = """<!doctype html><html><head><title>Baton sign-in</title></head>
<body style="font-family: sans-serif; max-width: 32rem; margin: 4rem auto">
<h1>Baton</h1><p>Sign in with an operator API key so the Temporal UI can decode payloads.</p>
<form method="post" action="/auth/session"><input name="key" type="password" size="48" autofocus>
<button type="submit">Sign in</button></form></body></html>"""


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
async def login_page() -> str:
    return _LOGIN_PAGE


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


@router.delete(
    "/session", summary="Sign out", description="Unauthenticated: clears the session cookie.", include_in_schema=False
)
async def sign_out(response: Response) -> dict[str, str]:
    response.delete_cookie(COOKIE)
    return {"status": "signed out"}
