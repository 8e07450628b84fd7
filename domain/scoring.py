"""The weighted handoff quality score and the tier that gates the handoff."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

from pydantic import BaseModel

from domain.approach_kinds import Approach
from domain.document import CORE_FIELDS, FieldName, HandoffDocument
from domain.field_rules import Judgement, judge_all
from domain.policy import Policy, ScoringPolicy

ALLOWED_STATUSES = (0.0, 0.5, 1.0)


class Tier(StrEnum):
    READY = "ready"
    GAPS = "gaps"
    BLOCKED = "blocked"


class FieldScore(BaseModel):
    weight: int
    status: float
    reason: str
    overridden: bool = False


class QualityReport(BaseModel):
    score: float
    tier: Tier
    fields: dict[FieldName, FieldScore]
    rapid_close: bool = False
    completeness: float
    specific_share: float

    @property
    def missing(self) -> list[FieldName]:
        """Fields short of specific, heaviest first: what the AE is asked to fill in."""
        short = [name for name, field in self.fields.items() if field.status < 1.0]
        return sorted(short, key=lambda name: -self.fields[name].weight)


def check_overrides(overrides: dict[FieldName, float]) -> None:
    bad = [f"{name}={status}" for name, status in overrides.items() if status not in ALLOWED_STATUSES]
    if bad:
        raise ValueError(f"override statuses must be 0, 0.5 or 1: {', '.join(bad)}")


def tier_for(score: float, scoring: ScoringPolicy) -> Tier:
    shown = round(score, 1)
    if shown >= scoring.ready_at:
        return Tier.READY
    if shown >= scoring.gaps_at:
        return Tier.GAPS
    return Tier.BLOCKED


def is_rapid_close(sales_cycle: timedelta | None, scoring: ScoringPolicy) -> bool:
    return sales_cycle is not None and sales_cycle < scoring.rapid_close_cycle.as_timedelta()


def counted_fields(
    policy: Policy, sales_cycle: timedelta | None, approach: Approach | None
) -> tuple[list[FieldName], bool]:
    """Which fields count: the rapid-close template, else the approach's lighter set, else all."""
    if is_rapid_close(sales_cycle, policy.scoring):
        return list(policy.scoring.rapid_close_fields), True
    profile = policy.approaches.get(approach) if approach else None
    if profile and profile.scored_fields:
        return list(profile.scored_fields), False
    return list(CORE_FIELDS), False


def score_document(
    document: HandoffDocument,
    policy: Policy,
    *,
    sales_cycle: timedelta | None = None,
    approach: Approach | None = None,
    overrides: dict[FieldName, float] | None = None,
) -> QualityReport:
    """Score = sum(weight x status) / sum(weights) x 100 over the counted fields, one decimal."""
    judged = judge_all(document, policy.scoring.criteria_rule)
    return score_judged(judged, policy, sales_cycle=sales_cycle, approach=approach, overrides=overrides)


def score_judged(
    judged: dict[FieldName, Judgement],
    policy: Policy,
    *,
    sales_cycle: timedelta | None = None,
    approach: Approach | None = None,
    overrides: dict[FieldName, float] | None = None,
) -> QualityReport:
    """`score_document` from the rules' verdicts already taken (the machine records them too)."""
    overrides = overrides or {}
    fields, rapid = counted_fields(policy, sales_cycle, approach)
    scores: dict[FieldName, FieldScore] = {}
    for name in fields:
        weight = policy.scoring.weights[name]
        if name in overrides:
            status = overrides[name]
            reason = f"set to {status:g} by the CSM's intake review (rules said {judged[name].status:g}: {judged[name].reason})"
            scores[name] = FieldScore(weight=weight, status=status, reason=reason, overridden=True)
        else:
            scores[name] = FieldScore(weight=weight, status=judged[name].status, reason=judged[name].reason)
    total = sum(field.weight for field in scores.values())
    earned = sum(field.weight * field.status for field in scores.values())
    score = round(earned / total * 100, 1)
    populated = sum(1 for field in scores.values() if field.status > 0)
    specific = sum(1 for field in scores.values() if field.status == 1.0)
    return QualityReport(
        score=score,
        tier=tier_for(earned / total * 100, policy.scoring),
        fields=scores,
        rapid_close=rapid,
        completeness=round(populated / len(scores) * 100, 1),
        specific_share=round(specific / len(scores) * 100, 1),
    )
