"""What people send to a handoff (each an update the workflow validates) and what the system signals."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from domain.check_failures import CheckFailure
from domain.deal import Deal
from domain.document import DocumentPatch, FieldName, HandoffDocument
from domain.durations import DurationField
from domain.onboarding_policy import Milestone
from domain.roles import SlaName
from domain.stages import StageKind
from domain.state import ChildKind


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid")

    by: str = Field(default="", description="who sends it (user id or email), for the timeline")


class DocumentUpdate(_Message):
    fields: DocumentPatch = Field(default_factory=DocumentPatch)
    submit: bool = Field(default=False, description="the AE hands the document to CS; the tier gate applies")


class CsmAssignment(_Message):
    csm: str = Field(min_length=1)
    team: str = ""


class IntakeReviewInput(_Message):
    rating: int = Field(description="the CSM's 1-5 rating of the handoff")
    overrides: dict[FieldName, float] = Field(default_factory=dict)
    comments: str = ""
    accept: bool = True


class IntroAction(StrEnum):
    SCHEDULED = "scheduled"
    HELD = "held"


class IntroUpdate(_Message):
    action: IntroAction
    scheduled_for: datetime | None = None


class FirstTouch(_Message):
    channel: str = ""
    with_implementation_owner: bool = False


class KickoffHeld(_Message):
    success_plan: list[str] = Field(default_factory=list, description="milestones agreed with the customer")


class AeDeparture(_Message):
    recovery_owner: str = ""


class DeadlineExtension(_Message):
    sla: SlaName
    new_due: datetime | None = None
    extend_by: DurationField | None = None
    reason: str = ""


class Sentiment(StrEnum):
    POSITIVE = "positive"
    NEUTRAL = "neutral"
    CONCERNED = "concerned"


class MilestoneReached(_Message):
    milestone: Milestone
    notes: str = ""
    sentiment: Sentiment | None = None
    risks: list[str] = Field(default_factory=list)
    expansion_signals: list[str] = Field(default_factory=list)


class PostCheckAnswers(_Message):
    enough_context: bool = Field(description="the CSM has enough context to manage the account")
    concerns: list[str] = Field(default_factory=list, description="concerns or complaints the customer raised")
    partner_confirmed: bool | None = Field(
        default=None, description="partner deals: the CSM knows the customer's goal and who will confirm it"
    )
    notes: str = ""


# Signals: sent by the system, never refused (a bad one is recorded and ignored).


class StageChanged(BaseModel):
    stage: str
    kind: StageKind = Field(description="won, lost, pre_close or other, as the policy classifies the stage")
    deal: Deal | None = None
    document: HandoffDocument | None = None
    at: datetime | None = None
    crm_document: DocumentPatch | None = Field(
        default=None, description="document fields the won event's mapped CRM properties hold (never a submission)"
    )


class ChildFinished(BaseModel):
    kind: ChildKind
    workflow_id: str
    passed: bool | None = None
    summary: dict[str, Any] = Field(default_factory=dict)
    checks_failed: list[CheckFailure] = Field(default_factory=list, description="the 30-day check's failures")

    @model_validator(mode="before")
    @classmethod
    def _signal_of_an_older_check(cls, data: Any) -> Any:
        # A check that finished before failures carried their kind sent their text in the summary only.
        summary = data.get("summary") if isinstance(data, dict) else None
        if isinstance(summary, dict) and "checks_failed" not in data:
            texts = summary.get("failures")
            if isinstance(texts, list):
                data = {**data, "checks_failed": [CheckFailure.from_legacy_text(str(t)) for t in texts]}
        return data


class MilestoneSignal(BaseModel):
    milestone: Milestone
    at: datetime
