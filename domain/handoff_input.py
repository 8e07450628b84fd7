"""The handoff workflow's start input."""

from __future__ import annotations

from pydantic import BaseModel

from domain.deal import Deal
from domain.document import HandoffDocument
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
