"""A CRM event, as every ingestion route reduces it: which deal, which stage, what it carried."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from domain.document import HandoffDocument


class DealEvent(BaseModel):
    crm: str
    deal_id: str
    stage: str
    occurred_at: datetime | None = None
    event_id: str | None = None
    deal_fields: dict[str, Any] = Field(
        default_factory=dict, description="whatever Deal fields the event carried (the CRM fetch fills the rest)"
    )
    closed_on: date | None = Field(
        default=None, description="a close given as a date only; the policy calendar places it (domain.close_date)"
    )
    crm_properties: dict[str, Any] = Field(
        default_factory=dict, description="the record's properties as the CRM named them, for the policy's mapping"
    )
    document: HandoffDocument | None = None
