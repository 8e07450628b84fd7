"""The CRM-neutral deal a handoff is about."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from domain.ids import check_crm_name, check_deal_id


class DealType(StrEnum):
    NEW_BUSINESS = "new_business"
    EXPANSION = "expansion"
    RENEWAL = "renewal"


class Deal(BaseModel):
    """What the CRM knows about a won (or nearly won) deal."""

    model_config = ConfigDict(extra="forbid")

    crm: str
    deal_id: str
    account: str = ""
    amount: float = Field(default=0.0, ge=0)
    currency: str = "USD"
    acv: float | None = Field(
        default=None, ge=0, description="Annualised contract value; derived from amount and term when absent."
    )
    contract_months: int = Field(default=12, ge=1, le=120)
    stage: str = ""
    created_at: datetime | None = None
    closed_at: datetime | None = None
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

    @field_validator("crm")
    @classmethod
    def _crm(cls, value: str) -> str:
        return check_crm_name(value)

    @field_validator("deal_id")
    @classmethod
    def _deal_id(cls, value: str) -> str:
        return check_deal_id(value)

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        value = value.strip().upper()
        if len(value) != 3 or not value.isalpha():
            raise ValueError(f"currency must be a 3-letter ISO code (got {value!r})")
        return value

    @field_validator("created_at", "closed_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("timestamp needs a UTC offset, e.g. 2026-03-06T15:00:00Z")
        return value

    @model_validator(mode="after")
    def _order(self) -> Deal:
        if self.created_at and self.closed_at and self.closed_at < self.created_at:
            raise ValueError("closed_at is before created_at")
        return self

    @property
    def annual_value(self) -> float:
        if self.acv is not None:
            return self.acv
        return self.amount * 12 / self.contract_months

    @property
    def sales_cycle(self) -> timedelta | None:
        if self.created_at is None or self.closed_at is None:
            return None
        return self.closed_at - self.created_at

    @property
    def sponsor_is_not_implementation_owner(self) -> bool:
        """Both known and different: the CSM then needs a separate intro to the real owner."""
        if not self.executive_sponsor or not self.implementation_owner:
            return False
        return self.executive_sponsor.strip().lower() != self.implementation_owner.strip().lower()
