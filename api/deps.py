"""What routes receive: the one Temporal client, the settings, the store, the caller's roles, a handle."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.engine import Engine
from temporalio.client import Client, WorkflowHandle

from api.ingest import Ingest
from api.settings import ApiSettings
from domain.ids import check_crm_name, check_deal_id, handoff_workflow_id, normalise_salesforce_id
from domain.state import HandoffState
from workflows.handoff import DealHandoffWorkflow

# Dependencies that neither block nor wait are `async def`: FastAPI runs a plain `def` one on its
# thread pool, and the hand-off to a thread and back cost each request more than the work itself.


async def _client(request: Request) -> Client:
    return request.app.state.client


async def _settings(request: Request) -> ApiSettings:
    return request.app.state.settings


async def _engine(request: Request) -> Engine:
    return request.app.state.engine


ClientDep = Annotated[Client, Depends(_client)]
SettingsDep = Annotated[ApiSettings, Depends(_settings)]
StoreDep = Annotated[Engine, Depends(_engine)]

_bearer = HTTPBearer(auto_error=False, description="an API key; its roles are configured in BATON_API_KEYS")


def caller_roles(settings: ApiSettings, key: str) -> frozenset[str]:
    """Every configured hash is compared, so the time taken does not tell how close a guess came."""
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest().encode("ascii")
    roles: frozenset[str] = frozenset()
    for configured, granted in settings.key_roles.items():
        if hmac.compare_digest(digest, configured.encode("ascii")):
            roles = granted
    return roles


def check_roles(
    settings: ApiSettings, credentials: HTTPAuthorizationCredentials | None, allowed: tuple[str, ...]
) -> frozenset[str]:
    """The caller's roles when its key holds one of `allowed`; 401 or 403 otherwise."""
    challenge = {"WWW-Authenticate": "Bearer"}
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise HTTPException(401, "an API key is required (Authorization: Bearer <key>)", headers=challenge)
    roles = caller_roles(settings, credentials.credentials)
    if not roles:
        raise HTTPException(401, "unknown API key", headers=challenge)
    if not roles & set(allowed):
        raise HTTPException(403, f"this needs one of the roles: {', '.join(allowed)}")
    return roles


def require_roles(*allowed: str) -> Callable[..., Awaitable[frozenset[str]]]:
    async def check(
        settings: SettingsDep,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> frozenset[str]:
        return check_roles(settings, credentials, allowed)

    return check


AUTH_RESPONSES: dict[int | str, dict] = {
    401: {"description": "no API key, or an unknown one"},
    403: {"description": "the key lacks every role this endpoint accepts"},
}


def roles_note(*roles: str) -> str:
    """The line each endpoint's OpenAPI description carries, so the docs say who may call it."""
    return f"Roles: {', '.join(f'`{role}`' for role in roles)} (bearer API key)."


def _invalid(where: str, message: str) -> HTTPException:
    return HTTPException(422, [{"loc": ["path", where], "msg": message, "type": "value_error"}])


CrmPath = Annotated[
    str, Path(description="hubspot, salesforce, pipedrive or a /v1/events source", examples=["hubspot"])
]
DealIdPath = Annotated[str, Path(description="the deal's id in that CRM", examples=["9876543210"])]


def handoff_id(crm: str, deal_id: str) -> str:
    """The handoff's workflow id, or a 422 naming the bad part (the pages call it directly)."""
    try:
        check_crm_name(crm)
    except ValueError as err:
        raise _invalid("crm", str(err)) from None
    try:
        # Both Salesforce id forms name one deal, and its workflow id uses the 18-character one.
        deal_id = normalise_salesforce_id(deal_id) if crm == "salesforce" else check_deal_id(deal_id)
    except ValueError as err:
        raise _invalid("deal_id", str(err)) from None
    return handoff_workflow_id(crm, deal_id)


async def _path_handoff_id(crm: CrmPath, deal_id: DealIdPath) -> str:
    return handoff_id(crm, deal_id)


HandoffId = Annotated[str, Depends(_path_handoff_id)]


async def handoff_handle(
    client: ClientDep, workflow_id: HandoffId
) -> WorkflowHandle[DealHandoffWorkflow, HandoffState]:
    return client.get_workflow_handle_for(DealHandoffWorkflow.run, workflow_id)


HandoffHandle = Annotated[WorkflowHandle[DealHandoffWorkflow, HandoffState], Depends(handoff_handle)]


def _ingest(request: Request) -> Ingest:
    """The app's ingestion class (`app.state.ingest_class`, set by api.metrics to one that counts
    starts) bound to this app's client, policy and store."""
    settings: ApiSettings = request.app.state.settings
    state = request.app.state
    make = getattr(state, "ingest_class", Ingest)
    return make(state.client, state.policy, state.engine, settings.task_queue, settings.rpc_timeout_seconds)


IngestDep = Annotated[Ingest, Depends(_ingest)]
