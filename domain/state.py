"""Where a handoff stands: the workflow's state, its query result and the read model's input."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from domain.approach import ApproachDecision
from domain.deal import Deal
from domain.document import FieldName, HandoffDocument
from domain.onboarding_policy import Milestone
from domain.roles import Role, SlaName
from domain.scoring import QualityReport
from domain.timeline import TimelineEntry


class Phase(StrEnum):
    PRE_CLOSE = "pre_close"
    DOCUMENTING = "documenting"
    INTAKE_REVIEW = "intake_review"
    INTRO = "intro"
    KICKOFF = "kickoff"
    ONBOARDING = "onboarding"
    TRANSITIONED = "transitioned"
    CLOSED = "closed"


class Outcome(StrEnum):
    OPEN = "open"
    HANDED_OFF = "handed_off"
    LOST = "lost"


class DeadlineStatus(StrEnum):
    PENDING = "pending"
    EXTENDED = "extended"
    MET = "met"
    BREACHED = "breached"
    CANCELLED = "cancelled"


class EscalationStep(BaseModel):
    at: datetime
    to: Role
    fired: bool = False


class Extension(BaseModel):
    previous_due: datetime
    new_due: datetime
    reason: str
    by: str = ""
    at: datetime


class Deadline(BaseModel):
    sla: SlaName
    due: datetime
    set_at: datetime
    status: DeadlineStatus = DeadlineStatus.PENDING
    met_at: datetime | None = None
    breached_at: datetime | None = None
    on_breach: Role | None = None
    escalations: list[EscalationStep] = Field(default_factory=list)
    extensions: list[Extension] = Field(default_factory=list)

    @property
    def open(self) -> bool:
        return self.status in (DeadlineStatus.PENDING, DeadlineStatus.EXTENDED)

    @property
    def watching(self) -> bool:
        """Still has something to fire: a due instant or an escalation step not yet reached."""
        return self.open or (self.status is DeadlineStatus.BREACHED and any(not s.fired for s in self.escalations))


class Escalated(BaseModel):
    sla: SlaName
    to: Role
    at: datetime
    person: str = ""


class Owners(BaseModel):
    ae: str = ""
    sales_manager: str = ""
    vp_sales: str = ""
    csm: str = ""
    cs_team: str = ""
    recovery_owner: str = ""
    partner: str = ""
    # The rule's CSM choice has been asked for and not answered yet (an outside call in flight).
    awaiting_csm: bool = False


class IntakeReview(BaseModel):
    reviewer: str
    rating: int
    overrides: dict[FieldName, float] = Field(default_factory=dict)
    comments: str = ""
    accepted: bool
    at: datetime


class Facts(BaseModel):
    """When each step of the handoff happened (None: not yet)."""

    won_at: datetime | None = None
    submitted_at: datetime | None = None
    briefed_at: datetime | None = None
    intro_scheduled_at: datetime | None = None
    intro_scheduled_for: datetime | None = None
    intro_held_at: datetime | None = None
    first_touch_at: datetime | None = None
    kickoff_at: datetime | None = None
    implementation_owner_contacted_at: datetime | None = None
    ae_departed_at: datetime | None = None
    # The 30-day check fell due and its child was asked for (it starts moments later).
    post_check_requested_at: datetime | None = None
    transitioned_at: datetime | None = None
    ended_at: datetime | None = None


class Commission(BaseModel):
    released: bool = False
    at: datetime | None = None
    note: str = ""


class ChildKind(StrEnum):
    ONBOARDING = "onboarding"  # OnboardingTransitionWorkflow, started at the kickoff
    POST_CHECK = "post_check"  # PostHandoffCheckWorkflow, started when the 30-day check falls due


class ChildStatus(BaseModel):
    workflow_id: str
    kind: ChildKind
    started_at: datetime
    finished_at: datetime | None = None
    passed: bool | None = None
    summary: dict[str, Any] = Field(default_factory=dict)


class Outreach(BaseModel):
    """What the handoff has sent the customer (or the existing CSM), and the AE's part after the close."""

    introduced: bool = Field(default=False, description="the intro e-mail, three-way intro or internal note asked")
    welcome_started_at: datetime | None = None
    welcome_sent: int = Field(default=0, description="messages of the welcome sequence asked so far")
    invitations: int = Field(default=0, description="calendar invitations to the intro call asked so far")
    ae_calls: list[str] = Field(default_factory=list, description="the CS calls the AE was invited to, in order")
    transition_until: datetime | None = None
    transition_ended_at: datetime | None = None
    partner_told: list[str] = Field(default_factory=list, description="the steps the partner manager heard of")


class HandoffState(BaseModel):
    workflow_id: str
    deal: Deal
    policy_name: str
    phase: Phase
    outcome: Outcome = Outcome.OPEN
    approach: ApproachDecision | None = None
    document: HandoffDocument = Field(default_factory=HandoffDocument)
    quality: QualityReport | None = None
    returned_to_sales: bool = False
    # Sent back by the CSM's intake review (not by the tier gate): only a resubmission ends it.
    returned_by_csm: bool = False
    intake: IntakeReview | None = None
    owners: Owners = Field(default_factory=Owners)
    facts: Facts = Field(default_factory=Facts)
    deadlines: dict[SlaName, Deadline] = Field(default_factory=dict)
    escalations: list[Escalated] = Field(default_factory=list)
    commission: Commission = Field(default_factory=Commission)
    success_plan: list[str] = Field(default_factory=list)
    milestones: dict[Milestone, datetime] = Field(default_factory=dict)
    children: dict[ChildKind, ChildStatus] = Field(default_factory=dict)
    # The CSM's answers to the 30-day check sent before it started (PostCheckAnswers as JSON data: the
    # messages module builds on this one), handed to the check when it starts.
    post_check_answers: dict[str, Any] | None = None
    timeline: list[TimelineEntry] = Field(default_factory=list)
    # Notices go to people the directory names, resolved when each is sent (domain/recipients.py).
    # False in runs started before that (and in their continued states): their notices keep naming
    # the roles and addresses they always did, so their histories replay unchanged.
    people_rules: bool = False
    notices: int = Field(default=0, description="notices asked for so far: each one's key is its number")
    outreach: Outreach = Field(default_factory=Outreach)

    @property
    def sla_breached(self) -> bool:
        return any(d.breached_at is not None for d in self.deadlines.values())

    @property
    def ended(self) -> bool:
        return self.phase is Phase.CLOSED

    def summary_line(self) -> str:
        """Where the handoff stands, in one line for the Temporal UI (no contact data)."""
        approach = self.approach.approach.value if self.approach else "?"
        quality = f"{self.quality.tier.value} {self.quality.score}" if self.quality else "unscored"
        pending = sorted((d for d in self.deadlines.values() if d.open), key=lambda d: d.due)
        nxt = (
            f"next: {pending[0].sla.value} due {pending[0].due.isoformat(timespec='minutes')}"
            if pending
            else "no open deadline"
        )
        breached = " · SLA breached" if self.sla_breached else ""
        return f"{self.phase.value} · {approach} · {quality} · CSM {self.owners.csm or 'unassigned'} · {nxt}{breached}"
