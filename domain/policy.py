"""The policy: every number of a handoff in one validated document, with the seeds' defaults.

A policy file is YAML; any key left out keeps its default. Each workflow receives the policy as a
snapshot in its start input, so a running handoff keeps the rules it started with.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from domain.approach_kinds import Approach
from domain.approach_policy import ApproachProfile as ApproachProfile
from domain.approach_policy import Escalation as Escalation
from domain.approach_policy import IntroStyle as IntroStyle
from domain.approach_policy import SlaSpec as SlaSpec
from domain.approach_policy import default_profiles as default_profiles
from domain.approach_policy import default_slas as default_slas
from domain.calendar import BusinessCalendar
from domain.crm_fields import CrmFieldMap, default_crm_fields
from domain.document import FieldName
from domain.durations import DurationField, parse_duration
from domain.field_rules import CriteriaRule
from domain.onboarding_policy import NEW_POLICIES_OPEN_BEFORE
from domain.onboarding_policy import Milestone as Milestone
from domain.onboarding_policy import OnboardingPolicy as OnboardingPolicy
from domain.onboarding_policy import OnboardingTrigger as OnboardingTrigger
from domain.onboarding_policy import PostCheckPolicy as PostCheckPolicy
from domain.onboarding_policy import ScheduleFrom as ScheduleFrom
from domain.policy_checks import can_fall_before
from domain.policy_section import Section as _Section
from domain.roles import SlaName
from domain.sla_start import DEFAULT_FOR_NEW_POLICIES, SlaStart
from domain.stages import StageKind
from domain.teams import Csm as Csm
from domain.teams import CsTeam as CsTeam
from domain.teams import default_teams as default_teams

PARTNER_CONTEXT_WEIGHT = 2


class ScoringPolicy(_Section):
    weights: dict[FieldName, int] = Field(
        default_factory=lambda: {
            FieldName.GOALS: 3,
            FieldName.STAKEHOLDERS: 3,
            FieldName.SUCCESS_CRITERIA: 3,
            FieldName.RISKS: 2,
            FieldName.SCOPE: 2,
            FieldName.SALES_CONVERSATIONS: 2,
            FieldName.CONTRACT_TERMS: 1,
            FieldName.COMMUNICATION_PREFERENCES: 1,
            FieldName.PARTNER_CONTEXT: 2,
        }
    )
    ready_at: float = Field(default=85.0, gt=0, le=100)
    gaps_at: float = Field(default=60.0, ge=0, le=100)
    rapid_close_cycle: DurationField = parse_duration("14d")
    rapid_close_fields: list[FieldName] = Field(
        default_factory=lambda: [
            FieldName.GOALS,
            FieldName.STAKEHOLDERS,
            FieldName.SCOPE,
            FieldName.RISKS,
            FieldName.SALES_CONVERSATIONS,
        ]
    )

    # None only in snapshots written before the key existed: those runs keep the rule they were scored
    # by (target and timeframe). parse_policy gives every new policy the seeds' rubric.
    success_criteria: CriteriaRule | None = None

    @property
    def criteria_rule(self) -> CriteriaRule:
        return self.success_criteria or CriteriaRule.TARGET_AND_TIMEFRAME

    @field_validator("weights")
    @classmethod
    def _weights(cls, value: dict[FieldName, int]) -> dict[FieldName, int]:
        # Snapshots and files from before the partner template carry no weight for it: the default.
        value = {FieldName.PARTNER_CONTEXT: PARTNER_CONTEXT_WEIGHT, **value}
        missing = [name.value for name in FieldName if name not in value]
        if missing:
            raise ValueError(f"every field needs a weight; missing: {', '.join(missing)}")
        bad = [f"{name.value}={weight}" for name, weight in value.items() if not 1 <= weight <= 10]
        if bad:
            raise ValueError(f"weights must be 1 to 10: {', '.join(bad)}")
        return value

    @model_validator(mode="after")
    def _thresholds(self) -> ScoringPolicy:
        if self.gaps_at >= self.ready_at:
            raise ValueError("gaps_at must be below ready_at")
        if not self.rapid_close_fields:
            raise ValueError("rapid_close_fields needs at least one field")
        return self


class AcvBands(_Section):
    """Bands in the base currency; other currencies convert at the fixed rates (base per unit)."""

    base_currency: str = "USD"
    structured_from: float = Field(default=25_000, gt=0)
    white_glove_from: float = Field(default=100_000, gt=0)
    exchange_rates: dict[str, float] = Field(
        default_factory=lambda: {"EUR": 1.08, "GBP": 1.27, "CAD": 0.73, "AUD": 0.66}
    )

    @field_validator("exchange_rates")
    @classmethod
    def _rates(cls, value: dict[str, float]) -> dict[str, float]:
        bad = [code for code, rate in value.items() if rate <= 0 or len(code) != 3]
        if bad:
            raise ValueError(f"exchange rates need 3-letter codes and positive rates: {', '.join(bad)}")
        return {code.upper(): rate for code, rate in value.items()}

    @model_validator(mode="after")
    def _order(self) -> AcvBands:
        if self.structured_from >= self.white_glove_from:
            raise ValueError("structured_from must be below white_glove_from")
        return self


def _default_won() -> dict[str, list[str]]:
    return {
        "hubspot": ["closedwon"],
        "salesforce": ["Closed Won"],
        "pipedrive": ["won"],
        "generic": ["closed_won", "won"],
    }


def _default_lost() -> dict[str, list[str]]:
    return {
        "hubspot": ["closedlost"],
        "salesforce": ["Closed Lost"],
        "pipedrive": ["lost"],
        "generic": ["closed_lost", "lost"],
    }


class CommissionDocument(StrEnum):
    """What the document must be for the AE's commission to be released."""

    # Every counted field populated (effective status, after the CSM's overrides, above 0).
    COMPLETE = "complete"
    # Baton's first rule, kept for snapshots without the key: tier ready, or accepted by the CSM.
    READY_OR_ACCEPTED = "ready_or_accepted"


