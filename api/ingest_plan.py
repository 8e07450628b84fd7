"""What CRM events mean for handoffs, decided before anything starts: pure, so a test needs no server."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel

from domain.approach import select_approach
from domain.deal import Deal
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


class EventOutcome(BaseModel):
    workflow_id: str
    deal_id: str
    stage: str
    kind: StageKind
    outcome: Outcome


@dataclass(frozen=True)
class Planned:
    event: DealEvent
    kind: StageKind
    workflow_id: str
    deal: Deal | None


def plan(events: list[DealEvent], policy: Policy) -> list[Planned]:
    """Classify and validate every event before any starts, so a bad one in a batch starts nothing."""
    planned = []
    for event in events:
        kind = policy.stage_kind(event.crm, event.stage)
        deal = None
        if kind in (StageKind.WON, StageKind.PRE_CLOSE):
            fields = dict(event.deal_fields)
            if kind is StageKind.WON and fields.get("closed_at") is None and event.occurred_at is not None:
                fields["closed_at"] = event.occurred_at
            deal = Deal.model_validate({**fields, "crm": event.crm, "deal_id": event.deal_id, "stage": event.stage})
        planned.append(Planned(event, kind, handoff_workflow_id(event.crm, event.deal_id), deal))
    return planned


def summary(deal: Deal, policy: Policy) -> str:
    """What the Temporal UI lists the run by: account, ACV band and approach, never a contact."""
    who = deal.account or f"{deal.crm} deal {deal.deal_id}"
    if deal.acv is None and not deal.amount:
        return f"{who} · ACV unknown until the CRM fetch"
    decision = select_approach(deal, policy)
    return f"{who} · ACV {amount_band(decision.acv_in_base)} {policy.acv.base_currency} · {decision.approach.value}"
