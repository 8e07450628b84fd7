"""Choosing a CSM by rule: round robin within a team, skipping who is away or at capacity.

One implementation for the store's assignment activity (which keeps the position and the loads in the
read model, shared by every worker) and for the simulator and the backtest (which keep them in
memory), so a simulated handoff gets the CSM a real one would.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from domain.calendar import BusinessCalendar
from domain.teams import CsTeam


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
