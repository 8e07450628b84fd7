"""Who a notice reaches: a place in the handoff (the AE, the CSM, the sales manager...) resolved to people.

The rules name places (`Audience`), never people: who holds a place on a given day is the directory's to
say, read live when the notice is sent (people leave, cover for each other and go on holiday while a
handoff runs). `resolve` is that reading, pure, so the notify step and `baton simulate` resolve alike:

- the deal's own people first: the AE is the deal's CRM owner (its owner id, as the directory's
  `crm_owner_ids` maps it, or an e-mail); a deal that names its sales manager or VP keeps them;
- then the directory: the AE's sales team (its manager and VP), the AE's own `manager` (and theirs),
  the deal's CS team (its lead and manager), the partner's manager, the professional-services contact;
- a person away that day is covered by their delegate, else their manager (and so on up, never in a
  loop); nobody free to cover leaves the person themselves;
- a place nobody holds goes to the RevOps fallback, and is reported as unresolved (the timeline gets a
  `recipient_unresolved` warning, the worker a metric).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, Field

from domain.directory import Directory, Person, looks_like_email


class Audience(StrEnum):
    """A place in the handoff that a notice is for."""

    AE = "ae"
    SALES_MANAGER = "sales_manager"
    VP_SALES = "vp_sales"
    SALES_TEAM = "sales_team"
    CSM = "csm"
    CS_LEAD = "cs_lead"
    CS_MANAGER = "cs_manager"
    PARTNER_MANAGER = "partner_manager"
    PROFESSIONAL_SERVICES = "professional_services"
    RECOVERY_OWNER = "recovery_owner"
    REVOPS = "revops"


class DealPeople(BaseModel):
    """What the handoff knows of its people: ids and addresses as the CRM and the API gave them."""

    crm: str
    ae: str = ""
    sales_manager: str = ""
    vp_sales: str = ""
    csm: str = ""
    cs_team: str = ""
    cs_manager: str = Field(default="", description="the manager a policy's (deprecated) CS team names")
    recovery_owner: str = ""
    partner: str = ""


class Recipient(BaseModel):
    """One person a notice goes to: a directory person, or only an address the deal carried."""

    id: str = Field(description="the directory's person id, or the address when the directory has none")
    name: str = ""
    email: str | None = None
    slack_id: str | None = None
    timezone: str | None = None
    audience: list[Audience] = Field(default_factory=list, description="the places this person holds here")
    covering_for: str | None = Field(default=None, description="the person away whom this one covers")


class Resolution(BaseModel):
    recipients: list[Recipient] = Field(default_factory=list)
    unresolved: list[Audience] = Field(default_factory=list)

    @property
    def ids(self) -> list[str]:
        return [r.id for r in self.recipients]


# How far up a chain of delegates and managers cover for someone away: far enough for any real org.
_COVER_DEPTH = 6


def resolve(audience: list[Audience], people: DealPeople, directory: Directory, day: date) -> Resolution:
    """The people holding each place on `day` (the notice's local date), each once, in order."""
    found: dict[str, Recipient] = {}
    unresolved: list[Audience] = []
    for place in dict.fromkeys(audience):
        holders = _holders(place, people, directory)
        if not holders:
            unresolved.append(place)
            continue
        for holder in holders:
            _add(found, _cover(holder, directory, day), place)
    if unresolved:
        fallback = directory.person(directory.revops) if directory.revops else None
        if fallback is not None:
            _add(found, _as_recipient(fallback), Audience.REVOPS)
    return Resolution.model_construct(recipients=list(found.values()), unresolved=unresolved)


def _add(found: dict[str, Recipient], recipient: Recipient, place: Audience) -> None:
    existing = found.setdefault(recipient.id, recipient)
    if place not in existing.audience:
        existing.audience.append(place)


_NEEDS_THE_AE = frozenset({Audience.AE, Audience.SALES_MANAGER, Audience.VP_SALES, Audience.SALES_TEAM})


def _holders(place: Audience, people: DealPeople, d: Directory) -> list[Recipient | Person]:
    ae = _lookup(people.ae, people.crm, d) if place in _NEEDS_THE_AE else None
    ae_person = ae if isinstance(ae, Person) else None
    team = d.sales_team_of(ae_person.id) if ae_person else None
    match place:
        case Audience.AE:
            return [ae] if ae else []
        case Audience.SALES_MANAGER:
            named = _lookup(people.sales_manager, people.crm, d)
            return [named] if named else _people(d, team.manager if team else _manager_id(ae_person))
        case Audience.VP_SALES:
            named = _lookup(people.vp_sales, people.crm, d)
            if named:
                return [named]
            if team:
                return _people(d, team.vp)
            manager = d.person(_manager_id(ae_person) or "")
            return _people(d, _manager_id(manager))
        case Audience.SALES_TEAM:
            if team:
                return _people(d, team.manager, *team.aes)
            return [p for p in (ae, *_people(d, _manager_id(ae_person))) if p]
        case Audience.CSM:
            csm = _lookup(people.csm, people.crm, d)
            return [csm] if csm else []
        case Audience.CS_LEAD:
            cs = d.cs_team(people.cs_team)
            return _people(d, cs.lead) if cs else []
        case Audience.CS_MANAGER:
            cs = d.cs_team(people.cs_team)
            if cs:
                return _people(d, cs.manager)
            named = _lookup(people.cs_manager, people.crm, d)
            return [named] if named else []
        case Audience.PARTNER_MANAGER:
            return _people(d, d.partners.get(people.partner)) if people.partner else []
        case Audience.PROFESSIONAL_SERVICES:
            return _people(d, d.professional_services)
        case Audience.RECOVERY_OWNER:
            owner = _lookup(people.recovery_owner, people.crm, d)
            return [owner] if owner else []
        case Audience.REVOPS:
            return _people(d, d.revops)


def _lookup(given: str, crm: str, d: Directory) -> Recipient | Person | None:
    """A person the deal names by CRM owner id, e-mail or person id; an address the directory does not
    know is still someone to write to; an unknown id is nobody."""
    given = given.strip()
    if not given:
        return None
    person = d.by_crm_owner(crm, given)
    if person is not None:
        return person
    if looks_like_email(given):
        return Recipient.model_construct(id=given, email=given, name="", slack_id=None, timezone=None, audience=[])
    return None


def _people(d: Directory, *ids: str | None) -> list[Recipient | Person]:
    return [p for p in (d.person(pid) for pid in ids if pid) if p is not None]


def _manager_id(person: Person | None) -> str | None:
    return person.manager if person else None


def _cover(holder: Recipient | Person, d: Directory, day: date) -> Recipient:
    """The holder, or whoever covers for them while they are away."""
    if isinstance(holder, Recipient):
        return holder
    if not holder.away_on(day):
        return _as_recipient(holder)
    seen = {holder.id}
    frontier = [holder]
    for _ in range(_COVER_DEPTH):
        nxt: list[Person] = []
        for person in frontier:
            for pid in (person.delegate, person.manager):
                candidate = d.person(pid) if pid else None
                if candidate is None or candidate.id in seen:
                    continue
                if not candidate.away_on(day):
                    return _as_recipient(candidate, covering_for=holder.id)
                seen.add(candidate.id)
                nxt.append(candidate)
        frontier = nxt
    return _as_recipient(holder)


def _as_recipient(person: Person, covering_for: str | None = None) -> Recipient:
    # Built from a validated person: not validated again (a backtest resolves a great many).
    return Recipient.model_construct(
        id=person.id,
        name=person.name,
        email=person.email,
        slack_id=person.slack_id,
        timezone=person.timezone,
        covering_for=covering_for,
        audience=[],
    )
