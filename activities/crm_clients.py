"""HTTP clients for HubSpot, Salesforce and Pipedrive, each mapping its CRM's deal onto the neutral Deal."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from typing import Any, ClassVar

import httpx
from temporalio.exceptions import ApplicationError

from activities.crm import (
    CRM_REJECTED,
    CommissionRelease,
    CrmClient,
    CrmTask,
    CrmUnavailable,
    CrmWriteResult,
    consistent_deal_fields,
)
from domain.deal import Deal, DealType

# Below the workflows' ATTEMPT_TIMEOUT (workflows/call_policy.py), so a hung request fails inside the
# attempt and is retried, with room for a second request (HubSpot and Salesforce read the account name
# separately).
HTTP_TIMEOUT = httpx.Timeout(10.0)

_SALESFORCE_USER_ID = re.compile(r"^005[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?$")


def parse_time(value: Any) -> datetime | None:
    """ISO 8601 (with or without offset), a bare date, or epoch milliseconds; CRMs store UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float) or (isinstance(value, str) and value.isdigit()):
        return datetime.fromtimestamp(int(value) / 1000, UTC)
    if len(value) == 10:
        return datetime.combine(date.fromisoformat(value), time(), UTC)
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _deal(deal: Deal, fields: dict[str, Any]) -> Deal:
    # Fields the CRM left empty stay at the Deal's defaults, so the event's values can fill them.
    present = {name: value for name, value in fields.items() if value not in (None, "")}
    return Deal(crm=deal.crm, deal_id=deal.deal_id, **consistent_deal_fields(present))


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
    DEAL_PROPERTIES = (
        "dealname,amount,deal_currency_code,dealstage,createdate,closedate,dealtype,hubspot_owner_id,hs_acv"
    )
    TYPES = {"newbusiness": DealType.NEW_BUSINESS, "existingbusiness": DealType.EXPANSION}
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

    async def fetch_deal(self, deal: Deal) -> Deal:
        what = f"deal {deal.deal_id}"
        params = {"properties": self.DEAL_PROPERTIES, "associations": "companies"}
        body = await self._call("GET", f"/crm/v3/objects/deals/{deal.deal_id}", what, params=params)
        props = body["properties"]
        account = props.get("dealname")
        if company_id := self._primary_company(body):
            company = await self._call(
                "GET", f"/crm/v3/objects/companies/{company_id}", f"company of {what}", params={"properties": "name"}
            )
            account = company["properties"].get("name") or account
        dealtype = (props.get("dealtype") or "").lower()
        # Only the first two are HubSpot's own options; portals often add a renewal one.
        deal_type = self.TYPES.get(dealtype, DealType.RENEWAL if "renewal" in dealtype else None)
        return _deal(
            deal,
            {
                "account": account,
                "amount": float(props["amount"]) if props.get("amount") else None,
                "currency": props.get("deal_currency_code"),
                "acv": float(props.get("hs_acv") or 0) or None,  # 0 when the deal has no recurring line items
                "stage": props.get("dealstage"),
                "created_at": parse_time(props.get("createdate")),
                "closed_at": parse_time(props.get("closedate")),
                "deal_type": deal_type,
                "ae": props.get("hubspot_owner_id"),
            },
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
    TYPES = {"new business": DealType.NEW_BUSINESS, "renewal": DealType.RENEWAL}

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

    async def fetch_deal(self, deal: Deal) -> Deal:
        what = f"deal {deal.deal_id}"
        # No `fields=` filter: naming CurrencyIsoCode is a 400 in orgs without multi-currency.
        opp = await self._call("GET", f"/sobjects/Opportunity/{deal.deal_id}", what)
        account = opp.get("Name")
        if opp.get("AccountId"):
            acc = await self._call(
                "GET", f"/sobjects/Account/{opp['AccountId']}", f"account of {what}", params={"fields": "Name"}
            )
            account = acc.get("Name") or account
        sf_type = (opp.get("Type") or "").strip().lower()
        # "Existing Customer - Upgrade / Replacement / Downgrade": all sold to a current customer.
        deal_type = DealType.EXPANSION if sf_type.startswith("existing customer") else self.TYPES.get(sf_type)
        return _deal(
            deal,
            {
                "account": account,
                "amount": opp.get("Amount"),
                "currency": opp.get("CurrencyIsoCode"),
                "stage": opp.get("StageName"),
                "created_at": parse_time(opp.get("CreatedDate")),
                "closed_at": parse_time(opp.get("CloseDate")),
                "deal_type": deal_type,
                "ae": opp.get("OwnerId"),
            },
        )

    async def create_task(self, task: CrmTask) -> CrmWriteResult:
        payload: dict[str, Any] = {
            "Subject": task.subject[:255],  # longer is a STRING_TOO_LONG rejection
            "Description": task.marked_body,
            "WhatId": task.deal.deal_id,
        }
        # An owner that is not a User id (e.g. an email) would be rejected; the API user then owns it.
        if _SALESFORCE_USER_ID.match(task.owner):
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

    async def fetch_deal(self, deal: Deal) -> Deal:
        body = await self._call("GET", f"/api/v2/deals/{_numeric(deal)}", f"deal {deal.deal_id}")
        data = body["data"]
        # Won and lost are statuses in Pipedrive, not stages; StagePolicy lists them as "won"/"lost".
        stage = data["status"] if data.get("status") in ("won", "lost") else data.get("stage_id")
        return _deal(
            deal,
            {
                "account": data.get("title"),
                "amount": data.get("value"),
                "currency": data.get("currency"),
                "stage": None if stage is None else str(stage),
                "created_at": parse_time(data.get("add_time")),
                "closed_at": parse_time(data.get("won_time") or data.get("close_time")),
                "ae": None if data.get("owner_id") is None else str(data["owner_id"]),
            },
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


def crm_clients_from_env(env: Mapping[str, str]) -> dict[str, CrmClient]:
    """A client per CRM whose credentials are set; a half-configured CRM is an error, not a silent no-op."""

    def get(name: str) -> str:
        return (env.get(name) or "").strip()

    clients: dict[str, CrmClient] = {}
    if token := get("BATON_HUBSPOT_TOKEN"):
        clients["hubspot"] = HubSpotCrm(
            token,
            get("BATON_HUBSPOT_API_URL") or "https://api.hubapi.com",
            hold_property=get("BATON_HUBSPOT_HOLD_PROPERTY") or "baton_commission_hold",
        )
    instance_url, sf_token = get("BATON_SALESFORCE_INSTANCE_URL"), get("BATON_SALESFORCE_TOKEN")
    if bool(instance_url) != bool(sf_token):
        missing = "BATON_SALESFORCE_TOKEN" if instance_url else "BATON_SALESFORCE_INSTANCE_URL"
        raise ValueError(
            f"Salesforce needs both BATON_SALESFORCE_INSTANCE_URL and BATON_SALESFORCE_TOKEN; {missing} is unset"
        )
    if instance_url:
        clients["salesforce"] = SalesforceCrm(
            instance_url,
            sf_token,
            get("BATON_SALESFORCE_API_VERSION") or "v61.0",
            hold_field=get("BATON_SALESFORCE_HOLD_FIELD") or "Baton_Commission_Hold__c",
        )
    if token := get("BATON_PIPEDRIVE_API_TOKEN"):
        clients["pipedrive"] = PipedriveCrm(
            token,
            get("BATON_PIPEDRIVE_API_URL") or "https://api.pipedrive.com",
            hold_field=get("BATON_PIPEDRIVE_HOLD_FIELD") or "baton_commission_hold",
        )
    return clients
