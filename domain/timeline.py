"""The timeline vocabulary shared by the workflow, the simulator and the read model."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field


class Kind(StrEnum):
    STARTED = "started"
    PHASE_CHANGED = "phase_changed"
    APPROACH_SELECTED = "approach_selected"
    DOCUMENT_SCORED = "document_scored"
    CSM_ASSIGNED = "csm_assigned"
    DEADLINE_SET = "deadline_set"
    DEADLINE_MET = "deadline_met"
    DEADLINE_EXTENDED = "deadline_extended"
    DEADLINE_CANCELLED = "deadline_cancelled"
    SLA_BREACHED = "sla_breached"
    ESCALATED = "escalated"
    NOTIFIED = "notified"
    INTRODUCED = "introduced"
    AE_CALL = "ae_call"
    AE_TRANSITION_STARTED = "ae_transition_started"
    AE_TRANSITION_ENDED = "ae_transition_ended"
    RECIPIENT_UNRESOLVED = "recipient_unresolved"
    MESSAGE = "message"
    MESSAGE_IGNORED = "message_ignored"
    CHILD_STARTED = "child_started"
    CHILD_FINISHED = "child_finished"
    MILESTONE = "milestone"
    CHECK_PASSED = "check_passed"
    CHECK_FAILED = "check_failed"
    COMMISSION_RELEASED = "commission_released"
    COMMISSION_HELD = "commission_held"
    CRM_WRITE_FAILED = "crm_write_failed"
    WARNING = "warning"
    CLOSED = "closed"


class TimelineEntry(BaseModel):
    seq: int
    at: datetime
    kind: Kind
    details: dict[str, Any] = Field(default_factory=dict)

    def as_line(self) -> dict[str, Any]:
        """One flat JSON object: `at`, `kind`, then the details."""
        return {"at": self.at.isoformat(), "kind": self.kind.value, **self.details}
