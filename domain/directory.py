"""The people directory: who a handoff reaches, by name, and who may act on it.

One YAML file (validated by `baton directory check`), read live when a notice is sent or a person signs
in, never snapshotted into a workflow: people join, leave and go on holiday while handoffs run. The
policy keeps the rules; the directory says who the roles are. This module is the model and its
lookups only (pure): reading the file belongs to the processes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from enum import StrEnum
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from domain.approach_kinds import Approach

_PERSON_ID = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
_SLACK_ID = re.compile(r"[UW][A-Z0-9]{2,31}")
_EMAIL = re.compile(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+")


def known_zone(name: str) -> bool:
    """Whether `name` is an IANA zone this machine's tz database knows (Europe/Berlin, UTC)."""
    if not name or name != name.strip():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def looks_like_email(value: str) -> bool:
    return len(value) <= 254 and _EMAIL.fullmatch(value) is not None


def _person_id(value: str) -> str:
    if not _PERSON_ID.fullmatch(value):
        raise ValueError(f"person id must be 1-64 of a-z 0-9 . _ - starting with a letter or digit (got {value!r})")
    return value


PersonId = Annotated[str, AfterValidator(_person_id)]


class DirectoryRole(StrEnum):
    """What a person is in the handoff, as the directory says (not an API key role)."""

    AE = "ae"
    SALES_MANAGER = "sales_manager"
    VP_SALES = "vp_sales"
    CSM = "csm"
    CS_LEAD = "cs_lead"
    CS_MANAGER = "cs_manager"
    PARTNER_MANAGER = "partner_manager"
    PROFESSIONAL_SERVICES = "professional_services"
    REVOPS = "revops"


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Person(_Entry):
    id: PersonId
    name: str = Field(min_length=1, max_length=200)
    email: str = Field(max_length=254)
    slack_id: str | None = Field(default=None, description="Slack member id (U... or W...), for mentions and DMs")
    timezone: str | None = Field(default=None, description="IANA zone; the policy calendar's when absent")
    crm_owner_ids: dict[str, list[str]] = Field(
        default_factory=dict, description="per CRM (hubspot, salesforce, pipedrive, or an event source): owner/user ids"
    )
    out_of_office: list[tuple[date, date]] = Field(default_factory=list, description="inclusive [first, last] days")
    delegate: PersonId | None = Field(default=None, description="who covers while this person is away")
    manager: PersonId | None = None

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        value = value.strip()
        if not _EMAIL.fullmatch(value):
            raise ValueError(f"not an e-mail address: {value!r}")
        return value

    @field_validator("slack_id")
    @classmethod
    def _slack(cls, value: str | None) -> str | None:
        if value is not None and not _SLACK_ID.fullmatch(value):
            raise ValueError(f"a Slack member id looks like U0123ABCD (got {value!r})")
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        # An unknown zone would only surface when a notice is formatted for this person, days later.
        if value is not None and not known_zone(value):
            raise ValueError(f"not an IANA time zone such as Europe/Berlin (got {value!r})")
        return value

    @field_validator("out_of_office")
    @classmethod
    def _ranges(cls, value: list[tuple[date, date]]) -> list[tuple[date, date]]:
        for first, last in value:
            if last < first:
                raise ValueError(f"out_of_office {first} to {last}: the last day is before the first")
        return value

    def away_on(self, day: date) -> bool:
        return any(first <= day <= last for first, last in self.out_of_office)


class SalesTeam(_Entry):
    """AE -> sales manager -> VP of sales: the intro escalation ladder."""

    name: str = Field(min_length=1, max_length=100)
    manager: PersonId
    vp: PersonId
    aes: list[PersonId] = Field(default_factory=list)


class CsmSeat(_Entry):
    person: PersonId
    capacity: int = Field(default=25, ge=0, description="open handoffs at most")


class CsTeam(_Entry):
    name: str = Field(min_length=1, max_length=100)
    approaches: list[Approach]
    lead: PersonId
    manager: PersonId
    csms: list[CsmSeat] = Field(default_factory=list)


