"""The handoff list from Temporal visibility: a filter built from search attributes, rows read from them.

Values are matched against a conservative pattern before they are quoted, so no input can close the
quote and change the query (the visibility grammar's escaping differs between server versions).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re

from pydantic import BaseModel
from temporalio.client import WorkflowExecution

from domain.scoring import Tier
from domain.state import Phase
from workflows import search_attributes as sa
from workflows.handoff import DealHandoffWorkflow

SAFE_VALUE = r"^[A-Za-z0-9@._+:\- ]{1,200}$"
_SAFE = re.compile(SAFE_VALUE)


class HandoffSummary(BaseModel):
    id: str
    phase: str | None
    tier: str | None
    score: float | None
    csm: str | None
    ae: str | None
    breached: bool | None


class HandoffPage(BaseModel):
    handoffs: list[HandoffSummary]
    next_page_token: str | None = None


def quote(value: str) -> str:
    if not _SAFE.match(value):
        raise ValueError(f"value must match {SAFE_VALUE}")
    return f"'{value}'"


def build_query(
    phase: Phase | None = None,
    tier: Tier | None = None,
    breached: bool | None = None,
    csm: str | None = None,
    ae: str | None = None,
) -> str:
    clauses = [f"WorkflowType = {quote(DealHandoffWorkflow.__name__)}"]
    for key, value in ((sa.PHASE, phase), (sa.TIER, tier), (sa.CSM, csm), (sa.AE, ae)):
        if value is not None:
            clauses.append(f"{key.name} = {quote(str(value))}")
    if breached is not None:
        clauses.append(f"{sa.SLA_BREACHED.name} = {'true' if breached else 'false'}")
    return " AND ".join(clauses)


def row(execution: WorkflowExecution) -> HandoffSummary:
    attrs = execution.typed_search_attributes
    return HandoffSummary(
        id=execution.id,
        phase=attrs.get(sa.PHASE),
        tier=attrs.get(sa.TIER),
        score=attrs.get(sa.SCORE),
        csm=attrs.get(sa.CSM),
        ae=attrs.get(sa.AE),
        breached=attrs.get(sa.SLA_BREACHED),
    )


_TAG = 16  # bytes of HMAC-SHA256 kept after the token


def encode_token(token: bytes | None, key: bytes) -> str | None:
    """Temporal's token with a MAC: a forged one is refused here, at once, instead of reaching a server
    that answers it with UNKNOWN, which the SDK retries for seconds before the caller gets a 5xx."""
    if not token:
        return None
    tag = hmac.new(key, token, hashlib.sha256).digest()[:_TAG]
    return base64.urlsafe_b64encode(token + tag).decode("ascii")


def decode_token(token: str | None, key: bytes) -> bytes | None:
    if not token:
        return None
    try:
        raw = base64.b64decode(token.encode("ascii"), altchars=b"-_", validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise ValueError("page_token is not a token this API returned") from None
    body, tag = raw[:-_TAG], raw[-_TAG:]
    if not body or not hmac.compare_digest(tag, hmac.new(key, body, hashlib.sha256).digest()[:_TAG]):
        raise ValueError("page_token is not a token this API returned")
    return body
