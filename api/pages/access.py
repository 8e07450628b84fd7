"""Who may see and do what on the pages, from the directory and the handoff's owners (pure rules).

An AE edits the documents of the deals they own (a recovery owner stands in for a departed AE); the
assigned CSM records the intake review and the CS steps; the lead and manager of the handoff's CS team
act on their team's handoffs (assign, extend, and the CS steps); sales managers, VPs, CS leads, CS
managers and RevOps read every handoff and the scorecard. API keys are not involved here.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.directory import CsTeam, Directory, DirectoryRole, Person
from domain.state import HandoffState

OVERSIGHT = frozenset(
    {
        DirectoryRole.SALES_MANAGER,
        DirectoryRole.VP_SALES,
        DirectoryRole.CS_LEAD,
        DirectoryRole.CS_MANAGER,
        DirectoryRole.REVOPS,
    }
)
QUEUE_ALL = frozenset({DirectoryRole.CS_LEAD, DirectoryRole.CS_MANAGER, DirectoryRole.REVOPS})


@dataclass(frozen=True)
class HandoffAccess:
    read: bool = False
    edit_document: bool = False
    intro: bool = False
    cs_steps: bool = False
    assign_csm: bool = False
    extend_deadlines: bool = False

    @property
    def acts(self) -> bool:
        return self.edit_document or self.intro or self.cs_steps or self.assign_csm or self.extend_deadlines


def resolve(directory: Directory, crm: str, value: str) -> Person | None:
    """A person from what a handoff stores: a directory id, an e-mail, or the CRM's owner id."""
    if not value:
        return None
    return directory.by_crm_owner(crm, value)


def team_of(directory: Directory, state: HandoffState) -> CsTeam | None:
    """The handoff's CS team; before one is assigned, the team that serves its approach."""
    if state.owners.cs_team:
        return directory.cs_team(state.owners.cs_team)
    if state.approach is not None:
        return directory.cs_team_for(state.approach.approach)
    return None


def handoff_access(directory: Directory, person: Person, state: HandoffState) -> HandoffAccess:
    crm = state.deal.crm
    owners = state.owners
    is_ae = any(resolve(directory, crm, who) == person for who in (owners.ae, owners.recovery_owner))
    is_csm = resolve(directory, crm, owners.csm) == person
    team = team_of(directory, state)
    leads_team = team is not None and person.id in (team.lead, team.manager)
    roles = directory.roles_of(person.id)
    partner = state.deal.channel_partner and directory.partners.get(state.deal.channel_partner) == person.id
    services = state.deal.professional_services and directory.professional_services == person.id
    reads = bool(roles & OVERSIGHT) or is_ae or is_csm or leads_team or bool(partner) or bool(services)
    if state.ended:
        return HandoffAccess(read=reads)
    return HandoffAccess(
        read=reads,
        edit_document=is_ae,
        intro=is_ae or is_csm or leads_team,
        cs_steps=is_csm or leads_team,
        assign_csm=leads_team,
        extend_deadlines=leads_team,
    )


def reads_scorecard(roles: frozenset[DirectoryRole]) -> bool:
    return bool(roles & OVERSIGHT)


def queue_scope(roles: frozenset[DirectoryRole]) -> str | None:
    """`all` for leads, managers and RevOps; `own` for a CSM (their handoffs only); None: no queue."""
    if roles & QUEUE_ALL:
        return "all"
    if DirectoryRole.CSM in roles:
        return "own"
    return None


def display_name(directory: Directory, value: str | None, crm: str | None = None) -> str:
    """A person's name for what the read model or a handoff stores; the raw value when nobody matches."""
    if not value:
        return ""
    person = directory.by_crm_owner(crm, value) if crm else None
    if person is None:
        person = directory.person(value) or (directory.by_email(value) if "@" in value else None)
    if person is None:
        person = next((p for p in directory.people if any(value in ids for ids in p.crm_owner_ids.values())), None)
    return person.name if person else value
