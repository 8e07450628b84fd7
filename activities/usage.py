"""Product usage for the 30-day check, from a pluggable source."""

from __future__ import annotations

from typing import Protocol

import httpx
from pydantic import BaseModel
from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.onboarding import UsageReport


class UsageRequest(BaseModel):
    account: str
    crm: str
    deal_id: str


class UsageSource(Protocol):
    name: str

    async def active_users(self, request: UsageRequest) -> int | None: ...


class NoUsageSource:
    """No product analytics wired in: the check records usage as not measured instead of failing it."""

    name = "none"

    async def active_users(self, request: UsageRequest) -> int | None:
        return None


class HttpUsageSource:
    """GET {url}?account=...&deal_id=... answering {"active_users": N}."""

    name = "http"

    def __init__(self, url: str, token: str = "", http: httpx.AsyncClient | None = None) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._url = url
        self._http = http or httpx.AsyncClient(timeout=10, headers=headers)

    async def active_users(self, request: UsageRequest) -> int | None:
        response = await self._http.get(
            self._url, params={"account": request.account, "deal_id": request.deal_id, "crm": request.crm}
        )
        if response.status_code == 404:
            return 0
        if response.status_code == 429 or response.status_code >= 500:
            raise RuntimeError(f"usage source unavailable: {response.status_code}")
        if response.status_code >= 400:
            raise ApplicationError(f"usage source rejected the lookup: {response.status_code}", non_retryable=True)
        value = response.json().get("active_users")
        if not isinstance(value, int) or value < 0:
            raise ApplicationError("usage source answered without a non-negative active_users", non_retryable=True)
        return value


class UsageActivities:
    def __init__(self, source: UsageSource) -> None:
        self._source = source

    @activity.defn(name="usage_lookup")
    async def lookup(self, request: UsageRequest) -> UsageReport:
        users = await self._source.active_users(request)
        if users is None:
            return UsageReport(measured=False, source=self._source.name)
        return UsageReport(measured=True, active_users=users, source=self._source.name)
