"""Salesforce: Change Data Capture relayed as JSON, and workflow Outbound Messages (SOAP)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response

from api import examples
from api.crm import check_salesforce_org, compare_token, outbound_ack, parse_cdc, parse_outbound_message
from api.deps import IngestDep, SettingsDep
from api.ingest_plan import EventOutcome

router = APIRouter(prefix="/webhooks/salesforce", tags=["webhooks"])

TokenHeader = Annotated[
    str | None, Header(alias="X-Baton-Token", description="the shared BATON_SALESFORCE_WEBHOOK_TOKEN")
]


@router.post(
    "",
    status_code=202,
    response_model=list[EventOutcome],
    summary="Salesforce Change Data Capture",
    description=(
        'OpportunityChangeEvents as a CDC subscriber relays them (one event, a list, or `{"events": [...]}`). '
        "Authentication: header `X-Baton-Token` with the shared token, not an API key."
    ),
    openapi_extra=examples.SALESFORCE_CDC,
)
async def change_data_capture(
    request: Request, settings: SettingsDep, ingest: IngestDep, token: TokenHeader = None
) -> list[EventOutcome]:
    compare_token(token, settings.salesforce_webhook_token.get_secret_value())
    return await ingest.run(parse_cdc(await request.body()))


@router.post(
    "/outbound",
    response_class=Response,
    summary="Salesforce Outbound Message",
    description=(
        "A workflow Outbound Message; every Opportunity notification is handled, then the SOAP Ack is returned "
        "(Salesforce retries until it gets one). Authentication, not an API key: outbound messages are unsigned, "
        "so the sending org must be `BATON_SALESFORCE_ORG_ID` and the shared token must come as `?token=` or "
        "header `X-Baton-Token`."
    ),
    responses={200: {"content": {"text/xml": {"example": outbound_ack()}}, "description": "the Ack"}},
    openapi_extra=examples.SALESFORCE_OUTBOUND,
)
async def outbound_message(
    request: Request,
    settings: SettingsDep,
    ingest: IngestDep,
    token: TokenHeader = None,
    token_query: Annotated[
        str | None, Query(alias="token", description="the shared token, for URLs set in Setup")
    ] = None,
) -> Response:
    compare_token(token or token_query, settings.salesforce_webhook_token.get_secret_value())
    message = parse_outbound_message(await request.body())
    check_salesforce_org(message.organization_id, settings.salesforce_org_id)
    await ingest.run(message.notifications)
    return Response(outbound_ack(), media_type="text/xml")
