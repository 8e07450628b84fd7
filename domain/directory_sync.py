"""Merging a CRM's users into the people directory, so a deal's owner id resolves to a person.

`baton directory sync` reads the users (infra.crm_owners) and calls `merge_crm_users`; this module
decides, without I/O, what changes. The rules a RevOps person can predict:
- a user is matched to a person by e-mail, case-insensitively, and the CRM's owner id is added to them;
- a user nobody matches becomes a new person, with an id made from the e-mail's local part (ASCII,
  made unique with -2, -3, ...);
- inactive or archived users and users without an e-mail are skipped and reported, never added;
- nobody is removed, and what a person already says (name, time zone, manager) is not overwritten:
  the file may have been edited by hand, and the sync is run again and again;
- an owner id the directory already gives to someone else is reported, not moved.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from domain.directory import Directory, Person, known_zone, looks_like_email

_NOT_ID = re.compile(r"[^a-z0-9._-]+")
_ID_LIMIT = 60  # below the model's 64, leaving room for a "-NN" suffix


@dataclass(frozen=True)
class CrmUser:
    """One CRM user or owner, as infra.crm_owners reads it."""

    crm: str
    owner_id: str
    email: str | None
    name: str = ""
    active: bool = True
    timezone: str | None = None
    # Salesforce's ManagerId: another user's owner id in the same CRM.
    manager_owner_id: str | None = None

    @property
    def label(self) -> str:
        return f"{self.crm} user {self.owner_id}" + (f" ({self.name})" if self.name else "")


@dataclass
class SyncReport:
    linked: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    unchanged: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.linked or self.added or self.updated)

    def lines(self) -> list[str]:
        out = [
            f"{len(self.added)} added, {len(self.linked)} linked, {len(self.updated)} updated, "
            f"{self.unchanged} already known, {len(self.skipped)} skipped, {len(self.conflicts)} conflicts"
        ]
        for title, items in (
            ("added", self.added),
            ("linked", self.linked),
            ("updated", self.updated),
            ("skipped", self.skipped),
            ("conflict", self.conflicts),
        ):
            out.extend(f"  {title}: {item}" for item in items)
        return out


def person_id_from_email(email: str, taken: set[str]) -> str:
    """An id from the e-mail's local part: lower-case ASCII (accents dropped), other characters as '-',
    made unique against `taken` with a numeric suffix."""
    local = email.strip().split("@", 1)[0]
    ascii_text = unicodedata.normalize("NFKD", local).encode("ascii", "ignore").decode("ascii").lower()
    base = _NOT_ID.sub("-", ascii_text).strip("-._")[:_ID_LIMIT].strip("-._") or "person"
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    return candidate


def merge_crm_users(directory: Directory, users: Sequence[CrmUser]) -> tuple[Directory, SyncReport]:
    """The directory with `users` merged in, and what changed. The result is built without validation;
    the caller validates it (a directory that had no people needs its `revops` named)."""
    report = SyncReport()
    people: list[Person] = list(directory.people)
    owner_of: dict[tuple[str, str], int] = {
        (crm, owner_id): index
        for index, person in enumerate(people)
        for crm, owner_ids in person.crm_owner_ids.items()
        for owner_id in owner_ids
    }
    by_email = {person.email.lower(): index for index, person in enumerate(people)}
    taken = {person.id for person in people}

    for user in users:
        if not user.active:
            report.skipped.append(f"{user.label}: inactive or archived, not added")
            continue
        email = (user.email or "").strip()
        if not looks_like_email(email):
            report.skipped.append(f"{user.label}: no usable e-mail address")
            continue
        key = (user.crm, user.owner_id)
        index = by_email.get(email.lower())
        holder = owner_of.get(key)
        if holder is not None and holder != index:
            report.conflicts.append(
                f"{user.label}: its e-mail {email} is not {people[holder].id}'s, who holds this owner id; left there"
            )
            continue
        if index is None:
            person_id = person_id_from_email(email, taken)
            taken.add(person_id)
            name = " ".join(user.name.split())[:200] or email.split("@", 1)[0]
            people.append(
                Person.model_construct(
                    id=person_id,
                    name=name,
                    email=email,
                    slack_id=None,
                    timezone=user.timezone if user.timezone and known_zone(user.timezone) else None,
                    crm_owner_ids={user.crm: [user.owner_id]},
                    out_of_office=[],
                    delegate=None,
                    manager=None,
                )
            )
            index = len(people) - 1
            by_email[email.lower()] = index
            owner_of[key] = index
            report.added.append(f"{person_id}: {user.label}")
            continue
        person = people[index]
        changes: dict[str, object] = {}
        if holder is None:
            owner_ids = {**person.crm_owner_ids}
            owner_ids[user.crm] = [*owner_ids.get(user.crm, []), user.owner_id]
            changes["crm_owner_ids"] = owner_ids
            owner_of[key] = index
            report.linked.append(f"{person.id}: {user.label}")
        if person.timezone is None and user.timezone and known_zone(user.timezone):
            changes["timezone"] = user.timezone
            report.updated.append(f"{person.id}: timezone {user.timezone}")
        if changes:
            people[index] = person.model_copy(update=changes)
        elif holder is not None:
            report.unchanged += 1

    _set_managers(people, users, owner_of, report)
    return directory.model_copy(update={"people": people}), report


def _set_managers(
    people: list[Person], users: Sequence[CrmUser], owner_of: dict[tuple[str, str], int], report: SyncReport
) -> None:
    """A user's CRM manager becomes the person's `manager` when both resolve and none is set yet."""
    for user in users:
        if not user.active or not user.manager_owner_id:
            continue
        index = owner_of.get((user.crm, user.owner_id))
        manager_index = owner_of.get((user.crm, user.manager_owner_id))
        if index is None or manager_index is None or index == manager_index:
            continue
        person, manager = people[index], people[manager_index]
        if person.manager is None:
            people[index] = person.model_copy(update={"manager": manager.id})
            report.updated.append(f"{person.id}: manager {manager.id} (from {user.crm})")
        elif person.manager != manager.id:
            report.conflicts.append(
                f"{person.id}: manager is {person.manager} here and {manager.id} in {user.crm}; kept {person.manager}"
            )
