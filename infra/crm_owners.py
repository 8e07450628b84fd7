"""Reading a CRM's users, for `baton directory sync`: HubSpot owners, Salesforce users, Pipedrive users.

Read-only, run by a person at a terminal, so a failure is one clear sentence (CrmOwnersError), never a
traceback, and never a header: the tokens travel in headers only, and no message here repeats one.
"""

from __future__ import annotations

from typing import Any

import httpx

from domain.directory_sync import CrmUser
from infra.crm_settings import CrmSettings

CRMS = ("hubspot", "salesforce", "pipedrive")
HTTP_TIMEOUT = httpx.Timeout(20.0)
# A cursor that never ends (a CRM bug, or a proxy answering the same page) must not loop for ever;
# 1,000 pages is 500,000 HubSpot owners or 2,000,000 Salesforce users.
MAX_PAGES = 1000
HUBSPOT_PAGE = 500  # the most /crm/v3/owners returns per page
SALESFORCE_USERS = (
    # Standard users only: portal and community users are customers' people, not colleagues.
    "SELECT Id, Name, Email, ManagerId, TimeZoneSidKey, IsActive FROM User WHERE UserType = 'Standard' ORDER BY Id"
)

_SCOPES = {
    "hubspot": "BATON_HUBSPOT_TOKEN (a private app token with the crm.objects.owners.read scope)",
    "salesforce": "BATON_SALESFORCE_TOKEN (a user with API Enabled who can read User records)",
    "pipedrive": "BATON_PIPEDRIVE_API_TOKEN (a user who can see the company's users)",
}


class CrmOwnersError(Exception):
    """The CRM's users could not be read; the message says why and which variable to check."""


async def read_crm_users(crm: str, settings: CrmSettings, http: httpx.AsyncClient) -> list[CrmUser]:
    if crm == "hubspot":
        token = settings.hubspot_token.get_secret_value()
        _require(token, "BATON_HUBSPOT_TOKEN")
        return await hubspot_owners(http, settings.hubspot_api_url, token)
    if crm == "salesforce":
        token = settings.salesforce_token.get_secret_value()
        _require(settings.salesforce_instance_url, "BATON_SALESFORCE_INSTANCE_URL")
        _require(token, "BATON_SALESFORCE_TOKEN")
        return await salesforce_users(http, settings.salesforce_instance_url, token, settings.salesforce_api_version)
    if crm == "pipedrive":
        token = settings.pipedrive_api_token.get_secret_value()
        _require(token, "BATON_PIPEDRIVE_API_TOKEN")
        return await pipedrive_users(http, settings.pipedrive_api_url, token)
    raise CrmOwnersError(f"unknown CRM {crm!r}: one of {', '.join(CRMS)}")


def _require(value: str, variable: str) -> None:
    if not value:
        raise CrmOwnersError(f"{variable} is not set")


async def _get(
    http: httpx.AsyncClient, crm: str, url: str, headers: dict[str, str], params: dict[str, str] | None = None
) -> dict[str, Any]:
    try:
        response = await http.get(url, headers=headers, params=params)
    except httpx.RequestError as err:
        raise CrmOwnersError(f"{crm} unreachable at {_origin(url)}: {type(err).__name__}") from None
    status = response.status_code
    if status in (401, 403):
        raise CrmOwnersError(f"{crm} refused the credentials ({status}): check {_SCOPES[crm]}")
    if status == 429 or status >= 500:
        raise CrmOwnersError(f"{crm} unavailable ({status}); try again later")
    if not response.is_success:
        raise CrmOwnersError(f"{crm} rejected the request for its users ({status})")
    try:
        body = response.json()
    except ValueError:
        raise CrmOwnersError(f"{crm} answered {status} with something that is not JSON") from None
    if not isinstance(body, dict):
        raise CrmOwnersError(f"{crm} answered with JSON that is not an object")
    return body


def _origin(url: str) -> str:
    parsed = httpx.URL(url)
    return f"{parsed.scheme}://{parsed.host}" + (f":{parsed.port}" if parsed.port else "")


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


