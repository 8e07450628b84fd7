import contextlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.crm import (
    CRM_BAD_DATA,
    CRM_REJECTED,
    CommissionRelease,
    CrmActivities,
    CrmClient,
    CrmTask,
    CrmUnavailable,
    CrmWriteResult,
    FetchDeal,
    NoopCrm,
)
from activities.crm_clients import HubSpotCrm, PipedriveCrm, SalesforceCrm
from domain.crm_time import parse_instant
from domain.deal import Deal, DealType

TOKEN = "secret-token-do-not-leak"
DUE = datetime(2026, 3, 9, 15, 30, tzinfo=UTC)


@dataclass(frozen=True)
class Case:
    crm: str
    deal_id: str
    client: Callable[[httpx.AsyncClient], CrmClient]
    reads: dict[tuple[str, str], Any]  # (method, path) -> JSON the CRM answers with
    fetched: dict[str, Any]  # what the Deal should hold
    deal_path: str
    auth: tuple[str, str]
    hold_patch: dict[str, Any]
    owner: str
    task_path: str
    task_created: dict[str, Any]
    task_sent: dict[str, Any]


HUBSPOT = Case(
    crm="hubspot",
    deal_id="18234567890",
    client=lambda http: HubSpotCrm(TOKEN, http=http),
    reads={
        ("GET", "/crm/v3/objects/deals/18234567890"): {
            "id": "18234567890",
            "properties": {
                "amount": "48000",
                "closedate": "2026-03-02T17:00:00Z",
                "createdate": "2025-11-10T14:22:31.512Z",
                "deal_currency_code": "EUR",
                "dealname": "Acme - Platform rollout",
                "dealstage": "closedwon",
                "dealtype": "newbusiness",
                "hs_acv": "0",
                "hs_object_id": "18234567890",
                "hubspot_owner_id": "73012345",
            },
            "createdAt": "2025-11-10T14:22:31.512Z",
            "updatedAt": "2026-03-02T17:00:05.101Z",
            "archived": False,
            "associations": {
                "companies": {
                    "results": [
                        {"id": "5550001", "type": "deal_to_company_unlabeled"},
                        {"id": "9012", "type": "deal_to_company"},
                    ]
                }
            },
        },
        ("GET", "/crm/v3/objects/companies/9012"): {
            "id": "9012",
            "properties": {"name": "Acme GmbH", "hs_object_id": "9012"},
            "archived": False,
        },
    },
    fetched={
        "account": "Acme GmbH",
        "amount": 48000.0,
        "currency": "EUR",
        "acv": None,
        "stage": "closedwon",
        "created_at": datetime(2025, 11, 10, 14, 22, 31, 512000, tzinfo=UTC),
        "closed_at": datetime(2026, 3, 2, 17, tzinfo=UTC),
        "deal_type": DealType.NEW_BUSINESS,
        "ae": "73012345",
    },
    deal_path="/crm/v3/objects/deals/18234567890",
    auth=("authorization", f"Bearer {TOKEN}"),
    hold_patch={"properties": {"baton_commission_hold": "false"}},
    owner="73012345",
    task_path="/crm/v3/objects/tasks",
    task_created={"id": "64001", "properties": {"hs_task_subject": "Brief the CSM"}},
    task_sent={
        "properties": {
            "hs_task_subject": "Brief the CSM",
            "hs_task_body": "Walk through the handoff document.\n\n[baton:k-1]",
            "hs_timestamp": "2026-03-09T15:30:00.000Z",
            "hs_task_status": "NOT_STARTED",
            "hs_task_type": "TODO",
            "hubspot_owner_id": "73012345",
        },
        "associations": [
            {
                "to": {"id": "18234567890"},
                "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 216}],
            }
        ],
    },
)

