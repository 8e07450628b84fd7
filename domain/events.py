"""A CRM event, as every ingestion route reduces it: which deal, which stage, what it carried."""

from __future__ import annotations

from datetime import datetime
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
    document: HandoffDocument | None = None
