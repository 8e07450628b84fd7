"""The handoff workflow's start input."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from domain.deal import Deal
from domain.document import DocumentPatch, HandoffDocument
from domain.policy import Policy
from domain.state import HandoffState


class HandoffInput(BaseModel):
    """What the CRM event carried, and the policy snapshot this handoff keeps; `resume` carries the
    whole state across a continue-as-new."""

    deal: Deal
    policy: Policy
    document: HandoffDocument | None = None
    won: bool = True
    resume: HandoffState | None = None
    # With `resume`: the last timeline entry already in the read model (None: all of them), so the new
    # run writes the rest.
    recorded: int | None = None
    # When Baton first received the won event (the API's clock, never the workflow's): places SLA
    # clocks under the policy's `sla_start`. None in runs started before it existed: the close then.
    learned_at: datetime | None = None
    # Document fields read from the CRM's mapped properties: they change the document, never submit it.
    crm_document: DocumentPatch | None = None
