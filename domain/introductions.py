"""What the customer (or the existing CSM) is sent when CS is introduced, by approach; pure.

The rules decide *when* (domain/machine_outreach.py); this module decides *who gets what*:

- `customer_contacts`: which of the document's contacts an introduction goes to. Only contacts with an
  e-mail address ever do; a style that needs a contact nobody has an address for sends the customer
  nothing (the rules put a warning on the timeline).
- `compose`: the one e-mail an introduction is, once its people (the AE, the CSM, the partner manager)
  are resolved from the directory: To, Cc, Reply-To, the template to render and the values it gets,
  and for a live call the calendar invitation. Baton sends every message from its own address; the
  AE is the Reply-To, so a message "from the AE" passes the receiving side's DMARC check.

The workflow and the simulator compose alike; the introductions activity renders and sends.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field

from domain.approach_policy import IntroStyle
from domain.directory import looks_like_email
from domain.document import Contact, ContactRole, HandoffDocument
from domain.recipients import Audience, Recipient

# The warm introduction meeting the seeds describe: five minutes of the AE, fifteen of goals, ten of CSM.
INTRO_CALL_LENGTH = timedelta(minutes=30)

# Who, among the customer's contacts, a style addresses first (the first role with an address wins).
_INTRO_TO = (ContactRole.CHAMPION, ContactRole.EXECUTIVE_SPONSOR, ContactRole.DECISION_MAKER)


class Address(BaseModel):
    name: str = ""
    email: str


class Introduction(BaseModel):
    """An introduction the rules asked for: what it is and about whom, before its people are known.

    `contacts`: the customer contacts it goes to (each with an address); `audience`: the places in
    the handoff it involves, resolved to people as it is sent."""

    key: str
    workflow_id: str
    style: IntroStyle
    at: datetime = Field(description="when the rules asked for it (the invitation's DTSTAMP)")
    account: str
    audience: list[Audience]
    contacts: list[Contact] = Field(default_factory=list)
    step: int = Field(default=1, ge=1, description="the welcome sequence's message number")
    scheduled_for: datetime | None = None
    sequence: int = Field(default=0, ge=0, description="the invitation's SEQUENCE: 0, then one more per reschedule")
    goals: str = ""
    success_criteria: str = ""
    scope: str = ""
    partner: str = ""
    partner_contact: Contact | None = None


class OutgoingIntroduction(BaseModel):
    """One e-mail, ready to render and send (the activity's input)."""

    key: str
    style: IntroStyle
    template: str
    to: list[Address] = Field(default_factory=list)
    cc: list[Address] = Field(default_factory=list)
    reply_to: Address | None = None
    context: dict[str, Any] = Field(default_factory=dict)
    ics: str | None = None
    people: list[str] = Field(default_factory=list, description="the ids of Baton's people it goes to")
    contacts: list[str] = Field(default_factory=list, description="the names of the customer's contacts")

    @property
    def sendable(self) -> bool:
        return bool(self.to)


def _reachable(contacts: list[Contact]) -> list[Contact]:
    return [c for c in contacts if c.email and looks_like_email(c.email)]


def _first_with_role(contacts: list[Contact], roles: tuple[ContactRole, ...]) -> Contact | None:
    for role in roles:
        found = next((c for c in contacts if c.role is role), None)
        if found is not None:
            return found
    return None


def customer_contacts(style: IntroStyle, document: HandoffDocument) -> list[Contact]:
    """The contacts an introduction of `style` goes to (only contacts with an address):

    - welcome sequence: every stakeholder with an address;
    - intro e-mail: the champion, else the executive sponsor, else the decision maker;
    - live call: the executive sponsor;
    - three-way: the champion (as the intro e-mail), only when the partner shares its end-customer
      contacts (the partner owns the relationship; the partner contact is addressed apart);
    - internal note: nobody (it goes to the existing CSM)."""
    reachable = _reachable(document.stakeholders)
    match style:
        case IntroStyle.WELCOME_SEQUENCE:
            return reachable
        case IntroStyle.INTRO_EMAIL:
            first = _first_with_role(reachable, _INTRO_TO)
            return [first] if first else []
        case IntroStyle.LIVE_CALL:
            sponsor = _first_with_role(reachable, (ContactRole.EXECUTIVE_SPONSOR,))
            return [sponsor] if sponsor else []
        case IntroStyle.THREE_WAY:
            partner = document.partner_context
            if partner is None or not partner.end_customer_contacts_shared:
                return []
            first = _first_with_role(reachable, _INTRO_TO)
            return [first] if first else []
        case IntroStyle.INTERNAL_NOTE:
            return []


def partner_contact(document: HandoffDocument) -> Contact | None:
    """The partner's own contact for this deal, when the document names one with an address."""
    partner = document.partner_context
    contact = partner.partner_contact if partner else None
    return contact if contact is not None and _reachable([contact]) else None


def _holder(people: list[Recipient], place: Audience) -> Recipient | None:
    return next((p for p in people if place in p.audience), None)


def _address(person: Recipient | None) -> Address | None:
    if person is None or not person.email:
        return None
    return Address(name=person.name, email=person.email)


def _contact_address(contact: Contact) -> Address:
    return Address(name=contact.name, email=contact.email)


def compose(intro: Introduction, people: list[Recipient]) -> OutgoingIntroduction:
    """The e-mail `intro` is, given the people its places resolved to. A fallback recipient (RevOps,
    standing in for a place nobody holds) is never put in front of a customer."""
    ae, csm = _holder(people, Audience.AE), _holder(people, Audience.CSM)
    manager = _holder(people, Audience.PARTNER_MANAGER)
    ae_at, csm_at, manager_at = _address(ae), _address(csm), _address(manager)
    contacts = [_contact_address(c) for c in intro.contacts]
    to: list[Address] = []
    cc: list[Address] = []
    reply_to = ae_at
    ics: str | None = None
    template = intro.style.value
    match intro.style:
        case IntroStyle.WELCOME_SEQUENCE:
            to, reply_to, template = contacts, csm_at or ae_at, f"welcome_{intro.step}"
        case IntroStyle.INTRO_EMAIL:
            to, cc = contacts, [a for a in (csm_at,) if a]
        case IntroStyle.LIVE_CALL:
            to = [a for a in (ae_at, csm_at) if a] + contacts
            if intro.scheduled_for is not None and to:
                ics = invitation(intro, organizer=ae_at or csm_at, attendees=to)
        case IntroStyle.THREE_WAY:
            partner = [_contact_address(intro.partner_contact)] if intro.partner_contact else []
            to = partner + [a for a in (manager_at,) if a] + contacts
            cc = [a for a in (csm_at, ae_at) if a]
        case IntroStyle.INTERNAL_NOTE:
            to = [a for a in (csm_at,) if a]
    to, cc = _once(to), [a for a in _once(cc) if a.email not in {t.email for t in to}]
    internal = [p for p in (ae, csm, manager) if p is not None]
    addressed = {a.email for a in to + cc}
    return OutgoingIntroduction(
        key=intro.key,
        style=intro.style,
        template=template,
        to=to,
        cc=cc,
        reply_to=reply_to,
        context=_context(intro, ae, csm, manager),
        ics=ics,
        people=[p.id for p in internal if p.email and p.email in addressed],
        contacts=[c.name or "(unnamed)" for c in intro.contacts],
    )


def _once(addresses: list[Address]) -> list[Address]:
    seen: dict[str, Address] = {}
    for a in addresses:
        seen.setdefault(a.email.lower(), a)
    return list(seen.values())


def _context(
    intro: Introduction, ae: Recipient | None, csm: Recipient | None, manager: Recipient | None
) -> dict[str, Any]:
    """What a template may use (every key always present, so a template can test any of them)."""
    champion = intro.contacts[0] if intro.contacts else None
    return {
        "account": intro.account,
        "ae_name": ae.name if ae and ae.name else "your account executive",
        "csm_name": csm.name if csm and csm.name else "your customer success manager",
        "partner_manager_name": manager.name if manager and manager.name else "",
        "partner": intro.partner,
        "partner_contact_name": intro.partner_contact.name if intro.partner_contact else "",
        "contact_names": [c.name for c in intro.contacts if c.name],
        "greeting_name": champion.name.split()[0] if champion and champion.name.strip() else "",
        "goals": intro.goals,
        "success_criteria": intro.success_criteria,
        "scope": intro.scope,
        "step": intro.step,
        "scheduled_for": intro.scheduled_for.astimezone(UTC).strftime("%A %d %B %Y, %H:%M UTC")
        if intro.scheduled_for
        else "",
        "rescheduled": intro.sequence > 0,
    }


# ---- the calendar invitation (RFC 5545) -----------------------------------------------------------


def invitation_uid(workflow_id: str) -> str:
    """One UID per handoff's intro call: a resend or a reschedule updates the same event. Hashed, so
    no deal id reaches a customer's calendar."""
    return f"{hashlib.sha256(workflow_id.encode()).hexdigest()[:32]}-intro@baton"


def invitation(intro: Introduction, organizer: Address | None, attendees: list[Address]) -> str:
    """METHOD:REQUEST for the intro call at `intro.scheduled_for` (UTC), SEQUENCE `intro.sequence`."""
    if intro.scheduled_for is None:
        raise ValueError("an invitation needs the call's time")
    start = intro.scheduled_for
    summary = f"Introduction: {intro.account} and customer success"
    description = "\n".join(
        part
        for part in (
            f"The warm introduction of {intro.account} to customer success.",
            f"Goals: {intro.goals}" if intro.goals else "",
            f"Success criteria: {intro.success_criteria}" if intro.success_criteria else "",
        )
        if part
    )
    lines = [
        "BEGIN:VCALENDAR",
        "PRODID:-//Baton//Handoff introductions//EN",
        "VERSION:2.0",
        "CALSCALE:GREGORIAN",
        "METHOD:REQUEST",
        "BEGIN:VEVENT",
        f"UID:{invitation_uid(intro.workflow_id)}",
        f"SEQUENCE:{intro.sequence}",
        f"DTSTAMP:{_utc(intro.at)}",
        f"DTSTART:{_utc(start)}",
        f"DTEND:{_utc(start + INTRO_CALL_LENGTH)}",
        f"SUMMARY:{escape_text(summary)}",
        f"DESCRIPTION:{escape_text(description)}",
        "STATUS:CONFIRMED",
    ]
    if organizer is not None:
        lines.append(f"ORGANIZER{_cn(organizer)}:mailto:{organizer.email}")
    for person in attendees:
        lines.append(
            f"ATTENDEE{_cn(person)};ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:{person.email}"
        )
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return "".join(fold(line) + "\r\n" for line in lines)


def _utc(instant: datetime) -> str:
    if instant.tzinfo is None:
        raise ValueError("calendar times need a time zone")
    return instant.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _cn(person: Address) -> str:
    if not person.name:
        return ""
    # A parameter value with : ; or , must be quoted, and may not hold a double quote (RFC 5545 3.2).
    name = person.name.replace('"', "'")
    return f';CN="{name}"' if any(ch in name for ch in ":;,") else f";CN={name}"


def escape_text(value: str) -> str:
    """A TEXT value (RFC 5545 3.3.11): backslash, semicolon and comma escaped, newlines as \\n."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def fold(line: str, limit: int = 75) -> str:
    """A content line folded at `limit` octets (RFC 5545 3.1): CRLF then a space, never inside a UTF-8
    character."""
    parts: list[str] = []
    current, size = "", 0
    for ch in line:
        width = len(ch.encode())
        room = limit if not parts else limit - 1  # a continuation line spends one octet on its space
        if size + width > room:
            parts.append(current)
            current, size = "", 0
        current += ch
        size += width
    parts.append(current)
    return "\r\n ".join(parts)
