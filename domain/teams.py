"""CS teams and their CSMs: who can take a handoff, and when they cannot."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from domain.approach_kinds import Approach
from domain.policy_section import Section as _Section


class Csm(_Section):
    id: str
    name: str = ""
    capacity: int = Field(default=25, ge=0)
    out_of_office: list[tuple[date, date]] = Field(default_factory=list)

    def away_on(self, day: date) -> bool:
        return any(start <= day <= end for start, end in self.out_of_office)


class CsTeam(_Section):
    name: str
    approaches: list[Approach]
    csms: list[Csm]
    manager: str = ""


def default_teams() -> list[CsTeam]:
    return [
        CsTeam(
            name="scale",
            approaches=[Approach.AUTOMATED],
            csms=[Csm(id="csm-pool-1", name="Scale pool A"), Csm(id="csm-pool-2", name="Scale pool B")],
        ),
        CsTeam(
            name="mid-market",
            approaches=[Approach.STRUCTURED, Approach.INTERNAL, Approach.PARTNER_MEDIATED],
            csms=[Csm(id="csm-mm-1", name="Mid-market CSM 1"), Csm(id="csm-mm-2", name="Mid-market CSM 2")],
        ),
        CsTeam(
            name="enterprise",
            approaches=[Approach.WHITE_GLOVE],
            csms=[Csm(id="csm-ent-1", name="Enterprise CSM 1", capacity=10)],
        ),
    ]
