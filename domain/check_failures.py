"""Why a 30-day check failed, by kind: the parent settles each check-owned SLA on the kinds, never on text."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel


class CheckFailureKind(StrEnum):
    MILESTONE_LATE = "milestone_late"
    LOW_USAGE = "low_usage"
    UNANSWERED = "unanswered"
    CSM_LACKS_CONTEXT = "csm_lacks_context"
    CONCERN_RAISED = "concern_raised"
    PARTNER_UNCONFIRMED = "partner_unconfirmed"  # what settles `partner_check`


class CheckFailure(BaseModel):
    kind: CheckFailureKind
    text: str  # for people: the timeline, the escalation note

    @classmethod
    def from_legacy_text(cls, text: str) -> CheckFailure:
        """A failure from a child that reported text only (before failures carried their kind). The
        partner rule is the one those runs were settled by, so their histories still replay."""
        if "partner" in text:
            return cls(kind=CheckFailureKind.PARTNER_UNCONFIRMED, text=text)
        for prefix, kind in _LEGACY_PREFIXES:
            if text.startswith(prefix):
                return cls(kind=kind, text=text)
        return cls(kind=CheckFailureKind.CONCERN_RAISED, text=text)


# The texts the check wrote before failures carried their kind, by how each began.
_LEGACY_PREFIXES = (
    ("milestone ", CheckFailureKind.MILESTONE_LATE),
    ("usage:", CheckFailureKind.LOW_USAGE),
    ("the CSM did not answer", CheckFailureKind.UNANSWERED),
    ("the CSM lacks", CheckFailureKind.CSM_LACKS_CONTEXT),
)
