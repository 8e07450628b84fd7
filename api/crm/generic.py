"""The documented event for any other CRM, or a script: one JSON body, discriminated on `type`."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import AfterValidator, AliasChoices, AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter

from api.crm.fields import load_json
from domain.deal import DealType
from domain.document import HandoffDocument
from domain.events import DealEvent
from domain.ids import check_crm_name, check_deal_id

Slug = Annotated[str, AfterValidator(check_crm_name)]
DealId = Annotated[str, AfterValidator(check_deal_id)]


class GenericDeal(BaseModel):
    """The deal as the sender knows it. Only the fields sent reach the handoff, so a partial
    update never blanks what the CRM fetch or an earlier event filled in."""

    model_config = ConfigDict(extra="forbid")

    id: DealId
    account: str = ""
    amount: float = Field(default=0.0, ge=0)
    currency: str = Field(default="USD", pattern=r"^[A-Za-z]{3}$")
    acv: float | None = Field(default=None, ge=0)
    contract_months: int = Field(default=12, ge=1, le=120)
    created_at: AwareDatetime | None = None
    closed_at: AwareDatetime | None = None
    deal_type: DealType = DealType.NEW_BUSINESS
    channel_partner: str | None = None
    ae: str = ""
    sales_manager: str = ""
    vp_sales: str = ""
    products: list[str] = Field(default_factory=list)
    contract_terms: str = ""
    custom_implementation: bool = False
    professional_services: bool = False
    executive_sponsor: str | None = None
    implementation_owner: str | None = None
    replaces_competitor: str | None = None


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
    occurred_at: AwareDatetime | None = None
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
    account: str = Field(min_length=1)
    churned_on: date
    reason: str = ""


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
    nps: int = Field(ge=0, le=10)
    comment: str = ""


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
        deal_fields=body.deal.model_dump(mode="json", exclude_unset=True, exclude={"id"}),
        document=body.document,
    )
