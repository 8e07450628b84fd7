"""The CSM round robin and every CSM's open handoffs, in memory, for one simulation.

The store keeps the same two things in the read model (store/assignment.py); both pick with
`domain.csm_choice.pick_csm`, and count a CSM's load the same way: handoffs assigned to them by rule
that have not ended.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

from domain.csm_choice import CsmPick, pick_csm
from domain.teams import CsTeam


class Assignments:
    def __init__(self) -> None:
        self._position: dict[str, int] = {}
        self._by_rule: dict[str, str] = {}  # workflow id -> the CSM the rule assigned
        self._open = Counter[str]()

    def choose(self, workflow_id: str, team: CsTeam, day: date) -> CsmPick:
        position = self._position.get(team.name, 0)
        existing = self._by_rule.get(workflow_id)
        if existing is not None:
            return CsmPick(existing, f"already assigned to {existing} (team {team.name})", position)
        pick = pick_csm(team, position, day, lambda csm_id: self._open[csm_id])
        if pick.csm is not None:
            self._by_rule[workflow_id] = pick.csm
            self._open[pick.csm] += 1
            self._position[team.name] = pick.position
        return pick

    def ended(self, workflow_id: str) -> None:
        """A handoff closed: it no longer counts against its CSM's capacity."""
        csm = self._by_rule.get(workflow_id)
        if csm is not None and self._open[csm] > 0:
            self._open[csm] -= 1

    def open_load(self, csm_id: str) -> int:
        return self._open[csm_id]
