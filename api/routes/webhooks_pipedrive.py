"""Pipedrive webhooks (v1 and v2), authenticated with the HTTP basic credentials set on the webhook."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request

from api import examples
from api.crm import parse_pipedrive, verify_basic_auth
from api.deps import IngestDep, SettingsDep
from api.ingest_plan import EventOutcome

router = APIRouter(prefix="/webhooks", tags=["webhooks"])


@router.post(
    "/pipedrive",
    status_code=202,
    response_model=list[EventOutcome],
    summary="Pipedrive deal events",
    description=(
        "A deal webhook (v2 `change.deal` or v1 `updated.deal`); a deal is won or lost by its status. "
        "Authentication: HTTP basic auth with `BATON_PIPEDRIVE_USER` / `BATON_PIPEDRIVE_PASSWORD`, not an API key."
    ),
    openapi_extra=examples.PIPEDRIVE,
)
async def pipedrive(
    request: Request,
    settings: SettingsDep,
    ingest: IngestDep,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> list[EventOutcome]:
    verify_basic_auth(authorization, settings.pipedrive_user, settings.pipedrive_password.get_secret_value())
    return await ingest.run(parse_pipedrive(await request.body()))