class CommissionPolicy(_Section):
    release: bool = True
    min_rating: int = Field(default=3, ge=1, le=5)
    # None only in snapshots written before the key existed (their runs keep READY_OR_ACCEPTED);
    # parse_policy gives every new policy COMPLETE.
    document: CommissionDocument | None = None


class StagePolicy(_Section):
    """Stage ids per CRM; pipelines differ, so each is configurable. Pre-close start is opt-in."""

    won: dict[str, list[str]] = Field(default_factory=_default_won)
    lost: dict[str, list[str]] = Field(default_factory=_default_lost)
    pre_close: dict[str, list[str]] = Field(default_factory=dict)


class Policy(_Section):
    name: str = "default"
    scoring: ScoringPolicy = Field(default_factory=ScoringPolicy)
    acv: AcvBands = Field(default_factory=AcvBands)
    calendar: BusinessCalendar = Field(default_factory=BusinessCalendar)
    slas: dict[SlaName, SlaSpec] = Field(default_factory=default_slas)
    approaches: dict[Approach, ApproachProfile] = Field(default_factory=default_profiles)
    kickoff_after_intro: DurationField = parse_duration("5bd")
    teams: list[CsTeam] = Field(default_factory=default_teams)
    onboarding: OnboardingPolicy = Field(default_factory=OnboardingPolicy)
    commission: CommissionPolicy = Field(default_factory=CommissionPolicy)
    post_check: PostCheckPolicy = Field(default_factory=PostCheckPolicy)
    stages: StagePolicy = Field(default_factory=StagePolicy)
    # None only in snapshots written before the key existed: those runs measure from the close.
    # parse_policy gives every policy made from a file or the defaults DEFAULT_FOR_NEW_POLICIES.
    sla_start: SlaStart | None = None
    crm_fields: dict[str, CrmFieldMap] = Field(default_factory=default_crm_fields)

    @field_validator("crm_fields", mode="before")
    @classmethod
    def _crm_defaults(cls, value: Any) -> Any:
        """A file that maps one property keeps each CRM's standard mappings beside it."""
        if not isinstance(value, dict):
            return value
        merged: dict[str, Any] = {crm: spec.model_dump() for crm, spec in default_crm_fields().items()}
        for crm, spec in value.items():
            if isinstance(spec, dict) and crm in merged:
                merged[crm] = {
                    key: {**merged[crm][key], **part} if isinstance(part, dict) and key in merged[crm] else part
                    for key, part in {**merged[crm], **spec}.items()
                }
            else:
                merged[crm] = spec
        return merged

    @field_validator("slas", mode="before")
    @classmethod
    def _all_slas(cls, value: Any) -> Any:
        """A file that sets one key of an SLA (say its `due`) keeps the rest of that SLA's defaults."""
        if not isinstance(value, dict):
            return value
        merged: dict[Any, Any] = {name: spec.model_dump() for name, spec in default_slas().items()}
        for name, spec in value.items():
            if isinstance(spec, dict) and name in merged:
                merged[name] = {**merged[name], **spec}
            else:
                merged[name] = spec
        return merged

    @field_validator("approaches")
    @classmethod
    def _all_approaches(cls, value: dict[Approach, ApproachProfile]) -> dict[Approach, ApproachProfile]:
        return {**default_profiles(), **value}

    def sla(self, name: SlaName, approach: Approach) -> SlaSpec:
        return self.approaches[approach].sla_overrides.get(name) or self.slas[name]

    def team_for(self, approach: Approach) -> CsTeam | None:
        return next((team for team in self.teams if approach in team.approaches), None)

    def stage_kind(self, crm: str, stage: str) -> StageKind:
        """A CRM without its own list of a kind uses `generic`'s."""
        for kind, lists in (
            (StageKind.WON, self.stages.won),
            (StageKind.LOST, self.stages.lost),
            (StageKind.PRE_CLOSE, self.stages.pre_close),
        ):
            if stage in lists.get(crm, lists.get("generic", [])):
                return kind
        return StageKind.OTHER