SF_OPP = "0065g00000XyZabAAF"
SALESFORCE = Case(
    crm="salesforce",
    deal_id=SF_OPP,
    client=lambda http: SalesforceCrm("https://acme.my.salesforce.com", TOKEN, http=http),
    reads={
        ("GET", f"/services/data/v61.0/sobjects/Opportunity/{SF_OPP}"): {
            "attributes": {"type": "Opportunity", "url": f"/services/data/v61.0/sobjects/Opportunity/{SF_OPP}"},
            "Id": SF_OPP,
            "IsDeleted": False,
            "AccountId": "001A0000006Vm9rIAC",
            "Name": "Acme - Platform rollout",
            "StageName": "Closed Won",
            "Amount": 48000.0,
            "Probability": 100.0,
            "CloseDate": "2026-03-02",
            "Type": "Existing Customer - Upgrade",
            "IsClosed": True,
            "IsWon": True,
            "CurrencyIsoCode": "EUR",
            "OwnerId": "0055g00000AbCdEAAV",
            "CreatedDate": "2025-11-10T14:22:31.000+0000",
            "LastModifiedDate": "2026-03-02T17:00:05.000+0000",
        },
        ("GET", "/services/data/v61.0/sobjects/Account/001A0000006Vm9rIAC"): {
            "attributes": {"type": "Account", "url": "/services/data/v61.0/sobjects/Account/001A0000006Vm9rIAC"},
            "Name": "Acme GmbH",
            "Id": "001A0000006Vm9rIAC",
        },
    },
    fetched={
        "account": "Acme GmbH",
        "amount": 48000.0,
        "currency": "EUR",
        "stage": "Closed Won",
        "created_at": datetime(2025, 11, 10, 14, 22, 31, tzinfo=UTC),
        "closed_at": datetime(2026, 3, 2, tzinfo=UTC),
        "deal_type": DealType.EXPANSION,
        "ae": "0055g00000AbCdEAAV",
    },
    deal_path=f"/services/data/v61.0/sobjects/Opportunity/{SF_OPP}",
    auth=("authorization", f"Bearer {TOKEN}"),
    hold_patch={"Baton_Commission_Hold__c": False},
    owner="0055g00000AbCdEAAV",
    task_path="/services/data/v61.0/sobjects/Task",
    task_created={"id": "00T5g00000QwErTEAV", "success": True, "errors": []},
    task_sent={
        "Subject": "Brief the CSM",
        "Description": "Walk through the handoff document.\n\n[baton:k-1]",
        "WhatId": SF_OPP,
        "OwnerId": "0055g00000AbCdEAAV",
        "ActivityDate": "2026-03-09",
    },
)

PIPEDRIVE = Case(
    crm="pipedrive",
    deal_id="4211",
    client=lambda http: PipedriveCrm(TOKEN, http=http),
    reads={
        ("GET", "/api/v2/deals/4211"): {
            "success": True,
            "data": {
                "id": 4211,
                "title": "Acme GmbH",
                "creator_user_id": 1234567,
                "owner_id": 1234568,
                "value": 48000,
                "person_id": 12,
                "org_id": 77,
                "stage_id": 5,
                "pipeline_id": 1,
                "currency": "EUR",
                "add_time": "2025-11-10T14:22:31Z",
                "update_time": "2026-03-02T17:00:05Z",
                "stage_change_time": "2026-02-20T09:00:00Z",
                "is_deleted": False,
                "status": "won",
                "probability": None,
                "lost_reason": None,
                "visible_to": 3,
                "close_time": "2026-03-02T17:00:00Z",
                "won_time": "2026-03-02T17:00:00Z",
                "lost_time": None,
                "expected_close_date": "2026-03-01",
                "custom_fields": {"baton_commission_hold": "yes"},
            },
        },
    },
    fetched={
        "account": "Acme GmbH",
        "amount": 48000.0,
        "currency": "EUR",
        "stage": "won",
        "created_at": datetime(2025, 11, 10, 14, 22, 31, tzinfo=UTC),
        "closed_at": datetime(2026, 3, 2, 17, tzinfo=UTC),
        "deal_type": DealType.NEW_BUSINESS,
        "ae": "1234568",
    },
    deal_path="/api/v2/deals/4211",
    auth=("x-api-token", TOKEN),
    hold_patch={"custom_fields": {"baton_commission_hold": None}},
    owner="1234568",
    task_path="/api/v1/activities",
    task_created={"success": True, "data": {"id": 880, "subject": "Brief the CSM", "type": "task"}},
    task_sent={
        "subject": "Brief the CSM",
        "type": "task",
        "deal_id": 4211,
        "note": "Walk through the handoff document.\n\n[baton:k-1]",
        "user_id": 1234568,
        "due_date": "2026-03-09",
        "due_time": "15:30",
    },
)

CASES = [pytest.param(case, id=case.crm) for case in (HUBSPOT, SALESFORCE, PIPEDRIVE)]


class FakeCrm:
    """Answers from a table of (method, path); 404 for anything else, like the real APIs."""

    def __init__(self, routes: dict[tuple[str, str], Any]) -> None:
        self.routes = routes
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.routes.get((request.method, request.url.path), httpx.Response(404, json={"message": "not found"}))
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, httpx.Response):
            return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)
        return httpx.Response(200, json=answer)

    def sent(self, method: str, path: str) -> Any:
        request = next(r for r in self.requests if (r.method, r.url.path) == (method, path))
        return json.loads(request.content)


@contextlib.asynccontextmanager
async def crm_activities(
    case: Case, routes: dict[tuple[str, str], Any]
) -> AsyncIterator[tuple[CrmActivities, FakeCrm]]:
    server = FakeCrm(routes)
    async with httpx.AsyncClient(transport=httpx.MockTransport(server)) as http:
        yield CrmActivities({case.crm: case.client(http)}), server