async def hubspot_owners(http: httpx.AsyncClient, base_url: str, token: str) -> list[CrmUser]:
    """Active owners, then archived ones (reported, never added): `/crm/v3/owners` lists one or the other."""
    users: list[CrmUser] = []
    headers = {"Authorization": f"Bearer {token}"}
    for archived in ("false", "true"):
        after: str | None = None
        for _ in range(MAX_PAGES):
            params = {"limit": str(HUBSPOT_PAGE), "archived": archived}
            if after:
                params["after"] = after
            body = await _get(http, "hubspot", base_url.rstrip("/") + "/crm/v3/owners", headers, params)
            for owner in body.get("results") or []:
                if not isinstance(owner, dict) or owner.get("id") in (None, ""):
                    continue
                name = " ".join(filter(None, (_text(owner.get("firstName")), _text(owner.get("lastName")))))
                users.append(
                    CrmUser(
                        crm="hubspot",
                        owner_id=str(owner["id"]),
                        email=_text(owner.get("email")),
                        name=name,
                        active=not owner.get("archived", archived == "true"),
                    )
                )
            following = ((body.get("paging") or {}).get("next") or {}).get("after")
            if not following:
                break
            if str(following) == after:
                raise CrmOwnersError("hubspot returned the same page cursor twice; stopped")
            after = str(following)
        else:
            raise CrmOwnersError(f"hubspot owners did not end after {MAX_PAGES} pages; stopped")
    return users


async def salesforce_users(http: httpx.AsyncClient, instance_url: str, token: str, api_version: str) -> list[CrmUser]:
    root = instance_url.rstrip("/")
    headers = {"Authorization": f"Bearer {token}"}
    url = f"{root}/services/data/{api_version}/query"
    params: dict[str, str] | None = {"q": SALESFORCE_USERS}
    users: list[CrmUser] = []
    for _ in range(MAX_PAGES):
        body = await _get(http, "salesforce", url, headers, params)
        for record in body.get("records") or []:
            if not isinstance(record, dict) or not _text(record.get("Id")):
                continue
            users.append(
                CrmUser(
                    crm="salesforce",
                    owner_id=str(record["Id"]).strip(),
                    email=_text(record.get("Email")),
                    name=_text(record.get("Name")) or "",
                    active=record.get("IsActive") is not False,
                    timezone=_text(record.get("TimeZoneSidKey")),
                    manager_owner_id=_text(record.get("ManagerId")),
                )
            )
        following = body.get("nextRecordsUrl")
        if body.get("done", True) or not following:
            return users
        # A path on the same instance; anything else would carry the token to another host.
        if not isinstance(following, str) or not following.startswith("/services/data/"):
            raise CrmOwnersError("salesforce answered with a nextRecordsUrl outside /services/data/; stopped")
        if root + following == url:
            raise CrmOwnersError("salesforce returned the same nextRecordsUrl twice; stopped")
        url, params = root + following, None
    raise CrmOwnersError(f"salesforce users did not end after {MAX_PAGES} pages; stopped")


async def pipedrive_users(http: httpx.AsyncClient, base_url: str, token: str) -> list[CrmUser]:
    """`GET /v1/users` answers every user of the company at once; deactivated ones have active_flag false."""
    body = await _get(http, "pipedrive", base_url.rstrip("/") + "/v1/users", {"x-api-token": token})
    if body.get("success") is False:
        raise CrmOwnersError("pipedrive answered success: false for its users")
    users: list[CrmUser] = []
    for user in body.get("data") or []:
        if not isinstance(user, dict) or user.get("id") in (None, ""):
            continue
        users.append(
            CrmUser(
                crm="pipedrive",
                owner_id=str(user["id"]),
                email=_text(user.get("email")),
                name=_text(user.get("name")) or "",
                active=bool(user.get("active_flag", True)) and not user.get("is_deleted", False),
                timezone=_text(user.get("timezone_name")),
            )
        )
    return users
