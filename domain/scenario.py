"""A `baton simulate` scenario: a deal, messages at times, and a horizon, all in the deal's own time."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from domain import messages as m
from domain.deal import Deal
from domain.directory import Directory
from domain.document import HandoffDocument
from domain.durations import Duration, parse_duration


class MessageType(StrEnum):
    DOCUMENT = "document"
    CSM = "csm"
    INTAKE_REVIEW = "intake_review"
    INTRO = "intro"
    FIRST_TOUCH = "first_touch"
    KICKOFF = "kickoff"
    AE_DEPARTURE = "ae_departure"
    EXTEND_DEADLINE = "extend_deadline"
    MILESTONE = "milestone"
    POST_CHECK = "post_check"
    STAGE = "stage"


# Each message type's body, as the API takes it (a CRM stage change as the CRM event's signal).
BODIES: dict[MessageType, type[BaseModel]] = {
    MessageType.DOCUMENT: m.DocumentUpdate,
    MessageType.CSM: m.CsmAssignment,
    MessageType.INTAKE_REVIEW: m.IntakeReviewInput,
    MessageType.INTRO: m.IntroUpdate,
    MessageType.FIRST_TOUCH: m.FirstTouch,
    MessageType.KICKOFF: m.KickoffHeld,
    MessageType.AE_DEPARTURE: m.AeDeparture,
    MessageType.EXTEND_DEADLINE: m.DeadlineExtension,
    MessageType.MILESTONE: m.MilestoneReached,
    MessageType.POST_CHECK: m.PostCheckAnswers,
    MessageType.STAGE: m.StageChanged,
}


class When(BaseModel):
    """An ISO instant, or an offset from the close such as `+2d3h` or `+3bd`."""

    text: str

    def resolve(self, close: datetime, add: Callable[[datetime, Duration], datetime]) -> datetime:
        if self.text.startswith("+"):
            return add(close, parse_duration(self.text))
        return to_second(datetime.fromisoformat(self.text))


class ScenarioMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at: str
    type: MessageType
    body: dict[str, Any] = Field(default_factory=dict)

    @field_validator("at")
    @classmethod
    def _at(cls, value: str) -> str:
        if value.startswith("+"):
            parse_duration(value)
        else:
            moment = datetime.fromisoformat(value)
            if moment.tzinfo is None:
                raise ValueError("an instant needs a UTC offset, e.g. 2026-03-09T10:00:00-05:00")
        return value

    @model_validator(mode="after")
    def _body(self) -> ScenarioMessage:
        try:
            self.parsed()
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(part) for part in ("body", *first["loc"]))
            raise ValueError(f"{where}: {first['msg']} (in a message of type {self.type.value})") from None
        return self

    def parsed(self) -> BaseModel:
        """The body as the message model its type names."""
        return BODIES[self.type].model_validate(self.body)


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid")

    deal: Deal
    document: HandoffDocument | None = None
    won: bool = True
    policy: dict[str, Any] = Field(default_factory=dict, description="policy keys overriding the policy file")
    active_users: int | None = Field(default=None, description="what the usage source reports at the 30-day check")
    messages: list[ScenarioMessage] = Field(default_factory=list)
    horizon: str = "45d"
    directory: Directory | None = Field(
        default=None, description="the people the notices reach (else `--directory`, else nobody: the fallback)"
    )

    @field_validator("horizon")
    @classmethod
    def _horizon(cls, value: str) -> str:
        if parse_duration(value.lstrip("+")).is_business:
            raise ValueError("the horizon is a clock duration such as 45d")
        return value

    @model_validator(mode="after")
    def _close(self) -> Scenario:
        if self.deal.closed_at is None:
            raise ValueError("deal.closed_at is required: scenario times are measured from the close")
        # Scenario time counts in whole seconds, as the timeline prints it.
        self.deal = self.deal.model_copy(
            update={"closed_at": to_second(self.deal.closed_at), "created_at": _second_or_none(self.deal.created_at)}
        )
        return self

    @property
    def close(self) -> datetime:
        closed = self.deal.closed_at
        if closed is None:  # ruled out by the validator above, unless the deal was changed since
            raise ValueError("deal.closed_at is required: scenario times are measured from the close")
        return closed

    @property
    def end(self) -> datetime:
        return self.close + parse_duration(self.horizon.lstrip("+")).as_timedelta()


@dataclass(frozen=True)
class TimedMessage:
    """A scenario message at its instant; `index` is its place in the file (the order of a tie)."""

    at: datetime
    index: int
    type: MessageType
    body: BaseModel


def timed_messages(scenario: Scenario, add: Callable[[datetime, Duration], datetime]) -> list[TimedMessage]:
    """The messages at their instants, in delivery order: by instant, then as the file lists them.
    Offsets such as `+3bd` resolve on the scenario's own business calendar (`add`)."""
    timed = [
        TimedMessage(When(text=msg.at).resolve(scenario.close, add), index, msg.type, msg.parsed())
        for index, msg in enumerate(scenario.messages)
    ]
    return sorted(timed, key=lambda msg: (msg.at, msg.index))


def to_second(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


def _second_or_none(moment: datetime | None) -> datetime | None:
    return to_second(moment) if moment is not None else None


# Weekdays and dates repeat every 28 years between 1901 and 2099, so moving a scenario by whole
# cycles keeps its business days, holidays and (under today's DST rules) its local times.
CYCLE_YEARS = 28


def time_shift(scenario_start: datetime, server_now: datetime) -> timedelta:
    """The whole number of 28-year cycles that moves the scenario to the server's present or later."""
    years = 0
    while _shift_years(scenario_start, years) < server_now:
        years += CYCLE_YEARS
    return _shift_years(scenario_start, years) - scenario_start


def _shift_years(moment: datetime, years: int) -> datetime:
    return moment.replace(year=moment.year + years)


def shift_date(day: date, shift: timedelta) -> date:
    return day + timedelta(days=shift.days)