def event_deal(case: Case, **fields: Any) -> Deal:
    return Deal(crm=case.crm, deal_id=case.deal_id, **fields)


@pytest.mark.parametrize("case", CASES)
async def test_fetch_maps_the_crm_deal(case: Case):
    async with crm_activities(case, case.reads) as (acts, server):
        deal = await ActivityEnvironment().run(acts.fetch_deal, FetchDeal(deal=event_deal(case)))

    assert deal.model_dump(include=set(case.fetched)) == case.fetched
    assert (deal.crm, deal.deal_id) == (case.crm, case.deal_id)
    header, value = case.auth
    assert all(r.headers[header] == value for r in server.requests)
    assert all(TOKEN not in str(r.url) for r in server.requests)


@pytest.mark.parametrize("case", CASES)
async def test_event_values_win_over_fetched_ones(case: Case):
    event = event_deal(case, account="Acme (from the event)", amount=52000, ae="ae@example.com", contract_months=24)
    async with crm_activities(case, case.reads) as (acts, _):
        deal = await ActivityEnvironment().run(acts.fetch_deal, FetchDeal(deal=event))

    assert (deal.account, deal.amount, deal.ae, deal.contract_months) == (
        "Acme (from the event)",
        52000,
        "ae@example.com",
        24,
    )
    assert (deal.currency, deal.stage, deal.closed_at) == (
        case.fetched["currency"],
        case.fetched["stage"],
        case.fetched["closed_at"],
    )


@pytest.mark.parametrize("case", CASES)
async def test_missing_deal_is_rejected_for_good(case: Case):
    async with crm_activities(case, {}) as (acts, _):
        with pytest.raises(ApplicationError) as raised:
            await ActivityEnvironment().run(acts.fetch_deal, FetchDeal(deal=event_deal(case)))

    assert raised.value.non_retryable
    assert raised.value.type == CRM_REJECTED
    assert raised.value.message == f"{case.crm} rejected deal {case.deal_id}: 404"


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (httpx.Response(503, text="maintenance"), ": 503"),
        (httpx.Response(429, headers={"Retry-After": "7"}, json={"errorType": "RATE_LIMIT"}), ": 429 (Retry-After: 7)"),
        (httpx.ConnectError("connection refused"), "unreachable"),
    ],
    ids=["503", "429", "transport"],
)
async def test_outages_are_retryable(case: Case, answer: Any, message: str):
    async with crm_activities(case, {("GET", case.deal_path): answer}) as (acts, _):
        with pytest.raises(CrmUnavailable, match=r"^" + case.crm) as raised:
            await ActivityEnvironment().run(acts.fetch_deal, FetchDeal(deal=event_deal(case)))

    assert not isinstance(raised.value, ApplicationError)
    assert message in str(raised.value)
    assert TOKEN not in str(raised.value)


@pytest.mark.parametrize("case", CASES)
async def test_commission_release_clears_the_hold(case: Case):
    request = CommissionRelease(deal=event_deal(case), key="k-1", note="CSM rated the handoff 4/5")
    async with crm_activities(case, {("PATCH", case.deal_path): httpx.Response(204)}) as (acts, server):
        result = await ActivityEnvironment().run(acts.release_commission, request)
        again = await ActivityEnvironment().run(acts.release_commission, request)

    assert result == again
    assert result.crm == case.crm and result.done
    assert [json.loads(r.content) for r in server.requests] == [case.hold_patch, case.hold_patch]


async def test_hold_field_names_are_configurable():
    routes = {("PATCH", HUBSPOT.deal_path): httpx.Response(200, json={"id": HUBSPOT.deal_id, "properties": {}})}
    server = FakeCrm(routes)
    async with httpx.AsyncClient(transport=httpx.MockTransport(server)) as http:
        acts = CrmActivities({"hubspot": HubSpotCrm(TOKEN, hold_property="ae_commission_hold", http=http)})
        await ActivityEnvironment().run(acts.release_commission, CommissionRelease(deal=event_deal(HUBSPOT), key="k"))

    assert server.sent("PATCH", HUBSPOT.deal_path) == {"properties": {"ae_commission_hold": "false"}}


@pytest.mark.parametrize("case", CASES)
async def test_task_creation_posts_the_task(case: Case):
    task = CrmTask(
        deal=event_deal(case),
        key="k-1",
        owner=case.owner,
        subject="Brief the CSM",
        body="Walk through the handoff document.",
        due=DUE,
    )
    async with crm_activities(case, {("POST", case.task_path): httpx.Response(201, json=case.task_created)}) as (
        acts,
        server,
    ):
        result = await ActivityEnvironment().run(acts.create_task, task)

    assert server.sent("POST", case.task_path) == case.task_sent
    assert result.crm == case.crm and result.done and "unassigned" not in result.detail


