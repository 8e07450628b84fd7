"""What a policy did to a set of replayed handoffs, and two policies side by side.

Time to intro and to kickoff are measured from the close to the intro held and to the kickoff, in
days, as the scorecard measures them; p90 interpolates as the scorecard's does.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field

from domain.roles import Role, SlaName
from domain.scoring import Tier
from domain.state import HandoffState

_DAY = 86_400


class SlaFigures(BaseModel):
    planned: int = 0
    met: int = 0
    breached: int = 0
    escalations: dict[str, int] = Field(default_factory=dict, description="by whom it went to")


class PolicyFigures(BaseModel):
    handoffs: int
    handed_off: int
    lost: int
    breaches: int
    escalations: dict[str, int] = Field(description="by whom they went to")
    slas: dict[str, SlaFigures]
    tiers: dict[str, int]
    commission_released: int
    commission_held: int = Field(description="handoffs whose AE commission was not released")
    intro_days_median: float | None
    intro_days_p90: float | None
    kickoff_days_median: float | None
    kickoff_days_p90: float | None


def figures(states: Sequence[HandoffState]) -> PolicyFigures:
    slas = {sla.value: SlaFigures() for sla in SlaName}
    escalations = Counter[str]({role.value: 0 for role in Role})
    for state in states:
        for name, deadline in state.deadlines.items():
            figure = slas[name.value]
            figure.planned += 1
            figure.met += deadline.met_at is not None
            figure.breached += deadline.breached_at is not None
        for step in state.escalations:
            escalations[step.to.value] += 1
            by = slas[step.sla.value].escalations
            by[step.to.value] = by.get(step.to.value, 0) + 1
    tiers = Counter[str]({tier.value: 0 for tier in Tier})
    tiers.update(state.quality.tier.value for state in states if state.quality is not None)
    released = sum(state.commission.released and state.commission.note == "released in the CRM" for state in states)
    intro = _days([(s.deal.closed_at, s.facts.intro_held_at) for s in states])
    kickoff = _days([(s.deal.closed_at, s.facts.kickoff_at) for s in states])
    return PolicyFigures(
        handoffs=len(states),
        handed_off=sum(state.outcome.value == "handed_off" for state in states),
        lost=sum(state.outcome.value == "lost" for state in states),
        breaches=sum(figure.breached for figure in slas.values()),
        escalations=dict(escalations),
        slas={name: figure for name, figure in slas.items() if figure.planned},
        tiers=dict(tiers),
        commission_released=released,
        commission_held=len(states) - released,
        intro_days_median=_median(intro),
        intro_days_p90=_p90(intro),
        kickoff_days_median=_median(kickoff),
        kickoff_days_p90=_p90(kickoff),
    )


def compare(current: PolicyFigures, candidate: PolicyFigures) -> dict[str, Any]:
    """Both policies' figures and, for every number, candidate minus current."""
    old, new = current.model_dump(), candidate.model_dump()
    return {"current": old, "candidate": new, "change": _change(old, new)}


def _change(old: Any, new: Any) -> Any:
    if isinstance(old, dict) or isinstance(new, dict):
        old, new = old or {}, new or {}
        return {key: _change(old.get(key), new.get(key)) for key in {**old, **new}}
    if old is None and new is None:
        return None
    if isinstance(old, int | float) or isinstance(new, int | float):
        return round((new or 0) - (old or 0), 2)
    return None


def _days(spans: list[tuple[Any, Any]]) -> list[float]:
    return sorted((end - start).total_seconds() / _DAY for start, end in spans if start is not None and end is not None)


def _median(days: list[float]) -> float | None:
    return round(statistics.median(days), 2) if days else None


def _p90(days: list[float]) -> float | None:
    if not days:
        return None
    return round(days[0] if len(days) == 1 else statistics.quantiles(days, n=10, method="inclusive")[8], 2)
