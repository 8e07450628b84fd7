"""Who is looking: the signed-in person behind the session cookie, and the CSRF token of their forms.

The cookie holds a random token and its MAC; the token's digest keys the server-side record
(store.sessions), which sign-out ends. A person removed from the directory is signed out with it.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlsplit

from fastapi import Request, Response
from sqlalchemy.engine import Engine

from api.pages import tokens
from api.pages.errors import PageError
from api.pages.headers import effective_scheme
from api.pages.settings import PageSettings
from api.session import session_secret
from domain.directory import Directory, DirectoryError, DirectoryRole, Person
from infra.directory_file import read_directory
from store.sessions import active_person

SESSION_COOKIE = "baton_person"
CSRF_COOKIE = "baton_csrf"
CSRF_FIELD = "csrf"


@dataclass(frozen=True)
class Viewer:
    person: Person
    roles: frozenset[DirectoryRole]
    directory: Directory
    token: str


class SignInRequired(Exception):
    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


def settings_of(request: Request) -> PageSettings:
    return request.app.state.page_settings


def clock(request: Request) -> datetime:
    now: Callable[[], datetime] = getattr(request.app.state, "page_clock", lambda: datetime.now(UTC))
    return now()


def secret(request: Request) -> bytes:
    return session_secret(request.app.state)


def directory(request: Request) -> Directory:
    try:
        return read_directory(settings_of(request).directory)
    except DirectoryError:
        # Nobody can be authorised against a directory that does not parse; `baton directory check` says why.
        raise PageError(503, "The people directory cannot be read; ask an operator to check it.") from None


def is_secure(request: Request) -> bool:
    return effective_scheme(request.scope, settings_of(request).trust_proxy_headers) == "https"


def session_token(request: Request) -> str | None:
    value = request.cookies.get(SESSION_COOKIE, "")
    token, _, signature = value.partition(".")
    if not token or not secrets.compare_digest(signature, tokens.mac(secret(request), "session", token)):
        return None
    return token


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    hours = settings_of(request).session_hours
    response.set_cookie(
        SESSION_COOKIE,
        f"{token}.{tokens.mac(secret(request), 'session', token)}",
        max_age=hours * 3600,
        httponly=True,
        # Lax: a link opened from Slack or an e-mail is a top-level navigation and carries the cookie.
        samesite="lax",
        secure=is_secure(request),
        path="/",
    )


def find_viewer(request: Request) -> Viewer | None:
    """Sync on purpose: FastAPI runs it in a worker thread, so the session lookup never blocks the loop."""
    token = session_token(request)
    if token is None:
        return None
    engine: Engine = request.app.state.engine
    person_id = active_person(engine, token, clock(request))
    if person_id is None:
        return None
    people = directory(request)
    person = people.person(person_id)
    if person is None:
        return None
    return Viewer(person=person, roles=people.roles_of(person.id), directory=people, token=token)


def local_path(candidate: str | None) -> str:
    """Only a path on this site is followed after sign-in (never `//host` or a scheme)."""
    if not candidate or not candidate.startswith("/") or candidate.startswith("//") or "\\" in candidate:
        return "/"
    parts = urlsplit(candidate)
    if parts.scheme or parts.netloc:
        return "/"
    return candidate


def require_viewer(request: Request) -> Viewer:
    viewer = find_viewer(request)
    if viewer is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequired(target)
    return viewer


def sign_in_redirect(next_path: str) -> str:
    return f"/signin?next={quote(local_path(next_path), safe='')}"


# ---- CSRF ----------------------------------------------------------------------------------------


def csrf_token(request: Request) -> str:
    """Bound to the session when signed in, else to a random cookie set with the form (signed double
    submit): a page of another site can neither read nor forge it."""
    token = session_token(request)
    if token is None:
        token = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf_nonce", None)
        if token is None:
            token = secrets.token_urlsafe(24)
            request.state.new_csrf_nonce = token
        token = "anon:" + token
    return tokens.mac(secret(request), "csrf", token)


def set_csrf_cookie(request: Request, response: Response) -> None:
    nonce = getattr(request.state, "new_csrf_nonce", None)
    if nonce:
        response.set_cookie(
            CSRF_COOKIE, nonce, httponly=True, samesite="strict", secure=is_secure(request), path="/", max_age=86400
        )


def check_csrf(request: Request, submitted: object) -> None:
    """403 unless the form's token matches, and the Origin (when the browser sends one) is this site."""
    if not same_site(request):
        raise PageError(403, "This form was sent from another site.")
    if not isinstance(submitted, str) or not secrets.compare_digest(submitted, csrf_token(request)):
        raise PageError(403, "This form has expired or did not come from Baton. Reload the page and try again.")


def same_site(request: Request) -> bool:
    """A browser names the page a form came from in Origin; its host must be the one it posted to. The
    scheme is not compared: behind a TLS proxy the API itself sees plain HTTP."""
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return True
    return urlsplit(origin).netloc.lower() == request.headers.get("host", "").lower()


def session_lifetime(request: Request) -> timedelta:
    return timedelta(hours=settings_of(request).session_hours)