@pytest.mark.parametrize("case", CASES)
async def test_task_for_an_owner_the_crm_does_not_know_is_left_unassigned(case: Case):
    task = CrmTask(deal=event_deal(case), key="k-2", owner="jane@example.com", subject="Brief the CSM")
    async with crm_activities(case, {("POST", case.task_path): httpx.Response(201, json=case.task_created)}) as (
        acts,
        server,
    ):
        result = await ActivityEnvironment().run(acts.create_task, task)

    sent = json.dumps(server.sent("POST", case.task_path))
    assert "jane@example.com" not in sent and "[baton:k-2]" in sent
    assert "unassigned" in result.detail


@pytest.mark.parametrize(
    ("case", "patch", "problem"),
    [
        pytest.param(HUBSPOT, {"amount": "-5"}, "amount", id="hubspot-negative-amount"),
        pytest.param(SALESFORCE, {"CurrencyIsoCode": "EURO"}, "currency", id="salesforce-bad-currency"),
    ],
)
async def test_a_deal_that_does_not_fit_fails_for_good(case: Case, patch: dict[str, Any], problem: str):
    (deal_key, deal_body), *rest = case.reads.items()
    if case is HUBSPOT:
        deal_body = {**deal_body, "properties": {**deal_body["properties"], **patch}}
    else:
        deal_body = {**deal_body, **patch}
    async with crm_activities(case, {deal_key: deal_body, **dict(rest)}) as (acts, _):
        with pytest.raises(ApplicationError) as raised:
            await ActivityEnvironment().run(acts.fetch_deal, FetchDeal(deal=event_deal(case)))

    assert raised.value.non_retryable and raised.value.type == CRM_BAD_DATA
    assert problem in str(raised.value.details)


async def test_pipedrive_rejects_a_non_numeric_deal_id_without_calling():
    async with crm_activities(PIPEDRIVE, {}) as (acts, server):
        with pytest.raises(ApplicationError) as raised:
            await ActivityEnvironment().run(acts.fetch_deal, FetchDeal(deal=Deal(crm="pipedrive", deal_id="abc")))

    assert raised.value.non_retryable and raised.value.type == CRM_BAD_DATA
    assert server.requests == []


async def test_creation_after_close_drops_the_creation_date():
    """A deal entered into the CRM after it closed: the close stands, the sales cycle is unknown."""
    (deal_key, opp), account = SALESFORCE.reads.items()
    opp = {**opp, "CreatedDate": "2026-03-05T10:00:00.000+0000"}
    async with crm_activities(SALESFORCE, {deal_key: opp, account[0]: account[1]}) as (acts, _):
        deal = await ActivityEnvironment().run(acts.fetch_deal, FetchDeal(deal=event_deal(SALESFORCE)))

    assert (deal.created_at, deal.closed_at) == (None, datetime(2026, 3, 2, tzinfo=UTC))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1762784551512", datetime(2025, 11, 10, 14, 22, 31, 512000, tzinfo=UTC)),
        ("2025-11-10T14:22:31.512Z", datetime(2025, 11, 10, 14, 22, 31, 512000, tzinfo=UTC)),
        ("2025-11-10T14:22:31.000+0000", datetime(2025, 11, 10, 14, 22, 31, tzinfo=UTC)),
        ("2025-11-10 14:22:31", datetime(2025, 11, 10, 14, 22, 31, tzinfo=UTC)),
        ("2025-11-10", datetime(2025, 11, 10, tzinfo=UTC)),
    ],
)
def test_parse_instant(value: Any, expected: datetime):
    assert parse_instant(value) == expected


async def test_a_crm_without_a_client_is_a_noop():
    acts = CrmActivities({})
    deal = Deal(crm="hubspot", deal_id="42", account="Acme", amount=1000)
    env = ActivityEnvironment()

    assert (await env.run(acts.fetch_deal, FetchDeal(deal=deal))).deal() == deal
    not_done = CrmWriteResult(crm="hubspot", done=False, detail="no CRM client configured")
    assert await env.run(acts.create_task, CrmTask(deal=deal, key="k", owner="1", subject="s")) == not_done
    assert await env.run(acts.release_commission, CommissionRelease(deal=deal, key="k")) == not_done
    assert isinstance(acts.client("hubspot"), NoopCrm)


def test_task_due_needs_an_offset():
    with pytest.raises(ValueError, match="UTC offset"):
        CrmTask(deal=Deal(crm="hubspot", deal_id="1"), key="k", owner="1", subject="s", due=datetime(2026, 3, 9, 15))
