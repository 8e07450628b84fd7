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
from datetime import UTC, datetime, time
from typing import Any, Protocol

from pydantic import BaseModel, Field, ValidationError, field_validator
from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.calendar import BusinessCalendar
from domain.close_date import CloseValue, close_instant, order_created
from domain.crm_fields import CrmFieldMap, default_crm_fields, map_properties
from domain.deal import Deal
from domain.document import DocumentPatch

# The workflows call these activities under workflows/call_policy.py: unlimited attempts, bounded by
# each call's schedule-to-close, so a CRM outage delays a handoff rather than failing it. What no retry
# can fix is raised non-retryable here, with one of these types, and stops at once.
CRM_REJECTED = "CrmRejected"  # the CRM answered 4xx (not 429): retrying the same request cannot help
CRM_BAD_DATA = "CrmBadData"  # what the CRM holds does not fit a Deal (or the request does not fit the CRM)


class CrmUnavailable(Exception):
    """429, 5xx or no answer at all: a plain exception, so Temporal retries it."""


class FetchDeal(BaseModel):
    """The deal to read. `calendar` and `learned_at` place a date-only close (domain.close_date);
    `fields` maps the CRM's properties to deal facts. All three are absent in runs started before
    they existed: a date then reads as midnight UTC and only the standard fields are read."""

    deal: Deal
    calendar: BusinessCalendar | None = None
    learned_at: datetime | None = None
    fields: CrmFieldMap | None = None


class CrmRecord(BaseModel):
    """A deal as a CRM client reads it, before the policy's rules apply: standard fields as the Deal
    names them, the close as the CRM stores it, and every property for the mapping."""

    fields: dict[str, Any]
    close: CloseValue | None = None
    properties: dict[str, Any] = Field(default_factory=dict)


class FetchedDeal(Deal):
    """The fetched deal, and the document fields the CRM's mapped properties hold: they change the
    handoff document and never submit it. A result recorded before this field existed reads as None."""

    crm_document: DocumentPatch | None = None
    crm_submitted: bool = Field(default=False, description="the mapped 'submitted' property is true")

    def deal(self) -> Deal:
        return Deal.model_validate(self.model_dump(exclude={"crm_document", "crm_submitted"}))


def mapping_for(request: FetchDeal) -> CrmFieldMap | None:
    """The request's mapping; a run started before mappings existed gets its CRM's standard one."""
    return request.fields if request.fields is not None else default_crm_fields().get(request.deal.crm)


def record_to_deal(deal: Deal, record: CrmRecord, request: FetchDeal) -> Deal:
    """The one place a fetched record becomes a Deal: the close-date rule, then the field mapping."""
    mapped = map_properties(record.properties, mapping_for(request))
    fields = {**mapped.deal_fields, **record.fields}
    close = record.close
    if close is not None:
        if request.calendar is None:  # a run started before the rule: a date reads as midnight UTC
            closed_at = close if isinstance(close, datetime) else datetime.combine(close, time(), UTC)
        else:
            closed_at = close_instant(close, request.calendar, request.learned_at)
        fields["closed_at"] = closed_at
        calendar = request.calendar or BusinessCalendar(timezone="UTC")
        fields["created_at"] = order_created(
            fields.get("created_at"), closed_at, not isinstance(close, datetime), calendar
        )
    present = {name: value for name, value in fields.items() if value not in (None, "")}
    return Deal(crm=deal.crm, deal_id=deal.deal_id, **consistent_deal_fields(present))


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

    async def fetch_deal(self, deal: Deal, fields: CrmFieldMap | None = None) -> CrmRecord | None: ...

    async def create_task(self, task: CrmTask) -> CrmWriteResult: ...

    async def release_commission(self, request: CommissionRelease) -> CrmWriteResult: ...

    async def aclose(self) -> None: ...


class NoopCrm:
    """Stands in for a CRM Baton has no credentials for, so a handoff still runs on the event's data."""

    async def fetch_deal(self, deal: Deal, fields: CrmFieldMap | None = None) -> CrmRecord | None:
        return None

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
        # pydantic's message quotes the input, which may be a contact's data: name the fields only.
        detail = (
            "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors(include_input=False))
            if isinstance(err, ValidationError)
            else str(err)
        )
        raise ApplicationError(
            f"{crm} {what}: unusable data ({type(err).__name__})", detail[:500], non_retryable=True, type=CRM_BAD_DATA
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
    async def fetch_deal(self, request: FetchDeal) -> FetchedDeal:
        deal = request.deal
        with _bad_data(deal.crm, f"deal {deal.deal_id}"):
            record = await self.client(deal.crm).fetch_deal(deal, mapping_for(request))
            if record is None:
                return FetchedDeal(**deal.model_dump())
            merged = merge_deal(deal, record_to_deal(deal, record, request))
            mapped = map_properties(record.properties, mapping_for(request))
            return FetchedDeal(**merged.model_dump(), crm_document=mapped.document, crm_submitted=mapped.submitted)

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
