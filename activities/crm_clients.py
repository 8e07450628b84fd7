"""HTTP clients for HubSpot, Salesforce and Pipedrive, each mapping its CRM's deal onto the neutral Deal."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx
from temporalio.exceptions import ApplicationError

from activities.crm import (
    CRM_REJECTED,
    CommissionRelease,
    CrmRecord,
    CrmTask,
    CrmUnavailable,
    CrmWriteResult,
)
from domain.crm_fields import CrmFieldMap
from domain.crm_time import parse_close, parse_instant
from domain.deal import Deal

# Below the workflows' ATTEMPT_TIMEOUT (workflows/call_policy.py), so a hung request fails inside the
# attempt and is retried, with room for a second request (HubSpot and Salesforce read the account name
# separately).
HTTP_TIMEOUT = httpx.Timeout(10.0)

_SALESFORCE_USER_ID = re.compile(r"005[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?")


def _time(value: Any) -> datetime | None:
    return None if value in (None, "") else parse_instant(value)


class _HttpCrm:
    name: ClassVar[str]

    def __init__(self, base_url: str, headers: dict[str, str], http: httpx.AsyncClient | None) -> None:
        self._base_url = base_url.rstrip("/")
        # Per request rather than on the AsyncClient, so an injected client needs no configuration.
        self._headers = headers
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(timeout=HTTP_TIMEOUT)

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def _call(self, method: str, path: str, what: str, **kwargs: Any) -> Any:
        """The one place HTTP outcomes become retryable or not. Messages never include headers."""
        try:
            response = await self._http.request(method, self._base_url + path, headers=self._headers, **kwargs)
        except httpx.RequestError as err:
            raise CrmUnavailable(f"{self.name} unreachable for {what}: {type(err).__name__}") from err
        status = response.status_code
        if status == 429 or status >= 500:
            retry_after = response.headers.get("Retry-After")
            hint = f" (Retry-After: {retry_after})" if retry_after else ""
            raise CrmUnavailable(f"{self.name} unavailable for {what}: {status}{hint}")
        if not response.is_success:
            raise ApplicationError(
                f"{self.name} rejected {what}: {status}", response.text[:500], non_retryable=True, type=CRM_REJECTED
            )
        return response.json() if response.content else None

    def _written(self, detail: str) -> CrmWriteResult:
        return CrmWriteResult(crm=self.name, done=True, detail=detail)


class HubSpotCrm(_HttpCrm):
    name = "hubspot"
    DEAL_PROPERTIES = ("dealname", "amount", "deal_currency_code", "dealstage", "createdate", "closedate")
    OWNER = "hubspot_owner_id"
    TASK_TO_DEAL = 216  # HubSpot-defined association type id

    def __init__(
        self,
        token: str,
        base_url: str = "https://api.hubapi.com",
        *,
        hold_property: str = "baton_commission_hold",
        http: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(base_url, {"Authorization": f"Bearer {token}"}, http)
        self.hold_property = hold_property

    async def fetch_deal(self, deal: Deal, fields: CrmFieldMap | None = None) -> CrmRecord:
        what = f"deal {deal.deal_id}"
        # HubSpot returns only the properties named; the mapping's are asked for beside the standard ones.
        names = dict.fromkeys([*self.DEAL_PROPERTIES, self.OWNER, *(fields.properties() if fields else [])])
        params = {"properties": ",".join(names), "associations": "companies"}
        body = await self._call("GET", f"/crm/v3/objects/deals/{deal.deal_id}", what, params=params)
        props = body["properties"]
        account = props.get("dealname")
        if company_id := self._primary_company(body):
            company = await self._call(
                "GET", f"/crm/v3/objects/companies/{company_id}", f"company of {what}", params={"properties": "name"}
            )
            account = company["properties"].get("name") or account
        return CrmRecord(
            fields={
                "account": account,
                "amount": float(props["amount"]) if props.get("amount") else None,
                "currency": props.get("deal_currency_code"),
                "stage": props.get("dealstage"),
                "created_at": _time(props.get("createdate")),
                "ae": props.get(self.OWNER),
            },
            close=parse_close(props.get("closedate"), midnight_utc_is_date=True),
            properties=props,
        )

    @staticmethod
    def _primary_company(body: dict[str, Any]) -> str | None:
        results = body.get("associations", {}).get("companies", {}).get("results", [])
        primary = [r for r in results if r.get("type") == "deal_to_company"]  # the rest are "..._unlabeled"
        return (primary or results or [{}])[0].get("id")

    async def create_task(self, task: CrmTask) -> CrmWriteResult:
        properties = {
            "hs_task_subject": task.subject,
            "hs_task_body": task.marked_body,
            # Required by HubSpot: the due date, or "now" for a task due immediately.
            "hs_timestamp": _iso(task.due or datetime.now(UTC)),
            "hs_task_status": "NOT_STARTED",
            "hs_task_type": "TODO",
        }
        if task.owner.isdigit():
            properties["hubspot_owner_id"] = task.owner
        association = {
            "to": {"id": task.deal.deal_id},
            "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": self.TASK_TO_DEAL}],
        }
        payload = {"properties": properties, "associations": [association]}
        created = await self._call("POST", "/crm/v3/objects/tasks", f"task for deal {task.deal.deal_id}", json=payload)
        return self._written(f"task {created['id']}" + _unassigned(task, "hubspot_owner_id" in properties))

    async def release_commission(self, request: CommissionRelease) -> CrmWriteResult:
        # HubSpot property values are strings; "false" is how a checkbox property is unticked.
        payload = {"properties": {self.hold_property: "false"}}
        what = f"commission release for deal {request.deal.deal_id}"
        await self._call("PATCH", f"/crm/v3/objects/deals/{request.deal.deal_id}", what, json=payload)
        return self._written(f"{self.hold_property} cleared")


class SalesforceCrm(_HttpCrm):
    name = "salesforce"

    def __init__(
        self,
        instance_url: str,
        token: str,
        api_version: str = "v61.0",
        *,
        hold_field: str = "Baton_Commission_Hold__c",
        http: httpx.AsyncClient | None = None,
    ) -> None:
        base_url = f"{instance_url.rstrip('/')}/services/data/{api_version}"
        super().__init__(base_url, {"Authorization": f"Bearer {token}"}, http)
        self.hold_field = hold_field

    async def fetch_deal(self, deal: Deal, fields: CrmFieldMap | None = None) -> CrmRecord:
        what = f"deal {deal.deal_id}"
        # No `fields=` filter: naming CurrencyIsoCode is a 400 in orgs without multi-currency.
        opp = await self._call("GET", f"/sobjects/Opportunity/{deal.deal_id}", what)
        account = opp.get("Name")
        if opp.get("AccountId"):
            acc = await self._call(
                "GET", f"/sobjects/Account/{opp['AccountId']}", f"account of {what}", params={"fields": "Name"}
            )
            account = acc.get("Name") or account
        return CrmRecord(
            fields={
                "account": account,
                "amount": opp.get("Amount"),
                "currency": opp.get("CurrencyIsoCode"),
                "stage": opp.get("StageName"),
                "created_at": _time(opp.get("CreatedDate")),
                "ae": opp.get("OwnerId"),
            },
            close=parse_close(opp.get("CloseDate")),
            properties=opp,
        )

    async def create_task(self, task: CrmTask) -> CrmWriteResult:
        payload: dict[str, Any] = {
            "Subject": task.subject[:255],  # longer is a STRING_TOO_LONG rejection
            "Description": task.marked_body,
            "WhatId": task.deal.deal_id,
        }
        # An owner that is not a User id (e.g. an email) would be rejected; the API user then owns it.
        if _SALESFORCE_USER_ID.fullmatch(task.owner):
            payload["OwnerId"] = task.owner
        if task.due:
            payload["ActivityDate"] = task.due.astimezone(UTC).date().isoformat()
        created = await self._call("POST", "/sobjects/Task", f"task for deal {task.deal.deal_id}", json=payload)
        return self._written(f"task {created['id']}" + _unassigned(task, "OwnerId" in payload))

    async def release_commission(self, request: CommissionRelease) -> CrmWriteResult:
        what = f"commission release for deal {request.deal.deal_id}"
        await self._call("PATCH", f"/sobjects/Opportunity/{request.deal.deal_id}", what, json={self.hold_field: False})
        return self._written(f"{self.hold_field} cleared")


class PipedriveCrm(_HttpCrm):
    name = "pipedrive"

    def __init__(
        self,
        api_token: str,
        base_url: str = "https://api.pipedrive.com",
        *,
        hold_field: str = "baton_commission_hold",
        http: httpx.AsyncClient | None = None,
    ) -> None:
        # The header, not the `api_token` query parameter, which would end up in URLs that get logged.
        super().__init__(base_url, {"x-api-token": api_token}, http)
        self.hold_field = hold_field

    async def fetch_deal(self, deal: Deal, fields: CrmFieldMap | None = None) -> CrmRecord:
        body = await self._call("GET", f"/api/v2/deals/{_numeric(deal)}", f"deal {deal.deal_id}")
        data = body["data"]
        # Won and lost are statuses in Pipedrive, not stages; StagePolicy lists them as "won"/"lost".
        stage = data["status"] if data.get("status") in ("won", "lost") else data.get("stage_id")
        custom = data.get("custom_fields") if isinstance(data.get("custom_fields"), dict) else {}
        return CrmRecord(
            fields={
                "account": data.get("title"),
                "amount": data.get("value"),
                "currency": data.get("currency"),
                "stage": None if stage is None else str(stage),
                "created_at": _time(data.get("add_time")),
                "ae": None if data.get("owner_id") is None else str(data["owner_id"]),
            },
            close=parse_close(data.get("won_time") or data.get("close_time")),
            properties={**{k: v for k, v in data.items() if k != "custom_fields"}, **custom},
        )

    async def create_task(self, task: CrmTask) -> CrmWriteResult:
        payload: dict[str, Any] = {
            "subject": task.subject,
            "type": "task",
            "deal_id": _numeric(task.deal),
            "note": task.marked_body,
        }
        if task.owner.isdigit():
            payload["user_id"] = int(task.owner)
        if task.due:
            due = task.due.astimezone(UTC)  # Pipedrive reads due_date/due_time as UTC
            payload.update(due_date=due.date().isoformat(), due_time=due.strftime("%H:%M"))
        created = await self._call("POST", "/api/v1/activities", f"task for deal {task.deal.deal_id}", json=payload)
        return self._written(f"activity {created['data']['id']}" + _unassigned(task, "user_id" in payload))

    async def release_commission(self, request: CommissionRelease) -> CrmWriteResult:
        # Pipedrive has no boolean custom field type; an empty value is "not held" whatever type was chosen.
        payload = {"custom_fields": {self.hold_field: None}}
        what = f"commission release for deal {request.deal.deal_id}"
        await self._call("PATCH", f"/api/v2/deals/{_numeric(request.deal)}", what, json=payload)
        return self._written(f"{self.hold_field} cleared")


def _numeric(deal: Deal) -> int:
    return int(deal.deal_id)  # a ValueError here is bad data, made non-retryable by the activity


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _unassigned(task: CrmTask, assigned: bool) -> str:
    return "" if assigned or not task.owner else f" (owner {task.owner!r} is not a {task.deal.crm} user id; unassigned)"
