"""What the handoff rules ask the outside world to do; the workflow runs each as an activity."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain.introductions import Introduction
from domain.onboarding import OnboardingInput, PostCheckInput


@dataclass(frozen=True)
class Notify:
    """A notice. Under the people rules `to` holds places in the handoff (`Audience` values), resolved
    to people when it is sent, and the timeline hears of it then (`HandoffMachine.notice_addressed`);
    before them, `to` holds the names the notice went to and the timeline already has its entry.
    `escalation`: the index in `state.escalations` of the escalation this notice carries out."""

    key: str
    event: str
    to: list[str]
    subject: str
    text: str
    details: dict[str, Any] = field(default_factory=dict)
    escalation: int | None = None
    addressed: bool = True


@dataclass(frozen=True)
class Introduce:
    """An introduction e-mail (or invitation, or internal note): its people are resolved as it is sent,
    and the timeline hears of it then (`HandoffMachine.introduced`)."""

    introduction: Introduction


@dataclass(frozen=True)
class CreateCrmTask:
    key: str
    owner: str
    subject: str
    body: str = ""
    due: datetime | None = None


@dataclass(frozen=True)
class ReleaseCommission:
    key: str
    note: str


@dataclass(frozen=True)
class AssignCsm:
    team: str


@dataclass(frozen=True)
class StartOnboarding:
    workflow_id: str
    input: OnboardingInput


@dataclass(frozen=True)
class StartPostCheck:
    workflow_id: str
    input: PostCheckInput


@dataclass(frozen=True)
class EndChildren:
    """Cancel every child still running (the deal was lost)."""


Effect = (
    Notify | Introduce | CreateCrmTask | ReleaseCommission | AssignCsm | StartOnboarding | StartPostCheck | EndChildren
)
