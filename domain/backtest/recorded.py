"""A handoff as the read model keeps it for a backtest, and how it is replayed.

What is kept: the deal's facts without contact data (who the sponsor is becomes whether there is one,
and whether they own the implementation), each document field's status rather than its text, and the
messages the handoff received, read back from its timeline. A file of deals takes the same shape
(`RecordedHandoff`, one per JSON line).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from domain.backtest.canonical import document_for, patch_for
from domain.deal import Deal, DealType
from domain.document import FieldName, HandoffDocument
from domain.scenario import MessageType, ScenarioMessage, TimedMessage
from domain.timeline import Kind, TimelineEntry

# Messages a person sends, as their timeline entries name them (`message` entries).
_PEOPLES = {
    "document_updated",
    "intake_review",
    "intro_scheduled",
    "intro_held",
    "first_touch",
    "kickoff_held",
    "ae_departed",
    "recovery_owner_assigned",
}


class DealRecord(BaseModel):
    """A deal without its contacts: what selects the approach, plans the SLAs and prefills the document."""

    model_config = ConfigDict(extra="forbid")

    crm: str
    deal_id: str
    account: str = ""
    amount: float = Field(default=0.0, ge=0)
    currency: str = "USD"
    acv: float | None = Field(default=None, ge=0)
    contract_months: int = Field(default=12, ge=1, le=120)
    created_at: datetime | None = None
    closed_at: datetime
    deal_type: DealType = DealType.NEW_BUSINESS
    channel_partner: str | None = None
    ae: str = ""
    sales_manager: str = ""
    vp_sales: str = ""
    products: list[str] = Field(default_factory=list)
    contract_terms: str = ""
    custom_implementation: bool = False
    professional_services: bool = False
    has_executive_sponsor: bool = False
    sponsor_is_not_implementation_owner: bool = False
    replaces_competitor: bool = False

    @classmethod
    def of(cls, deal: Deal, closed_at: datetime) -> DealRecord:
        kept = deal.model_dump(exclude={"executive_sponsor", "implementation_owner", "replaces_competitor", "stage"})
        return cls.model_validate(
            {
                **kept,
                "closed_at": deal.closed_at or closed_at,
                "has_executive_sponsor": bool(deal.executive_sponsor),
                "sponsor_is_not_implementation_owner": deal.sponsor_is_not_implementation_owner,
                "replaces_competitor": bool(deal.replaces_competitor),
            }
        )

    def deal(self) -> Deal:
        """The deal to replay: role names stand in for the contacts, so the same rules apply."""
        facts = self.model_dump(
            exclude={"has_executive_sponsor", "sponsor_is_not_implementation_owner", "replaces_competitor"}
        )
        return Deal.model_validate(
            {
                **facts,
                "executive_sponsor": "executive sponsor" if self.has_executive_sponsor else None,
                "implementation_owner": "implementation owner" if self.sponsor_is_not_implementation_owner else None,
                "replaces_competitor": "a competitor" if self.replaces_competitor else None,
            }
        )


class RecordedHandoff(BaseModel):
    """One handoff to replay, from its win on."""

    model_config = ConfigDict(extra="forbid")

    deal: DealRecord
    won_at: datetime | None = Field(default=None, description="when the win reached Baton (default: the close)")
    statuses: dict[FieldName, float] = Field(default_factory=dict, description="each field's status at the win")
    submitted: bool = Field(default=False, description="the win carried the document, so it was gated then")
    messages: list[ScenarioMessage] = Field(default_factory=list, description="with instants, not offsets")
    active_users: int | None = Field(default=None, ge=0)

    @field_validator("statuses")
    @classmethod
    def _statuses(cls, value: dict[FieldName, float]) -> dict[FieldName, float]:
        bad = [f"{name.value}={status}" for name, status in value.items() if status not in (0.0, 0.5, 1.0)]
        if bad:
            raise ValueError(f"statuses are 0, 0.5 or 1: {', '.join(bad)}")
        return value

    @field_validator("messages")
    @classmethod
    def _instants(cls, value: list[ScenarioMessage]) -> list[ScenarioMessage]:
        if any(message.at.startswith("+") for message in value):
            raise ValueError("a recorded message carries its instant, not an offset")
        return value

    @property
    def start(self) -> datetime:
        return self.won_at or self.deal.closed_at

    def document(self) -> HandoffDocument | None:
        """What the win carried: a stand-in with the recorded statuses (None: nothing was carried)."""
        return document_for(self.statuses) if self.submitted else None

    def timed(self) -> list[TimedMessage]:
        timed = [
            TimedMessage(datetime.fromisoformat(message.at), index, message.type, message.parsed())
            for index, message in enumerate(self.messages)
        ]
        return sorted(timed, key=lambda message: (message.at, message.index))


def recorded(
    facts: DealRecord, entries: Sequence[TimelineEntry], won_at: datetime, check: dict[str, Any] | None = None
) -> RecordedHandoff:
    """A handoff read back from its timeline and its 30-day check's summary (answers and usage)."""
    ordered = sorted(entries, key=lambda entry: entry.seq)
    check_finished_at = next(
        (e.at for e in ordered if e.kind is Kind.CHILD_FINISHED and e.details.get("child") == "post_check"), None
    )
    statuses: dict[str, float] = {}
    at_win = None
    submitted = False
    messages: list[dict[str, Any]] = []
    document_at: int | None = None  # the message whose statuses the next document_scored gives
    for entry in ordered:
        details = entry.details
        if entry.kind is Kind.DOCUMENT_SCORED and isinstance(details.get("statuses"), dict):
            statuses = dict(details["statuses"])
            if document_at is not None:
                messages[document_at]["body"]["fields"] = patch_for(_as_statuses(statuses)).model_dump(mode="json")
        if entry.at < won_at:
            continue
        people = _message(entry)
        if at_win is None and (people is not None or entry.at > won_at):
            at_win = dict(statuses)
        if at_win is None:
            submitted = submitted or _gated(entry)
            continue
        if people is not None:
            if _same_departure(messages[-1] if messages else None, people):
                # One message named the recovery owner as it told of the departure: its notices
                # follow both entries, so it replays as the one message it was.
                messages[-1]["body"]["recovery_owner"] = people["body"]["recovery_owner"]
                continue
            document_at = len(messages) if people["type"] == MessageType.DOCUMENT else document_at
            messages.append(people)
    if at_win is None:
        at_win = statuses
    if check is not None and check.get("answers") and check_finished_at is not None:
        answers = check["answers"]
        messages.append(
            {
                "at": check_finished_at.isoformat(),
                "type": MessageType.POST_CHECK,
                "body": {
                    "enough_context": answers.get("enough_context", True),
                    "concerns": ["a concern"] * int(answers.get("concerns", 0)),
                    "partner_confirmed": answers.get("partner_confirmed"),
                },
            }
        )
    usage = (check or {}).get("usage") or {}
    return RecordedHandoff.model_validate(
        {
            "deal": facts,
            "won_at": won_at,
            "statuses": at_win,
            "submitted": submitted,
            "messages": messages,
            "active_users": usage.get("active_users") if usage.get("measured") else None,
        }
    )


