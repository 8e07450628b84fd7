"""Reading each CRM's users (infra.crm_owners) against httpx.MockTransport: paging, shapes, failures.

The bodies follow each CRM's documented responses: HubSpot's `/crm/v3/owners` (results + paging.next.after),
Salesforce's query resource (totalSize, done, nextRecordsUrl, records with attributes), Pipedrive's
`/v1/users` (success + data).
"""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from domain.directory_sync import CrmUser
from infra.crm_owners import CrmOwnersError, hubspot_owners, pipedrive_users, salesforce_users

TOKEN = "secret-token-do-not-leak"
Handler = Callable[[httpx.Request], httpx.Response]


def client(handler: Handler, seen: list[httpx.Request] | None = None) -> httpx.AsyncClient:
    def record(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        return handler(request)

    return httpx.AsyncClient(transport=httpx.MockTransport(record))


def hubspot_owner(owner_id: str, email: str | None, first: str, last: str, archived: bool = False) -> dict:
    return {
        "id": owner_id,
        "email": email,
        "type": "PERSON",
        "firstName": first,
        "lastName": last,
        "userId": 9586504,
        "userIdIncludingInactive": 9586504,
        "createdAt": "2019-12-25T13:01:35.228Z",
        "updatedAt": "2023-08-22T13:40:26.790Z",
        "archived": archived,
        "teams": [{"id": "368389", "name": "Sales Team", "primary": True}],
    }


async def test_hubspot_follows_the_after_cursor_then_reads_archived_owners():
    pages = {
        ("false", None): {
            "results": [hubspot_owner("41629779", "maria@example.com", "Maria", "Lopez")],
            "paging": {"next": {"after": "MjA=", "link": "https://api.hubapi.com/crm/v3/owners?after=MjA="}},
        },
        ("false", "MjA="): {"results": [hubspot_owner("41629780", None, "", "Shared Inbox")]},
        ("true", None): {"results": [hubspot_owner("100", "gone@example.com", "Gone", "", archived=True)]},
    }
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/crm/v3/owners" and request.url.params["limit"] == "500"
        return httpx.Response(200, json=pages[(request.url.params["archived"], request.url.params.get("after"))])

    async with client(handler, seen) as http:
        users = await hubspot_owners(http, "https://api.hubapi.com/", TOKEN)
    assert users == [
        CrmUser("hubspot", "41629779", "maria@example.com", "Maria Lopez"),
        CrmUser("hubspot", "41629780", None, "Shared Inbox"),
        CrmUser("hubspot", "100", "gone@example.com", "Gone", active=False),
    ]
    assert {r.headers["authorization"] for r in seen} == {f"Bearer {TOKEN}"} and len(seen) == 3


async def test_salesforce_pages_by_next_records_url_on_the_instance():
    first = {
        "totalSize": 3,
        "done": False,
        "nextRecordsUrl": "/services/data/v61.0/query/01gD0000002HU6KIAW-2000",
        "records": [
            {
                "attributes": {"type": "User", "url": "/services/data/v61.0/sobjects/User/0058c00000AbCdEAAV"},
                "Id": "0058c00000AbCdEAAV",
                "Name": "Maria Lopez",
                "Email": "maria@example.com",
                "ManagerId": "0058c00000MgRxYAAR",
                "TimeZoneSidKey": "America/New_York",
                "IsActive": True,
            }
        ],
    }
    second = {
        "totalSize": 3,
        "done": True,
        "records": [
            {
                "attributes": {"type": "User", "url": "/services/data/v61.0/sobjects/User/0058c00000MgRxYAAR"},
                "Id": "0058c00000MgRxYAAR",
                "Name": "Dan Kim",
                "Email": "dan@example.com",
                "ManagerId": None,
                "TimeZoneSidKey": "America/Los_Angeles",
                "IsActive": False,
            },
        ],
    }
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/services/data/v61.0/query":
            assert request.url.params["q"].startswith("SELECT Id, Name, Email, ManagerId, TimeZoneSidKey, IsActive")
            return httpx.Response(200, json=first)
        assert request.url.path == "/services/data/v61.0/query/01gD0000002HU6KIAW-2000" and not request.url.params
        return httpx.Response(200, json=second)

    async with client(handler, seen) as http:
        users = await salesforce_users(http, "https://acme.my.salesforce.com", TOKEN, "v61.0")
    assert users == [
        CrmUser(
            "salesforce",
            "0058c00000AbCdEAAV",
            "maria@example.com",
            "Maria Lopez",
            timezone="America/New_York",
            manager_owner_id="0058c00000MgRxYAAR",
        ),
        CrmUser("salesforce", "0058c00000MgRxYAAR", "dan@example.com", "Dan Kim", False, "America/Los_Angeles"),
    ]
    assert {r.url.host for r in seen} == {"acme.my.salesforce.com"}


async def test_salesforce_never_follows_a_next_url_to_another_host():
    body = {"totalSize": 1, "done": False, "nextRecordsUrl": "https://evil.example/steal", "records": []}
    async with client(lambda _: httpx.Response(200, json=body)) as http:
        with pytest.raises(CrmOwnersError, match="outside /services/data/"):
            await salesforce_users(http, "https://acme.my.salesforce.com", TOKEN, "v61.0")


async def test_pipedrive_reads_every_user_with_its_flags():
    body = {
        "success": True,
        "data": [
            {
                "id": 13,
                "name": "Maria Lopez",
                "default_currency": "EUR",
                "locale": "en_US",
                "lang": 1,
                "email": "maria@example.com",
                "phone": None,
                "activated": True,
                "last_login": "2026-03-01 10:00:00",
                "created": "2024-01-01 10:00:00",
                "modified": None,
                "has_created_company": True,
                "access": [{"app": "sales", "admin": True, "permission_set_id": "62cc"}],
                "active_flag": True,
                "timezone_name": "Europe/Berlin",
                "timezone_offset": "+01:00",
                "role_id": 1,
                "icon_url": None,
                "is_you": True,
                "is_deleted": False,
            },
            {"id": 14, "name": "Former Rep", "email": "former@example.com", "active_flag": False},
        ],
    }
    seen: list[httpx.Request] = []
    async with client(lambda _: httpx.Response(200, json=body), seen) as http:
        users = await pipedrive_users(http, "https://api.pipedrive.com", TOKEN)
    assert users == [
        CrmUser("pipedrive", "13", "maria@example.com", "Maria Lopez", timezone="Europe/Berlin"),
        CrmUser("pipedrive", "14", "former@example.com", "Former Rep", active=False),
    ]
    # The token travels in its header, never in the URL that proxies log.
    assert seen[0].headers["x-api-token"] == TOKEN and TOKEN not in str(seen[0].url)


def _fails(status: int) -> Handler:
    return lambda _: httpx.Response(status, json={"message": f"token {TOKEN} is bad"}, headers={"Retry-After": "5"})


def _unreachable(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


READERS = {
    "hubspot": lambda http: hubspot_owners(http, "https://api.hubapi.com", TOKEN),
    "salesforce": lambda http: salesforce_users(http, "https://acme.my.salesforce.com", TOKEN, "v61.0"),
    "pipedrive": lambda http: pipedrive_users(http, "https://api.pipedrive.com", TOKEN),
}


@pytest.mark.parametrize("crm", list(READERS))
@pytest.mark.parametrize(
    ("handler", "says"),
    [
        (_fails(401), "refused the credentials (401): check BATON_"),
        (_fails(403), "refused the credentials (403)"),
        (_fails(503), "unavailable (503)"),
        (_fails(429), "unavailable (429)"),
        (_fails(404), "rejected the request for its users (404)"),
        (_unreachable, "unreachable at https://"),
        (lambda _: httpx.Response(200, text="<html>login</html>"), "not JSON"),
        (lambda _: httpx.Response(200, json=[1, 2]), "not an object"),
    ],
)
async def test_failures_are_one_sentence_without_the_token(crm, handler, says):
    async with client(handler) as http:
        with pytest.raises(CrmOwnersError) as caught:
            await READERS[crm](http)
    message = str(caught.value)
    assert message.startswith(crm) and says in message
    assert TOKEN not in message and TOKEN not in json.dumps(caught.value.args)


async def test_a_cursor_that_repeats_stops():
    body = {"results": [], "paging": {"next": {"after": "same"}}}
    async with client(lambda _: httpx.Response(200, json=body)) as http:
        with pytest.raises(CrmOwnersError, match="same page cursor twice"):
            await hubspot_owners(http, "https://api.hubapi.com", TOKEN)
