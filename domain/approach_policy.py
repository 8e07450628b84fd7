"""SLAs and approach profiles: which deadlines run for each approach, and how each behaves."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from pydantic import Field, model_validator

from domain.approach_kinds import Approach
from domain.document import CORE_FIELDS, FieldName
from domain.durations import DurationField, parse_duration
from domain.policy_section import Section as _Section
from domain.roles import Role, SlaName


class Escalation(_Section):
    at: DurationField
    to: Role


class SlaSpec(_Section):
    """A deadline measured from its anchor (close, intro held, AE departure, submission...)."""

    due: DurationField
    escalations: list[Escalation] = Field(default_factory=list)
    on_breach: Role | None = None


def _sla(due: str, on_breach: Role | None = None, escalations: Sequence[tuple[str, Role]] = ()) -> SlaSpec:
    steps = [Escalation(at=parse_duration(at), to=to) for at, to in escalations]
    return SlaSpec(due=parse_duration(due), on_breach=on_breach, escalations=steps)


def default_slas() -> dict[SlaName, SlaSpec]:
    return {
        SlaName.CSM_BRIEFED: _sla("48h", Role.CS_MANAGER),
        SlaName.CS_FIRST_TOUCH: _sla("48h", Role.CS_MANAGER),
        SlaName.INTRO_SCHEDULED: _sla("3bd", None, [("3bd", Role.SALES_MANAGER), ("5bd", Role.VP_SALES)]),
        SlaName.INTRO_HELD: _sla("5bd", Role.SALES_MANAGER),
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


# Keys an approach once had that no rule read: accepted and ignored, so a policy snapshot or a file
# written by `baton policy show` before they were removed still loads.
RETIRED_KEYS = ("pooled_csm",)


class ApproachProfile(_Section):
    """How an approach behaves: which SLAs run, how the customer meets CS, how long the AE stays."""

    slas: list[SlaName]
    intro: IntroStyle
    # White glove: the AE is invited to this many of the first CS calls (the intro, the first touch and
    # the kickoff count as those calls), and stays in a transition period this long from the intro
    # held, with a notice when it ends. Absent from an old snapshot: no transition period.
    ae_joins_first_calls: int = Field(default=0, ge=0, le=10)
    transition: DurationField = parse_duration("0d")
    # Welcome sequence: the messages after the first (sent when the CSM is briefed), each this long
    # after the first; none after the kickoff. Absent from an old snapshot: the first message only.
    welcome_follow_ups: list[DurationField] = Field(default_factory=list, max_length=9)
    scored_fields: list[FieldName] | None = None
    sla_overrides: dict[SlaName, SlaSpec] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _drop_retired(cls, data: Any) -> Any:
        if isinstance(data, dict) and any(key in data for key in RETIRED_KEYS):
            return {key: value for key, value in data.items() if key not in RETIRED_KEYS}
        return data


_CORE = [SlaName.CSM_BRIEFED, SlaName.CS_FIRST_TOUCH, SlaName.AE_FOLLOW_UP, SlaName.KICKOFF, SlaName.POST_CHECK]
_MEETING = [SlaName.INTRO_SCHEDULED, SlaName.INTRO_HELD]


def default_profiles() -> dict[Approach, ApproachProfile]:
    return {
        Approach.AUTOMATED: ApproachProfile(
            slas=list(_CORE),
            intro=IntroStyle.WELCOME_SEQUENCE,
            welcome_follow_ups=[parse_duration("3bd"), parse_duration("10bd")],
        ),
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
            # The partner template: the core document and the partner's context. A snapshot from
            # before keeps its own (None: the core fields alone).
            scored_fields=[*CORE_FIELDS, FieldName.PARTNER_CONTEXT],
            sla_overrides={SlaName.CSM_BRIEFED: _sla("72h", Role.PARTNER_MANAGER)},
        ),
    }
