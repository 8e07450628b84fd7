"""Checks that a webhook really comes from the CRM configured for it. Pure and constant-time: the
caller passes the clock and the raw body, so a test can pin both."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from urllib.parse import urlsplit, urlunsplit

from domain.ids import normalise_salesforce_id

# HubSpot signs the URI after decoding exactly these escapes (its "request validation" page); any
# other escape (%20, %26, %3D ...) stays as sent, or the signature would not match.
_HUBSPOT_DECODED = {
    "3A": ":", "2F": "/", "3F": "?", "40": "@", "21": "!", "24": "$",
    "27": "'", "28": "(", "29": ")", "2A": "*", "2C": ",", "3B": ";",
}  # fmt: skip
_HUBSPOT_ESCAPE = re.compile("%(" + "|".join(_HUBSPOT_DECODED) + ")", re.IGNORECASE)


class SignatureError(Exception):
    """Refused as not from the CRM; `reason` is short and safe to log or return."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _same(given: str, expected: str) -> bool:
    # Bytes, because compare_digest refuses non-ASCII str and a header can carry anything.
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def _configured(secret: str) -> None:
    # An empty secret would make a forged signature easy to compute: fail closed instead.
    if not secret:
        raise SignatureError("not configured")


def hubspot_signed_uri(uri: str) -> str:
    return _HUBSPOT_ESCAPE.sub(lambda m: _HUBSPOT_DECODED[m.group(1).upper()], uri)


def verify_hubspot_v3(
    secret: str,
    method: str,
    uri: str,
    body: bytes,
    timestamp: str | None,
    signature: str | None,
    now_ms: int,
    max_age_ms: int = 300_000,
) -> None:
    """X-HubSpot-Signature-v3: base64 HMAC-SHA256 of method + URI + body + X-HubSpot-Request-Timestamp."""
    _configured(secret)
    if not signature:
        raise SignatureError("missing signature")
    if not timestamp:
        raise SignatureError("missing timestamp")
    try:
        sent_ms = int(timestamp.strip())
    except ValueError:
        raise SignatureError("bad timestamp") from None
    # The timestamp is signed, so bounding its age is what makes a captured request unreplayable;
    # the future bound keeps a skewed or forged clock from buying a longer window.
    if now_ms - sent_ms > max_age_ms:
        raise SignatureError("stale timestamp")
    if sent_ms - now_ms > max_age_ms:
        raise SignatureError("future timestamp")
    message = (method.upper() + hubspot_signed_uri(uri)).encode("utf-8") + body + timestamp.strip().encode()
    expected = base64.b64encode(hmac.new(secret.encode("utf-8"), message, hashlib.sha256).digest())
    if not _same(signature.strip(), expected.decode("ascii")):
        raise SignatureError("bad signature")


def verify_hubspot_v2(secret: str, method: str, uri: str, body: bytes, signature: str | None) -> None:
    """X-HubSpot-Signature (version v2), as workflow webhooks send it: hex SHA-256 of
    secret + method + URI + body. The URI must be exactly the one HubSpot called."""
    _configured(secret)
    if not signature:
        raise SignatureError("missing signature")
    expected = hashlib.sha256((secret + method.upper() + uri).encode("utf-8") + body).hexdigest()
    if not _same(signature.strip().lower(), expected):
        raise SignatureError("bad signature")


def public_uri(public_base: str | None, request_url: str) -> str:
    """The URL HubSpot called. Behind a proxy the app sees its own scheme and host, so they come
    from BATON_PUBLIC_URL; path and query are the request's, byte for byte, as they are signed."""
    if not public_base:
        return request_url
    base = urlsplit(public_base)
    request = urlsplit(request_url)
    prefix = base.path.rstrip("/")
    # A proxy mounting Baton under a prefix may strip it before the app sees the path.
    path = request.path if not prefix or request.path.startswith(prefix + "/") else prefix + request.path
    return urlunsplit((base.scheme, base.netloc, path, request.query, ""))


def verify_basic_auth(header: str | None, user: str, password: str) -> None:
    _configured(password)
    if not header:
        raise SignatureError("missing credentials")
    scheme, _, encoded = header.strip().partition(" ")
    try:
        given_user, sep, given_password = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise SignatureError("bad credentials") from None
    # Both comparisons always run, so the time taken does not tell which half was wrong.
    user_ok = _same(given_user, user)
    password_ok = _same(given_password, password)
    if scheme.lower() != "basic" or not sep or not (user_ok & password_ok):
        raise SignatureError("bad credentials")


def check_salesforce_org(org_id: str | None, expected: str) -> None:
    """Outbound messages carry the sending org; Setup shows 15 characters, the message 18."""
    _configured(expected)
    if not org_id:
        raise SignatureError("missing organization")
    try:
        given, wanted = normalise_salesforce_id(org_id), normalise_salesforce_id(expected)
    except ValueError:
        raise SignatureError("bad organization id") from None
    if not _same(given, wanted):
        raise SignatureError("wrong organization")


def compare_token(given: str | None, expected: str) -> None:
    _configured(expected)
    if not given:
        raise SignatureError("missing token")
    if not _same(given.strip(), expected):
        raise SignatureError("bad token")
