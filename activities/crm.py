"""CRM activities: read the full deal, create follow-up tasks, release the AE's commission hold.

The activity contract lives here (models, `CrmClient`, errors); the HTTP clients for HubSpot,
Salesforce and Pipedrive live in `activities.crm_clients`, which the worker wires in. Workflows can
import this module without pulling in any HTTP code.

Idempotency: none of the three CRMs accepts an idempotency key on task creation, so a task is created
at least once: an activity retried after the CRM committed but before the answer arrived creates a
second task. The task body carries `[baton:<key>]` so a duplicate can be recognised (and a search
added later without changing callers). Releasing the commission hold only ever sets one field to
"not held", so a retry is harmless.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel, field_validator
from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.deal import Deal

# The workflows call these activities under workflows/call_policy.py: unlimited attempts, bounded by
# each call's schedule-to-close, so a CRM outage delays a handoff rather than failing it. What no retry
# can fix is raised non-retryable here, with one of these types, and stops at once.
CRM_REJECTED = "CrmRejected"  # the CRM answered 4xx (not 429): retrying the same request cannot help
CRM_BAD_DATA = "CrmBadData"  # what the CRM holds does not fit a Deal (or the request does not fit the CRM)


class CrmUnavailable(Exception):
    """429, 5xx or no answer at all: a plain exception, so Temporal retries it."""


class FetchDeal(BaseModel):
    deal: Deal


class CrmTask(BaseModel):
    deal: Deal
    key: str
    owner: str
    subject: str
    body: str = ""
    due: datetime | None = None

    @field_validator("due")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        # Each CRM stores due dates in UTC (or as a bare date); a naive time would land on the wrong day.
        if value is not None and value.tzinfo is None:
            raise ValueError("due needs a UTC offset, e.g. 2026-03-06T15:00:00Z")
        return value

    @property
    def marked_body(self) -> str:
        marker = f"[baton:{self.key}]"
        return f"{self.body}\n\n{marker}" if self.body else marker


class CommissionRelease(BaseModel):
    deal: Deal
    key: str
    note: str = ""


class CrmWriteResult(BaseModel):
    crm: str
    done: bool
    detail: str = ""


class CrmClient(Protocol):
    """One CRM. Raises CrmUnavailable when it may work later, ApplicationError(type=CRM_REJECTED) when not."""

    async def fetch_deal(self, deal: Deal) -> Deal: ...

    async def create_task(self, task: CrmTask) -> CrmWriteResult: ...

    async def release_commission(self, request: CommissionRelease) -> CrmWriteResult: ...

    async def aclose(self) -> None: ...


class NoopCrm:
    """Stands in for a CRM Baton has no credentials for, so a handoff still runs on the event's data."""

    async def fetch_deal(self, deal: Deal) -> Deal:
        return deal

    async def create_task(self, task: CrmTask) -> CrmWriteResult:
        return CrmWriteResult(crm=task.deal.crm, done=False, detail="no CRM client configured")

    async def release_commission(self, request: CommissionRelease) -> CrmWriteResult:
        return CrmWriteResult(crm=request.deal.crm, done=False, detail="no CRM client configured")

    async def aclose(self) -> None:
        return None


def consistent_deal_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """Drop `created_at` when it is after `closed_at`.

    Deals are often entered after they closed (and close dates are day-resolution), so the record's
    creation is then not the start of the sales cycle; the close is the fact the SLAs hang on.
    """
    created, closed = fields.get("created_at"), fields.get("closed_at")
    if created is not None and closed is not None and created > closed:
        return {**fields, "created_at": None}
    return fields


def merge_deal(event: Deal, fetched: Deal) -> Deal:
    """The event's values where it set them; the CRM's for fields the event left at their defaults.

    "Set" means "differs from the default", not pydantic's fields_set: the event deal has been through
    Temporal's converter, which serialises every field.
    """
    merged = fetched.model_dump()
    for name, field in Deal.model_fields.items():
        value = getattr(event, name)
        if value != field.get_default(call_default_factory=True):
            merged[name] = value
    merged.update(crm=event.crm, deal_id=event.deal_id)
    if event.created_at is None:
        merged = consistent_deal_fields(merged)
    return Deal.model_validate(merged)


@contextmanager
def _bad_data(crm: str, what: str) -> Iterator[None]:
    # A value that does not parse will not parse on the next attempt either; under the workflows'
    # unlimited attempts it would otherwise retry until schedule-to-close.
    try:
        yield
    except (ValueError, KeyError, TypeError) as err:
        raise ApplicationError(
            f"{crm} {what}: unusable data ({type(err).__name__})", str(err)[:500], non_retryable=True, type=CRM_BAD_DATA
        ) from err


class CrmActivities:
    """The CRM activities; the worker builds this once with a client per configured CRM."""

    def __init__(self, clients: Mapping[str, CrmClient]) -> None:
        self._clients = dict(clients)
        self._noop = NoopCrm()

    def client(self, crm: str) -> CrmClient:
        return self._clients.get(crm, self._noop)

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()

    @activity.defn(name="crm_fetch_deal")
    async def fetch_deal(self, request: FetchDeal) -> Deal:
        deal = request.deal
        with _bad_data(deal.crm, f"deal {deal.deal_id}"):
            return merge_deal(deal, await self.client(deal.crm).fetch_deal(deal))

    @activity.defn(name="crm_create_task")
    async def create_task(self, task: CrmTask) -> CrmWriteResult:
        with _bad_data(task.deal.crm, f"task for deal {task.deal.deal_id}"):
            result = await self.client(task.deal.crm).create_task(task)
        activity.logger.info("CRM task %s for deal %s: %s", task.key, task.deal.deal_id, result.detail)
        return result

    @activity.defn(name="crm_release_commission")
    async def release_commission(self, request: CommissionRelease) -> CrmWriteResult:
        deal = request.deal
        with _bad_data(deal.crm, f"commission release for deal {deal.deal_id}"):
            result = await self.client(deal.crm).release_commission(request)
        # No CRM has a note on a field update; the note is kept in the worker log beside the release.
        activity.logger.info(
            "commission release %s for deal %s: %s; note: %s",
            request.key,
            deal.deal_id,
            result.detail,
            request.note or "-",
        )
        return result
