"""Signed, expiring tokens for links and forms: a sign-in link, a customer's link, a form's CSRF token.

Each kind is signed with its own key derived from the session secret, so a token of one kind is never
accepted as another. The payload is readable (base64 JSON): it holds ids and an expiry, no secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime
from typing import Any


class BadToken(ValueError):
    """Forged, malformed or of another kind."""


class ExpiredToken(ValueError):
    """Genuine, but past its expiry."""


def derive(secret: bytes, purpose: str) -> bytes:
    return hmac.new(secret, f"baton-pages:{purpose}".encode(), hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(secret: bytes, purpose: str, claims: dict[str, Any], expires_at: datetime) -> str:
    body = _b64(json.dumps({**claims, "exp": int(expires_at.timestamp())}, separators=(",", ":")).encode())
    mac = _b64(hmac.new(derive(secret, purpose), body.encode(), hashlib.sha256).digest())
    return f"{body}.{mac}"


def verify(secret: bytes, purpose: str, token: str, now: datetime) -> dict[str, Any]:
    body, _, mac = token.partition(".")
    expected = _b64(hmac.new(derive(secret, purpose), body.encode(), hashlib.sha256).digest())
    if not body or not hmac.compare_digest(expected.encode(), mac.encode()):
        raise BadToken("this link is not valid")
    try:
        claims = json.loads(_unb64(body))
    except ValueError:
        raise BadToken("this link is not valid") from None
    if not isinstance(claims, dict) or not isinstance(claims.get("exp"), int):
        raise BadToken("this link is not valid")
    if claims["exp"] <= now.timestamp():
        raise ExpiredToken("this link has expired")
    return claims


def mac(secret: bytes, purpose: str, value: str) -> str:
    """A keyed digest of `value`: the session cookie's signature and the CSRF token."""
    return _b64(hmac.new(derive(secret, purpose), value.encode(), hashlib.sha256).digest())
