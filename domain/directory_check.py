"""What `baton directory check` says about a valid directory: a summary, and what will bite later.

A warning is something the model accepts (the file is usable today) but that makes a handoff reach
nobody, or only the RevOps fallback, on some day or for some deal. Pure: the day is given.
"""

from __future__ import annotations

from datetime import date

from domain.approach_kinds import Approach
from domain.directory import Directory


def directory_summary(directory: Directory) -> str:
    partners = len(directory.partners)
    return (
        f"{len(directory.people)} people, {len(directory.sales_teams)} sales teams, "
        f"{len(directory.cs_teams)} CS teams, {partners} partner{'' if partners == 1 else 's'}, "
        f"fallback {directory.revops or '(none)'}"
    )


def directory_warnings(directory: Directory, today: date) -> list[str]:
    warnings: list[str] = []
    for person in directory.people:
        # A deal owner is whoever has CRM owner ids; one in no team has no manager or VP to escalate to.
        if person.crm_owner_ids and not directory.roles_of(person.id):
            crms = ", ".join(sorted(person.crm_owner_ids))
            warnings.append(
                f"people.{person.id}: owns {crms} records but is in no sales team "
                "(add to sales_teams.*.aes, or escalations about their deals reach only revops)"
            )
        if person.away_on(today) and not person.delegate and not person.manager:
            warnings.append(
                f"people.{person.id}: out of office today with neither delegate nor manager "
                "(their notices go to revops)"
            )
    for team in directory.cs_teams:
        if not team.csms:
            warnings.append(f"cs_teams.{team.name}.csms: no CSM seat (its handoffs get no CSM by rule)")
        elif all(seat.capacity == 0 for seat in team.csms):
            warnings.append(f"cs_teams.{team.name}.csms: every seat has capacity 0")
    if directory.cs_teams:
        served = {approach for team in directory.cs_teams for approach in team.approaches}
        for approach in Approach:
            if approach not in served:
                warnings.append(f"cs_teams: no team serves {approach.value} handoffs (they get no CSM by rule)")
    elif directory.people:
        warnings.append("cs_teams: none, so CSM assignment still uses the policy's teams (deprecated there)")
    return warnings