class PolicyError(ValueError):
    """A policy that cannot be used; the message names each bad key."""


def parse_policy(data: dict[str, Any] | None) -> Policy:
    """A policy from a file or the defaults: a new policy, so an absent `sla_start` is the new default."""
    data = dict(data or {})
    data.setdefault("sla_start", DEFAULT_FOR_NEW_POLICIES.value)
    _new_default(data, "scoring", "success_criteria", CriteriaRule.TARGET_OR_TIMEFRAME.value)
    _new_default(data, "commission", "document", CommissionDocument.COMPLETE.value)
    _new_default(data, "onboarding", "schedule_from", ScheduleFrom.KICKOFF.value)
    _new_default(data, "post_check", "opens_before", NEW_POLICIES_OPEN_BEFORE)
    try:
        policy = Policy.model_validate(data)
    except ValidationError as err:
        problems = []
        for error in err.errors():
            key = ".".join(str(part) for part in error["loc"]) or "(top level)"
            problems.append(f"{key}: {error['msg']}")
        raise PolicyError("invalid policy:\n  " + "\n  ".join(problems)) from None
    # Checks across keys run here, on new policies only: a snapshot a running handoff carries loaded
    # when its run started and must load on every replay, whatever later versions require.
    if problems := _intro_order(policy):
        raise PolicyError("invalid policy:\n  " + "\n  ".join(problems))
    return policy


def _new_default(data: dict[str, Any], section: str, key: str, value: Any) -> None:
    """A key whose absence in a snapshot means the old rule gets the new one in a new policy. A section
    that is not a mapping is left as written, for the validator to name."""
    part = data.get(section, {})
    if isinstance(part, dict):
        data[section] = {key: value, **part}


def _intro_order(policy: Policy) -> list[str]:
    """An intro cannot be held before it is scheduled, so `intro_held` may not fall due first."""
    early: dict[str, list[str]] = {}
    for approach, profile in policy.approaches.items():
        if not (SlaName.INTRO_SCHEDULED in profile.slas and SlaName.INTRO_HELD in profile.slas):
            continue
        held, scheduled = policy.sla(SlaName.INTRO_HELD, approach), policy.sla(SlaName.INTRO_SCHEDULED, approach)
        if can_fall_before(held.due, scheduled.due, policy.calendar):
            where = [f"approaches.{approach.value}.sla_overrides.{sla.value}.due" for sla in _INTRO]
            keys = [key for sla, key in zip(_INTRO, where, strict=True) if sla in profile.sla_overrides]
            text = f"intro_held ({held.due}) can fall due before intro_scheduled ({scheduled.due})"
            early.setdefault(f"{', '.join(keys) or 'slas.intro_held.due'}: {text}", []).append(approach.value)
    return [
        f"{problem} for {', '.join(approaches)} deals; an intro is held only after it is scheduled"
        for problem, approaches in early.items()
    ]


_INTRO = (SlaName.INTRO_SCHEDULED, SlaName.INTRO_HELD)


def load_policy_text(text: str) -> Policy:
    """Parse YAML text (the file is read by the caller: this module does no I/O)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise PolicyError(f"invalid policy: not YAML ({err})") from None
    if data is not None and not isinstance(data, dict):
        raise PolicyError("invalid policy: the top level must be a mapping of keys")
    return parse_policy(data)


# Keys a policy file may still set, and what to do instead. They load as before (a running handoff's
# snapshot and an old file keep working); the processes that read the file say this once.
DEPRECATED_KEYS = {
    "teams": (
        "CS teams, CSM seats and out-of-office dates now belong in the people directory "
        "(BATON_DIRECTORY; README, 'The people directory'); the policy's teams serve only while no "
        "directory with cs_teams is configured"
    ),
}


def policy_deprecations(text: str) -> list[str]:
    """What a policy file's text sets that is deprecated, one line each (none for text that is not a policy)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return []
    if not isinstance(data, dict):
        return []
    return [f"{key}: deprecated in the policy: {why}" for key, why in DEPRECATED_KEYS.items() if key in data]


def dump_policy(policy: Policy) -> str:
    text: str = yaml.safe_dump(policy.model_dump(mode="json"), sort_keys=False)
    return text
