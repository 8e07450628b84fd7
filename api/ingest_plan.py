"""What CRM events mean for handoffs, decided before anything starts: pure, so a test needs no server."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Final, Literal

from pydantic import BaseModel

from api.crm.errors import PayloadError
from domain.approach import select_approach
from domain.close_date import close_instant, order_created
from domain.crm_fields import MappingError, map_properties
from domain.deal import Deal
from domain.document import DocumentPatch, HandoffDocument
from domain.events import DealEvent
from domain.ids import handoff_workflow_id
from domain.policy import Policy
from domain.stages import StageKind
from store.repository import amount_band


class Outcome(StrEnum):
    STARTED = "started"
    ADVANCED = "advanced"
    DUPLICATE = "duplicate"
    ALREADY_HANDED_OFF = "already_handed_off"
    IGNORED = "ignored"
    ENDED = "ended"
    DOCUMENT_UPDATED = "document_updated"


class EventOutcome(BaseModel):
    workflow_id: str
    deal_id: str
    stage: str
    kind: EventKind
    outcome: Outcome


# A deal update that changed only mapped document properties: it reaches a running handoff as a signal.
DOCUMENT: Final = "document"
EventKind = StageKind | Literal["document"]


@dataclass(frozen=True)
class Planned:
    event: DealEvent
    kind: EventKind
    workflow_id: str
    deal: Deal | None
    learned_at: datetime
    # What the event carried as a submitted document (the API's `document`, or CRM properties with the
    # mapped "submitted" property true), and CRM document properties that change it without submitting.
    document: HandoffDocument | None = None
    crm_document: DocumentPatch | None = None
    submit: bool = False


def plan(events: list[DealEvent], policy: Policy, learned_at: datetime) -> list[Planned]:
    """Classify and validate every event before any starts, so a bad one in a batch starts nothing.
    `learned_at` is when Baton received them: it places a date-only close and may start SLA clocks."""
    planned = []
    for event in events:
        stage_kind = policy.stage_kind(event.crm, event.stage)
        kind: EventKind = stage_kind
        try:
            mapped = map_properties(event.crm_properties, policy.crm_fields.get(event.crm))
        except MappingError as err:
            raise PayloadError(f"properties.{err.prop}", err.message) from None
        document, crm_document = event.document, mapped.document
        deal = None
        if stage_kind in (StageKind.WON, StageKind.PRE_CLOSE):
            fields = {**mapped.deal_fields, **event.deal_fields}
            _place_close(fields, event, stage_kind, policy, learned_at)
            deal = Deal.model_validate({**fields, "crm": event.crm, "deal_id": event.deal_id, "stage": event.stage})
            if mapped.submitted:
                # A carried document counts as submitted when the handoff starts.
                document = (document or HandoffDocument()).merged(crm_document or DocumentPatch())
                crm_document = None
        elif stage_kind is StageKind.OTHER and (crm_document is not None or document is not None or mapped.submitted):
            kind = DOCUMENT
            if document is not None:
                from_crm = crm_document.model_dump(exclude_none=True) if crm_document else {}
                crm_document = DocumentPatch.model_validate({**document.model_dump(exclude_unset=True), **from_crm})
                document = None
        workflow_id = handoff_workflow_id(event.crm, event.deal_id)
        planned.append(
            Planned(event, kind, workflow_id, deal, learned_at, document, crm_document, submit=mapped.submitted)
        )
    return planned


def _place_close(
    fields: dict[str, Any], event: DealEvent, kind: StageKind, policy: Policy, learned_at: datetime
) -> None:
    if event.closed_on is not None:
        fields["closed_at"] = close_instant(
            event.closed_on, policy.calendar, learned_at if kind is StageKind.WON else None
        )
    elif kind is StageKind.WON and fields.get("closed_at") is None:
        # The event says the deal is won but not when: the CRM's change time, else when Baton heard.
        fields["closed_at"] = event.occurred_at or learned_at
    created, closed = _instant(fields.get("created_at")), _instant(fields.get("closed_at"))
    if created is not None and closed is not None:
        fields["created_at"] = order_created(created, closed, event.closed_on is not None, policy.calendar)


def _instant(value: Any) -> datetime | None:
    """Parsers put ISO text in the fields (it survives Temporal's JSON round trip); the API, datetimes."""
    if value is None or isinstance(value, datetime):
        return value
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None  # left for the Deal to refuse, naming the field
    return parsed if parsed.utcoffset() is not None else None


def summary(deal: Deal, policy: Policy) -> str:
    """What the Temporal UI lists the run by: account, ACV band and approach, never a contact."""
    who = deal.account or f"{deal.crm} deal {deal.deal_id}"
    if deal.acv is None and not deal.amount:
        return f"{who} · ACV unknown until the CRM fetch"
    decision = select_approach(deal, policy)
    return f"{who} · ACV {amount_band(decision.acv_in_base)} {policy.acv.base_currency} · {decision.approach.value}"
