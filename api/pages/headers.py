"""Hardening headers on every response, and the request's scheme and client as the TLS proxy saw them.

A pure ASGI middleware (no per-request task or body copy, unlike BaseHTTPMiddleware): it only adds
headers a route did not set itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.requests import Request

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]]

# No inline script anywhere: every script is a file served by Baton itself.
PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
# Swagger UI and ReDoc set styles at run time (ReDoc injects <style> elements) and ReDoc searches in a
# worker started from a blob: URL; still no inline or remote script.
DOCS_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
DOCS_PATHS = ("/docs", "/redoc")
HSTS = "max-age=31536000"
_COMMON = (
    (b"x-content-type-options", b"nosniff"),
    # Sign-in and customer links carry their token in the path: never send it on as a Referer.
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
)


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return ""


def effective_scheme(scope: Scope, trust_proxy: bool) -> str:
    """The scheme the person's browser used: the proxy's X-Forwarded-Proto when it is trusted."""
    if trust_proxy:
        forwarded = _header(scope, b"x-forwarded-proto").split(",")[0].strip().lower()
        if forwarded in ("http", "https"):
            return forwarded
    return str(scope.get("scheme", "http"))


def client_address(request: Request, trust_proxy: bool) -> str:
    """The address the trusted proxy appended last (earlier entries are whatever the client sent)."""
    if trust_proxy:
        hops = [hop.strip() for hop in request.headers.get("x-forwarded-for", "").split(",") if hop.strip()]
        if hops:
            return hops[-1]
    return request.client.host if request.client else "unknown"


class SecurityHeaders:
    def __init__(self, app: ASGIApp, trust_proxy: Callable[[], bool]) -> None:
        self.app = app
        self.trust_proxy = trust_proxy

    async def __call__(self, scope: Scope, receive: Callable[[], Awaitable[Message]], send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        policy = DOCS_POLICY if path.startswith(DOCS_PATHS) else PAGE_POLICY
        secure = effective_scheme(scope, self.trust_proxy()) == "https"

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {key.lower() for key, _ in headers}
                extra = [*_COMMON, (b"content-security-policy", policy.encode())]
                if secure:
                    extra.append((b"strict-transport-security", HSTS.encode()))
                headers += [(key, value) for key, value in extra if key not in present]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)
