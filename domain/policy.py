"""The policy: every number of a handoff in one validated document, with the seeds' defaults.

A policy file is YAML; any key left out keeps its default. Each workflow receives the policy as a
snapshot in its start input, so a running handoff keeps the rules it started with.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from domain.approach_kinds import Approach
from domain.calendar import BusinessCalendar
from domain.document import FieldName
from domain.durations import DurationField, parse_duration
from domain.roles import Role, SlaName


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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

    @field_validator("weights")
    @classmethod
    def _weights(cls, value: dict[FieldName, int]) -> dict[FieldName, int]:
        missing = [name.value for name in FieldName if name not in value]
        if missing:
            raise ValueError(f"every field needs a weight; missing: {', '.join(missing)}")
        bad = [f"{name.value}={weight}" for name, weight in value.items() if not 1 <= weight <= 10]
        if bad:
            raise ValueError(f"weights must be 1 to 10: {', '.join(bad)}")
        return value

    @model_validator(mode="after")
    def _thresholds(self) -> "ScoringPolicy":
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
    exchange_rates: dict[str, float] = Field(default_factory=lambda: {"EUR": 1.08, "GBP": 1.27, "CAD": 0.73, "AUD": 0.66})

    @field_validator("exchange_rates")
    @classmethod
    def _rates(cls, value: dict[str, float]) -> dict[str, float]:
        bad = [code for code, rate in value.items() if rate <= 0 or len(code) != 3]
        if bad:
            raise ValueError(f"exchange rates need 3-letter codes and positive rates: {', '.join(bad)}")
        return {code.upper(): rate for code, rate in value.items()}

    @model_validator(mode="after")
    def _order(self) -> "AcvBands":
        if self.structured_from >= self.white_glove_from:
            raise ValueError("structured_from must be below white_glove_from")
        return self


class Escalation(_Section):
    at: DurationField
    to: Role


class SlaSpec(_Section):
    """A deadline measured from its anchor (close, intro held, AE departure, submission...)."""

    due: DurationField
    escalations: list[Escalation] = Field(default_factory=list)
    on_breach: Role | None = None


def _sla(due: str, on_breach: Role | None = None, escalations: list[tuple[str, Role]] = ()) -> SlaSpec:
    steps = [Escalation(at=parse_duration(at), to=to) for at, to in escalations]
    return SlaSpec(due=parse_duration(due), on_breach=on_breach, escalations=steps)


def _default_slas() -> dict[SlaName, SlaSpec]:
    return {
        SlaName.CSM_BRIEFED: _sla("48h", Role.CS_MANAGER),
        SlaName.CS_FIRST_TOUCH: _sla("48h", Role.CS_MANAGER),
        SlaName.INTRO_SCHEDULED: _sla(
            "3bd", None, [("3bd", Role.SALES_MANAGER), ("5bd", Role.VP_SALES)]
        ),
        SlaName.INTRO_HELD: _sla("5d", Role.SALES_MANAGER),
        SlaName.KICKOFF: _sla("10d", Role.CS_MANAGER),
        SlaName.AE_FOLLOW_UP: _sla("24h", Role.SALES_MANAGER),
        SlaName.IMPL_OWNER_CONTACT: _sla("14d", Role.CS_MANAGER),
        SlaName.RECOVERY_OWNER: _sla("7d", Role.VP_SALES),
        SlaName.POST_CHECK: _sla("30d", Role.CS_MANAGER),
        SlaName.PARTNER_CHECK: _sla("30d", Role.PARTNER_MANAGER),
    }


class IntroStyle(StrEnum):
    WELCOME_SEQUENCE = "welcome_sequence"
    INTRO_EMAIL = "intro_email"
    LIVE_CALL = "live_call"
    INTERNAL_NOTE = "internal_note"
    THREE_WAY = "three_way"


class ApproachProfile(_Section):
    """How an approach behaves: which SLAs run, how the customer meets CS, how long the AE stays."""

    slas: list[SlaName]
    intro: IntroStyle
    ae_joins_first_calls: int = Field(default=0, ge=0, le=10)
    transition: DurationField = parse_duration("0d")
    pooled_csm: bool = False
    scored_fields: list[FieldName] | None = None
    sla_overrides: dict[SlaName, SlaSpec] = Field(default_factory=dict)


_CORE = [SlaName.CSM_BRIEFED, SlaName.CS_FIRST_TOUCH, SlaName.AE_FOLLOW_UP, SlaName.KICKOFF, SlaName.POST_CHECK]
_MEETING = [SlaName.INTRO_SCHEDULED, SlaName.INTRO_HELD]


def _default_profiles() -> dict[Approach, ApproachProfile]:
    return {
        Approach.AUTOMATED: ApproachProfile(slas=list(_CORE), intro=IntroStyle.WELCOME_SEQUENCE, pooled_csm=True),
        Approach.STRUCTURED: ApproachProfile(slas=_CORE + _MEETING, intro=IntroStyle.INTRO_EMAIL),
        Approach.WHITE_GLOVE: ApproachProfile(
            slas=_CORE + _MEETING + [SlaName.IMPL_OWNER_CONTACT],
            intro=IntroStyle.LIVE_CALL,
            ae_joins_first_calls=3,
            transition=parse_duration("14d"),
        ),
        Approach.INTERNAL: ApproachProfile(
            slas=[SlaName.CSM_BRIEFED, SlaName.AE_FOLLOW_UP, SlaName.KICKOFF, SlaName.POST_CHECK],
            intro=IntroStyle.INTERNAL_NOTE,
            scored_fields=[
                FieldName.GOALS,
                FieldName.SCOPE,
                FieldName.SALES_CONVERSATIONS,
                FieldName.CONTRACT_TERMS,
                FieldName.RISKS,
            ],
        ),
        Approach.PARTNER_MEDIATED: ApproachProfile(
            slas=_CORE + _MEETING + [SlaName.PARTNER_CHECK],
            intro=IntroStyle.THREE_WAY,
            sla_overrides={SlaName.CSM_BRIEFED: _sla("72h", Role.PARTNER_MANAGER)},
        ),
    }


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


def _default_teams() -> list[CsTeam]:
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


class OnboardingTrigger(StrEnum):
    MILESTONE = "milestone"
    TIME = "time"
    HYBRID = "hybrid"


class Milestone(StrEnum):
    SETUP_COMPLETE = "setup_complete"
    TRAINING_DONE = "training_done"
    ACTIVATION_ACHIEVED = "activation_achieved"
    FIRST_VALUE = "first_value"


def _default_schedule() -> dict[Milestone, Any]:
    spans = {"setup_complete": "7d", "training_done": "14d", "activation_achieved": "21d", "first_value": "30d"}
    return {Milestone(name): parse_duration(span) for name, span in spans.items()}


class OnboardingPolicy(_Section):
    trigger: OnboardingTrigger = OnboardingTrigger.HYBRID
    after: DurationField = parse_duration("30d")
    required_milestones: list[Milestone] = Field(default_factory=lambda: list(Milestone))
    schedule: dict[Milestone, DurationField] = Field(
        default_factory=_default_schedule, description="when each milestone is due, counted from the close"
    )


class CommissionPolicy(_Section):
    release: bool = True
    min_rating: int = Field(default=3, ge=1, le=5)


class PostCheckPolicy(_Section):
    min_active_users: int = Field(default=1, ge=0)
    answer_window: DurationField = parse_duration("7d")


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
    slas: dict[SlaName, SlaSpec] = Field(default_factory=_default_slas)
    approaches: dict[Approach, ApproachProfile] = Field(default_factory=_default_profiles)
    kickoff_after_intro: DurationField = parse_duration("5bd")
    teams: list[CsTeam] = Field(default_factory=_default_teams)
    onboarding: OnboardingPolicy = Field(default_factory=OnboardingPolicy)
    commission: CommissionPolicy = Field(default_factory=CommissionPolicy)
    post_check: PostCheckPolicy = Field(default_factory=PostCheckPolicy)
    stages: StagePolicy = Field(default_factory=StagePolicy)

    @field_validator("slas", mode="before")
    @classmethod
    def _all_slas(cls, value: Any) -> Any:
        """A file that sets one key of an SLA (say its `due`) keeps the rest of that SLA's defaults."""
        if not isinstance(value, dict):
            return value
        merged: dict[Any, Any] = {name: spec.model_dump() for name, spec in _default_slas().items()}
        for name, spec in value.items():
            if isinstance(spec, dict) and name in merged:
                merged[name] = {**merged[name], **spec}
            else:
                merged[name] = spec
        return merged

    @field_validator("approaches")
    @classmethod
    def _all_approaches(cls, value: dict[Approach, ApproachProfile]) -> dict[Approach, ApproachProfile]:
        return {**_default_profiles(), **value}

    def sla(self, name: SlaName, approach: Approach) -> SlaSpec:
        return self.approaches[approach].sla_overrides.get(name) or self.slas[name]

    def team_for(self, approach: Approach) -> CsTeam | None:
        return next((team for team in self.teams if approach in team.approaches), None)

    def stage_kind(self, crm: str, stage: str) -> str:
        """`won`, `lost`, `pre_close` or `other`; a CRM without its own list uses `generic`."""
        for kind in ("won", "lost", "pre_close"):
            ids: dict[str, list[str]] = getattr(self.stages, kind)
            if stage in ids.get(crm, ids.get("generic", [])):
                return kind
        return "other"


class PolicyError(ValueError):
    """A policy that cannot be used; the message names each bad key."""


def parse_policy(data: dict[str, Any] | None) -> Policy:
    try:
        return Policy.model_validate(data or {})
    except ValidationError as err:
        problems = []
        for error in err.errors():
            key = ".".join(str(part) for part in error["loc"]) or "(top level)"
            problems.append(f"{key}: {error['msg']}")
        raise PolicyError("invalid policy:\n  " + "\n  ".join(problems)) from None


def load_policy_text(text: str) -> Policy:
    """Parse YAML text (the file is read by the caller: this module does no I/O)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise PolicyError(f"invalid policy: not YAML ({err})") from None
    if data is not None and not isinstance(data, dict):
        raise PolicyError("invalid policy: the top level must be a mapping of keys")
    return parse_policy(data)


def dump_policy(policy: Policy) -> str:
    return yaml.safe_dump(policy.model_dump(mode="json"), sort_keys=False)