class Directory(_Entry):
    people: list[Person] = Field(default_factory=list)
    sales_teams: list[SalesTeam] = Field(default_factory=list)
    cs_teams: list[CsTeam] = Field(default_factory=list)
    partners: dict[str, PersonId] = Field(default_factory=dict, description="channel partner name -> partner manager")
    professional_services: PersonId | None = Field(default=None, description="the professional-services contact")
    revops: PersonId | None = Field(default=None, description="the fallback for a recipient nobody can resolve")

    @model_validator(mode="after")
    def _consistent(self) -> Directory:
        ids = [person.id for person in self.people]
        repeated = sorted({pid for pid in ids if ids.count(pid) > 1})
        if repeated:
            raise ValueError(f"people: ids appear more than once: {', '.join(repeated)}")
        known = set(ids)
        unknown = sorted({f"{where} -> {pid}" for where, pid in self._references() if pid not in known})
        if unknown:
            raise ValueError(f"unknown person ids: {'; '.join(unknown)}")
        if self.people and self.revops is None:
            raise ValueError("revops: name the person who receives what nobody else can be resolved for")
        owners: dict[tuple[str, str], str] = {}
        for person in self.people:
            for crm, owner_ids in person.crm_owner_ids.items():
                for owner_id in owner_ids:
                    other = owners.setdefault((crm, owner_id), person.id)
                    if other != person.id:
                        raise ValueError(f"{crm} owner id {owner_id!r} belongs to both {other} and {person.id}")
        teams = [team.name for team in self.cs_teams] + [team.name for team in self.sales_teams]
        if len(set(teams)) != len(teams):
            raise ValueError("team names must be unique across sales_teams and cs_teams")
        return self

    def _references(self) -> Iterator[tuple[str, str]]:
        for person in self.people:
            if person.delegate:
                yield f"{person.id}.delegate", person.delegate
            if person.manager:
                yield f"{person.id}.manager", person.manager
        for sales in self.sales_teams:
            yield f"sales_teams.{sales.name}.manager", sales.manager
            yield f"sales_teams.{sales.name}.vp", sales.vp
            yield from ((f"sales_teams.{sales.name}.aes", ae) for ae in sales.aes)
        for cs in self.cs_teams:
            yield f"cs_teams.{cs.name}.lead", cs.lead
            yield f"cs_teams.{cs.name}.manager", cs.manager
            yield from ((f"cs_teams.{cs.name}.csms", seat.person) for seat in cs.csms)
        yield from ((f"partners.{partner}", pid) for partner, pid in self.partners.items())
        if self.professional_services:
            yield "professional_services", self.professional_services
        if self.revops:
            yield "revops", self.revops

    # ---- lookups -------------------------------------------------------------------------------

    def person(self, person_id: str) -> Person | None:
        return next((p for p in self.people if p.id == person_id), None)

    def by_email(self, email: str) -> Person | None:
        wanted = email.strip().lower()
        return next((p for p in self.people if p.email.lower() == wanted), None)

    def by_crm_owner(self, crm: str, owner_id: str) -> Person | None:
        """The person a CRM owner id (or an e-mail, as the generic event may carry) stands for."""
        found = next((p for p in self.people if owner_id in p.crm_owner_ids.get(crm, [])), None)
        return found or (self.by_email(owner_id) if "@" in owner_id else None) or self.person(owner_id)

    def sales_team_of(self, person_id: str) -> SalesTeam | None:
        return next((t for t in self.sales_teams if person_id in t.aes), None)

    def cs_team(self, name: str) -> CsTeam | None:
        return next((t for t in self.cs_teams if t.name == name), None)

    def cs_team_for(self, approach: Approach) -> CsTeam | None:
        return next((t for t in self.cs_teams if approach in t.approaches), None)

    def roles_of(self, person_id: str) -> frozenset[DirectoryRole]:
        roles: set[DirectoryRole] = set()
        for sales in self.sales_teams:
            if person_id in sales.aes:
                roles.add(DirectoryRole.AE)
            if person_id == sales.manager:
                roles.add(DirectoryRole.SALES_MANAGER)
            if person_id == sales.vp:
                roles.add(DirectoryRole.VP_SALES)
        for cs in self.cs_teams:
            if any(seat.person == person_id for seat in cs.csms):
                roles.add(DirectoryRole.CSM)
            if person_id == cs.lead:
                roles.add(DirectoryRole.CS_LEAD)
            if person_id == cs.manager:
                roles.add(DirectoryRole.CS_MANAGER)
        if person_id in self.partners.values():
            roles.add(DirectoryRole.PARTNER_MANAGER)
        if person_id == self.professional_services:
            roles.add(DirectoryRole.PROFESSIONAL_SERVICES)
        if person_id == self.revops:
            roles.add(DirectoryRole.REVOPS)
        return frozenset(roles)


class DirectoryError(ValueError):
    """A directory that cannot be used; the message names each bad key."""


def parse_directory(data: dict[str, Any] | None) -> Directory:
    try:
        return Directory.model_validate(data or {})
    except ValidationError as err:
        problems = []
        for error in err.errors(include_input=False):
            key = ".".join(str(part) for part in error["loc"]) or "(top level)"
            problems.append(f"{key}: {error['msg']}")
        raise DirectoryError("invalid directory:\n  " + "\n  ".join(problems)) from None


def dump_directory(directory: Directory) -> str:
    """YAML for a directory: defaults left out, lists of scalars on one line, keys in model order.
    (Comments in a hand-written file are not kept: PyYAML does not read them.)"""
    data = directory.model_dump(mode="json", exclude_defaults=True)
    text: str = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=None, width=120)
    return text


def load_directory_text(text: str) -> Directory:
    """Parse YAML text (the caller reads the file: this module does no I/O)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise DirectoryError(f"invalid directory: not YAML ({err})") from None
    if data is not None and not isinstance(data, dict):
        raise DirectoryError("invalid directory: the top level must be a mapping of keys")
    return parse_directory(data)
