"""Choosing a CSM by rule: round robin within a team, skipping who is away or at capacity.

One implementation for the store's assignment activity (which keeps the position and the loads in the
read model, shared by every worker) and for the simulator and the backtest (which keep them in
memory), so a simulated handoff gets the CSM a real one would.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from domain.approach_kinds import Approach
from domain.calendar import BusinessCalendar
from domain.directory import Directory
from domain.teams import Csm, CsTeam


@dataclass(frozen=True)
class CsmPick:
    csm: str | None
    reason: str
    # The team's round-robin position after this pick (unchanged when nobody was available).
    position: int


def assignment_day(now: datetime, calendar: BusinessCalendar) -> date:
    """The day a CSM's out-of-office dates are read against: the business calendar's local date,
    so a CSM away on a Friday is away all that Friday, not until midnight UTC."""
    return now.astimezone(calendar.tz).date()


def keeps_account_csm(approach: Approach | None) -> bool:
    """Expansions and renewals (the internal approach) stay with the account's CSM: CS already owns the
    relationship, and a round-robin stranger would undo it."""
    return approach is Approach.INTERNAL


def directory_team(directory: Directory, approach: Approach) -> CsTeam | None:
    """The directory's CS team for an approach, as the round robin reads a team: each seat's capacity
    with its person's name and out-of-office days, read when the CSM is chosen (not when the run began)."""
    found = directory.cs_team_for(approach)
    if found is None:
        return None
    csms = []
    for seat in found.csms:
        person = directory.person(seat.person)
        csms.append(
            Csm(
                id=seat.person,
                name=person.name if person else "",
                capacity=seat.capacity,
                out_of_office=list(person.out_of_office) if person else [],
            )
        )
    return CsTeam(name=found.name, approaches=list(found.approaches), csms=csms, manager=found.manager)


def pick_csm(team: CsTeam, position: int, day: date, open_load: Callable[[str], int]) -> CsmPick:
    """The next CSM from `position` on who is neither away on `day` nor at capacity.

    `open_load(csm_id)` is how many open handoffs that CSM holds; it is asked only for CSMs who are
    not away, in round-robin order, so a store can count lazily.
    """
    if not team.csms:
        return CsmPick(None, f"team {team.name} has no CSMs", position)
    skipped: list[str] = []
    count = len(team.csms)
    for offset in range(count):
        index = (position + offset) % count
        csm = team.csms[index]
        if csm.away_on(day):
            skipped.append(f"{csm.id} out of office")
            continue
        load = open_load(csm.id)
        if load >= csm.capacity:
            skipped.append(f"{csm.id} at capacity ({load}/{csm.capacity})")
            continue
        reason = f"round robin in team {team.name}: {csm.id}"
        return CsmPick(csm.id, reason + (f" (skipped {', '.join(skipped)})" if skipped else ""), (index + 1) % count)
    return CsmPick(None, f"no CSM available in team {team.name} on {day.isoformat()}: {', '.join(skipped)}", position)
