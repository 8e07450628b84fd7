"""The documented event for any other CRM, or a script: one JSON body, discriminated on `type`."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AliasChoices,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    TypeAdapter,
    field_validator,
    model_validator,
)

from api.crm.fields import load_json
from domain.deal import DealFacts, check_instant, check_name
from domain.document import HandoffDocument
from domain.events import DealEvent
from domain.ids import check_crm_name, check_deal_id

Slug = Annotated[str, AfterValidator(check_crm_name)]
DealId = Annotated[str, AfterValidator(check_deal_id)]
Instant = Annotated[AwareDatetime, AfterValidator(check_instant)]
Name = Annotated[str, Field(min_length=1), AfterValidator(check_name)]


def _in_range(value: date) -> date:
    if not 1970 <= value.year <= 2200:
        raise ValueError(f"{value.isoformat()} is outside 1970-2200")
    return value


Day = Annotated[date, AfterValidator(_in_range)]


# JSON has real numbers and booleans; a string "9" or a `true` where a number belongs is a sender's
# bug that lax validation would turn into a wrong fact.
_NUMBERS = ("amount", "acv", "contract_months")
_BOOLEANS = ("custom_implementation", "professional_services")


class GenericDeal(DealFacts):
    """The deal as the sender knows it: the domain's facts, keyed by `id`. Only the fields sent reach
    the handoff, so a partial update never blanks what the CRM fetch or an earlier event filled in."""

    id: DealId
    closed_on: Day | None = Field(
        default=None, description="a close date without a time (instead of closed_at): the policy's rule places it"
    )

    @field_validator(*_NUMBERS, mode="before")
    @classmethod
    def _json_number(cls, value: Any) -> Any:
        if isinstance(value, (str, bool)):
            raise ValueError("must be a JSON number, not a string or boolean")
        return value

    @field_validator(*_BOOLEANS, mode="before")
    @classmethod
    def _json_boolean(cls, value: Any) -> Any:
        if not isinstance(value, bool):
            raise ValueError("must be true or false")
        return value

    @model_validator(mode="after")
    def _one_close(self) -> GenericDeal:
        if self.closed_at is not None and self.closed_on is not None:
            raise ValueError("send closed_at (an instant) or closed_on (a date), not both")
        return self


class DealEventBody(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "type": "deal",
                    "source": "acme-crm",
                    "event_id": "evt_2026_03_06_0042",
                    "stage": "closed_won",
                    "deal": {
                        "id": "D-10482",
                        "account": "Northwind Logistics",
                        "amount": 84000,
                        "currency": "EUR",
                        "created_at": "2026-01-12T09:30:00Z",
                        "closed_at": "2026-03-06T15:00:00Z",
                        "ae": "maria.lopez@example.com",
                        "sales_manager": "dan.kim@example.com",
                        "products": ["Routing Pro", "Fleet Analytics"],
                        "professional_services": True,
                        "executive_sponsor": "Priya Shah (COO)",
                        "implementation_owner": "Tom Becker (IT Director)",
                    },
                    "document": {"goals": "Cut late deliveries from 9% to under 4% by Q3 2026."},
                }
            ]
        },
    )

    type: Literal["deal"]
    source: Slug = "generic"
    event_id: str | None = Field(default=None, max_length=256)
    occurred_at: Instant | None = None
    stage: str = Field(max_length=128)
    deal: GenericDeal
    document: HandoffDocument | None = None


class ChurnEventBody(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "type": "churn",
                    "source": "acme-crm",
                    "account": "Northwind Logistics",
                    "churned_on": "2026-11-30",
                    "reason": "Consolidated onto the parent company's routing platform.",
                }
            ]
        },
    )

    type: Literal["churn"]
    source: Slug = "generic"
    account: Name
    churned_on: Day
    reason: str = Field(default="", max_length=10_000)


class SurveyEventBody(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {
                    "type": "survey",
                    "source": "hubspot",
                    "deal_id": "9876543210",
                    "nps": 9,
                    "comment": "Kickoff was smooth; the CSM already knew our goals.",
                }
            ]
        },
    )

    type: Literal["survey"]
    # Survey tools call this `crm` (which CRM the deal lives in); both names are accepted.
    source: Slug = Field(default="generic", validation_alias=AliasChoices("source", "crm"))
    deal_id: DealId
    nps: StrictInt = Field(ge=0, le=10)
    comment: str = Field(default="", max_length=10_000)


GenericEvent = Annotated[DealEventBody | ChurnEventBody | SurveyEventBody, Field(discriminator="type")]
GENERIC_EVENT = TypeAdapter(GenericEvent)


def parse_generic(body: bytes) -> DealEventBody | ChurnEventBody | SurveyEventBody:
    """PayloadError for a body that is not JSON; pydantic's ValidationError (with each bad field's
    loc) for JSON that is not a valid event."""
    return GENERIC_EVENT.validate_python(load_json(body))


def to_deal_event(body: DealEventBody) -> DealEvent:
    return DealEvent(
        crm=body.source,
        deal_id=body.deal.id,
        stage=body.stage,
        occurred_at=body.occurred_at,
        event_id=body.event_id,
        deal_fields=body.deal.model_dump(mode="json", exclude_unset=True, exclude={"id", "closed_on"}),
        closed_on=body.deal.closed_on,
        document=body.document,
    )
