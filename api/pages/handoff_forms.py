"""From a page's form fields to the message the API would send: the same domain models, so a form can
never say more than the JSON API can. A bad field raises FormError naming it, before anything is sent."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from starlette.datastructures import FormData

from domain.document import Contact, ContactRole, DocumentPatch, FieldName, SalesConversations
from domain.messages import (
    CsmAssignment,
    DeadlineExtension,
    DocumentUpdate,
    FirstTouch,
    IntakeReviewInput,
    IntroAction,
    IntroUpdate,
    KickoffHeld,
    MilestoneReached,
    PostCheckAnswers,
)  # fmt: skip
from domain.onboarding_policy import Milestone
from domain.roles import SlaName

TEXT_FIELDS = ("goals", "success_criteria", "risks", "scope", "contract_terms", "communication_preferences")
CONTACT_PARTS = ("name", "title", "role", "email", "notes")
CONVERSATION_PARTS = ("commitments", "objections", "concessions")
MAX_CONTACTS = 50
OVERRIDE_CHOICES = {"": None, "0": 0.0, "0.5": 0.5, "1": 1.0}


class FormError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


def _text(form: FormData, name: str) -> str:
    value = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def contact_rows(form: FormData) -> list[Contact]:
    contacts = []
    for index in range(MAX_CONTACTS):
        parts = {part: _text(form, f"stakeholders-{index}-{part}") for part in CONTACT_PARTS}
        if not any(parts.values()):
            continue
        role = parts.pop("role")
        if role and role not in ContactRole.__members__.values():
            raise FormError(f"stakeholders-{index}-role", f"unknown role {role!r}")
        try:
            contacts.append(Contact(**parts, role=ContactRole(role) if role else None))
        except ValidationError:
            raise FormError(f"stakeholders-{index}-email", "not an e-mail address") from None
    return contacts


def document_patch(form: FormData) -> DocumentPatch:
    """Every field the page shows, as typed: an emptied box empties the field."""
    values: dict[str, Any] = {name: _text(form, name) for name in TEXT_FIELDS}
    values["stakeholders"] = contact_rows(form)
    values["sales_conversations"] = SalesConversations(
        **{part: _lines(_text(form, part)) for part in CONVERSATION_PARTS}
    )
    return DocumentPatch(**values)


def document_update(form: FormData, by: str) -> DocumentUpdate:
    return DocumentUpdate(by=by, fields=document_patch(form), submit=_text(form, "intent") == "submit")


def intake_review(form: FormData, by: str) -> IntakeReviewInput:
    rating = _text(form, "rating")
    if rating not in ("1", "2", "3", "4", "5"):
        raise FormError("rating", "choose a rating from 1 to 5")
    overrides: dict[FieldName, float] = {}
    for name in FieldName:
        choice = _text(form, f"override-{name.value}")
        if choice not in OVERRIDE_CHOICES:
            raise FormError(f"override-{name.value}", "choose specific, generic, empty or the rule's verdict")
        status = OVERRIDE_CHOICES[choice]
        if status is not None:
            overrides[name] = status
    return IntakeReviewInput(
        by=by,
        rating=int(rating),
        overrides=overrides,
        comments=_text(form, "comments"),
        accept=_text(form, "accept") != "no",
    )


def local_instant(text: str, zone: str, field: str) -> datetime:
    """A datetime-local box's value, read in the person's own time zone."""
    try:
        naive = datetime.fromisoformat(text)
    except ValueError:
        raise FormError(field, f"not a date and time: {text[:40]!r}") from None
    if naive.tzinfo is not None:
        return naive
    if not 1900 <= naive.year <= 2200:
        raise FormError(field, "give a date between 1900 and 2200")
    return naive.replace(tzinfo=ZoneInfo(zone))


def intro(form: FormData, by: str, zone: str) -> IntroUpdate:
    action = _text(form, "action")
    if action not in ("scheduled", "held"):
        raise FormError("action", "choose scheduled or held")
    when = _text(form, "scheduled_for")
    scheduled_for = local_instant(when, zone, "scheduled_for") if when else None
    return IntroUpdate(by=by, action=IntroAction(action), scheduled_for=scheduled_for)


def first_touch(form: FormData, by: str) -> FirstTouch:
    return FirstTouch(
        by=by,
        channel=_text(form, "channel")[:100],
        with_implementation_owner=form.get("with_implementation_owner") == "on",
    )


def kickoff(form: FormData, by: str) -> KickoffHeld:
    return KickoffHeld(by=by, success_plan=_lines(_text(form, "success_plan")))


def milestone(form: FormData, by: str) -> MilestoneReached:
    choice = _text(form, "milestone")
    if choice not in Milestone.__members__.values():
        raise FormError("milestone", "choose a milestone from the list")
    return MilestoneReached(by=by, milestone=Milestone(choice), notes=_text(form, "notes"))


def post_check(form: FormData, by: str) -> PostCheckAnswers:
    enough = _text(form, "enough_context")
    if enough not in ("yes", "no"):
        raise FormError("enough_context", "answer yes or no")
    partner = _text(form, "partner_confirmed")
    return PostCheckAnswers(
        by=by,
        enough_context=enough == "yes",
        concerns=_lines(_text(form, "concerns")),
        partner_confirmed={"yes": True, "no": False}.get(partner),
        notes=_text(form, "notes"),
    )


def csm_assignment(form: FormData, by: str, seats: dict[str, str]) -> CsmAssignment:
    """`seats` maps each CSM the lead may choose to their team."""
    csm = _text(form, "csm")
    if csm not in seats:
        raise FormError("csm", "choose a CSM from the list")
    return CsmAssignment(by=by, csm=csm, team=seats[csm])


def extension(form: FormData, by: str, sla: str, zone: str) -> DeadlineExtension:
    if sla not in SlaName.__members__.values():
        raise FormError("sla", f"unknown SLA {sla!r}")
    new_due_text, extend_by = _text(form, "new_due"), _text(form, "extend_by")
    new_due = local_instant(new_due_text, zone, "new_due") if new_due_text else None
    return validated(
        "extend_by",
        lambda: DeadlineExtension(
            by=by, sla=SlaName(sla), new_due=new_due, extend_by=extend_by or None, reason=_text(form, "reason")
        ),
    )


def validated(field: str, build):
    try:
        return build()
    except ValidationError as err:
        first = err.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or field
        raise FormError(where, first["msg"]) from None
