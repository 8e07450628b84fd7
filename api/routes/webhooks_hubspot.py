"""HubSpot: the webhooks-API batch (signature v3) and a workflow's "Send a webhook" action (v2)."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Header, Request

from api import examples
from api.crm import (
    SignatureError,
    parse_hubspot_batch,
    parse_hubspot_workflow,
    public_uri,
    verify_hubspot_v2,
    verify_hubspot_v3,
)
from api.deps import IngestDep, SettingsDep
from api.examples import HUBSPOT_HEADERS as HEADER_DOCS
from api.ingest_plan import EventOutcome

router = APIRouter(prefix="/webhooks", tags=["webhooks"])


@router.post(
    "/hubspot",
    status_code=202,
    response_model=list[EventOutcome],
    summary="HubSpot deal events",
    description=(
        "A webhooks-API batch (at most 100 events) signed `X-HubSpot-Signature-v3` (with "
        "`X-HubSpot-Request-Timestamp`, at most 5 minutes old; the `X-HubSpot-Signature` / "
        "`X-HubSpot-Signature-Version: v1` pair HubSpot sends beside it is not used), or a workflow webhook "
        "signed `X-HubSpot-Signature` (`X-HubSpot-Signature-Version: v2`) with the app's client secret. "
        "Every deal-stage event of a batch is handled; the answer lists one outcome per event. "
        "Authentication: HubSpot's signature, not an API key."
    ),
    openapi_extra=examples.HUBSPOT,
)
async def hubspot(
    request: Request,
    settings: SettingsDep,
    ingest: IngestDep,
    signature_v3: Annotated[str | None, Header(alias="X-HubSpot-Signature-v3", **HEADER_DOCS["v3"])] = None,
    timestamp: Annotated[str | None, Header(alias="X-HubSpot-Request-Timestamp", **HEADER_DOCS["timestamp"])] = None,
    signature: Annotated[str | None, Header(alias="X-HubSpot-Signature", **HEADER_DOCS["signature"])] = None,
    version: Annotated[str | None, Header(alias="X-HubSpot-Signature-Version", **HEADER_DOCS["version"])] = None,
) -> list[EventOutcome]:
    body = await request.body()
    secret = settings.hubspot_client_secret.get_secret_value()
    # Behind a proxy the app sees its own host; HubSpot signed the public one.
    uri = public_uri(settings.public_url, str(request.url))
    # X-HubSpot-Signature-Version describes X-HubSpot-Signature only: webhooks-API deliveries carry
    # "v1" there beside a v3 signature. A v3 signature present is the one checked, and a stale or bad
    # one is refused outright: falling back to the older header would let a replayed request in.
    if signature_v3 is not None:
        verify_hubspot_v3(secret, request.method, uri, body, timestamp, signature_v3, now_ms=int(time.time() * 1000))
    elif signature and version in (None, "v2"):
        verify_hubspot_v2(secret, request.method, uri, body, signature)
    elif signature and version == "v1":
        # v1 signs neither the URI nor a time, so a captured request could be replayed for ever; HubSpot
        # sends v3 beside it on every webhooks-API delivery, so a v1 alone is not taken.
        raise SignatureError("a v1 signature alone is not accepted; HubSpot sends X-HubSpot-Signature-v3 with it")
    elif version not in (None, "v1", "v2", "v3"):
        raise SignatureError(f"unsupported signature version {version[:8]!r}")
    else:
        raise SignatureError("missing signature")
    # Workflow actions may be signed either way, so the body's shape, not the header, picks the parser.
    is_batch = body.removeprefix(b"\xef\xbb\xbf").lstrip()[:1] == b"["
    events = parse_hubspot_batch(body) if is_batch else parse_hubspot_workflow(body)
    return await ingest.run(events)