def _message(entry: TimelineEntry) -> dict[str, Any] | None:
    """The scenario message a timeline entry records, if it records one a person or the CRM sent."""
    d, at = entry.details, entry.at.isoformat()
    kind = entry.kind
    if kind is Kind.MESSAGE and d.get("message") in _PEOPLES:
        return {"at": at, **_people(d)}
    if kind is Kind.CSM_ASSIGNED and d.get("by") != "rule":
        return {
            "at": at,
            "type": MessageType.CSM,
            "body": {"csm": d["csm"], "team": d.get("team", ""), "by": d.get("by", "")},
        }
    if kind is Kind.DEADLINE_EXTENDED:
        moved = datetime.fromisoformat(d["due"]) - datetime.fromisoformat(d["previous_due"])
        body = {
            "sla": d["sla"],
            "extend_by": f"{int(moved / timedelta(seconds=1))}s",
            "reason": d.get("reason") or "recorded",
        }
        return {"at": at, "type": MessageType.EXTEND_DEADLINE, "body": body}
    if kind is Kind.MILESTONE:
        return {"at": at, "type": MessageType.MILESTONE, "body": {"milestone": d["milestone"]}}
    if kind is Kind.CLOSED and d.get("outcome") == "lost":
        return {"at": at, "type": MessageType.STAGE, "body": {"stage": "lost", "kind": "lost"}}
    return None


def _people(d: dict[str, Any]) -> dict[str, Any]:
    name = d["message"]
    by = d.get("by", "")
    if name == "document_updated":
        return {"type": MessageType.DOCUMENT, "body": {"submit": bool(d.get("submit")), "by": by}}
    if name == "intake_review":
        body = {"rating": d["rating"], "accept": d.get("accepted", True), "overrides": d.get("overrides", {}), "by": by}
        return {"type": MessageType.INTAKE_REVIEW, "body": body}
    if name in ("intro_scheduled", "intro_held"):
        body = {"action": name.removeprefix("intro_"), "by": by}
        if d.get("scheduled_for"):
            body["scheduled_for"] = d["scheduled_for"]
        return {"type": MessageType.INTRO, "body": body}
    if name == "first_touch":
        body = {"channel": d.get("channel", ""), "with_implementation_owner": d.get("with_implementation_owner", False)}
        return {"type": MessageType.FIRST_TOUCH, "body": {**body, "by": by}}
    if name == "kickoff_held":
        return {"type": MessageType.KICKOFF, "body": {"by": by}}
    if name == "ae_departed":
        return {"type": MessageType.AE_DEPARTURE, "body": {"by": by}}
    return {"type": MessageType.AE_DEPARTURE, "body": {"recovery_owner": d.get("owner", ""), "by": by}}


def _same_departure(previous: dict[str, Any] | None, message: dict[str, Any]) -> bool:
    return (
        previous is not None
        and previous["type"] == MessageType.AE_DEPARTURE == message["type"]
        and previous["at"] == message["at"]
        and "recovery_owner" not in previous["body"]
        and bool(message["body"].get("recovery_owner"))
    )


def _gated(entry: TimelineEntry) -> bool:
    """The win's own entries show the document was gated then: it came with the win."""
    d = entry.details
    return (
        (entry.kind is Kind.NOTIFIED and d.get("event") == "document_submitted")
        or (entry.kind is Kind.MESSAGE and d.get("message") == "returned_to_sales")
        # Past the document at the win: it was submitted (a replay records no notices).
        or (entry.kind is Kind.PHASE_CHANGED and d.get("phase") not in (None, "pre_close", "documenting"))
    )


def _as_statuses(found: dict[str, float]) -> dict[FieldName, float]:
    names = {name.value for name in FieldName}
    return {FieldName(name): status for name, status in found.items() if name in names}
