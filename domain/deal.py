"""The CRM-neutral deal a handoff is about."""

from __future__ import annotations

import math
import unicodedata
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from domain.ids import check_crm_name, check_deal_id

# The calendar's arithmetic overflows near year 1 and 9999, which would fail every workflow task of the
# run forever; no real deal is created or closed outside this range.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 12, 31, 23, 59, 59, tzinfo=UTC)
# Above any real contract, and far enough below float's range that converting currencies and
# annualising can never reach infinity.
MAX_AMOUNT = 1e12
# What the read model's name columns hold (store migration 0002); 500 characters of 4-byte UTF-8 still
# fit in one PostgreSQL index entry, which the account column has.
MAX_NAME = 500
_NAMES = (
    "account", "ae", "sales_manager", "vp_sales", "channel_partner",
    "executive_sponsor", "implementation_owner", "replaces_competitor",
)  # fmt: skip


def check_name(value: str) -> str:
    """A name shown in notices, the UI and search attributes: one line of printable text. A NUL or other
    control character (or a lone surrogate, which no encoder accepts) is refused rather than stored."""
    if len(value) > MAX_NAME:
        raise ValueError(f"at most {MAX_NAME} characters (got {len(value)})")
    for char in value:
        if unicodedata.category(char) in ("Cc", "Cs"):
            raise ValueError(f"control character U+{ord(char):04X} is not allowed in a name")
    return value


def check_instant(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("timestamp needs a UTC offset, e.g. 2026-03-06T15:00:00Z")
    if not EARLIEST <= value <= LATEST:
        raise ValueError(f"{value.isoformat()} is outside 1970-2200")
    return value


def check_amount(value: float) -> float:
    if not math.isfinite(value) or not 0 <= value <= MAX_AMOUNT:
        raise ValueError(f"must be a finite number from 0 to {MAX_AMOUNT:.0e}")
    return value


class DealType(StrEnum):
    NEW_BUSINESS = "new_business"
    EXPANSION = "expansion"
    RENEWAL = "renewal"


class DealFacts(BaseModel):
    """What a CRM knows about a deal, without saying which CRM record it is: every ingestion route's
    model of a deal derives from this one, so a rule about a fact is written once."""

    model_config = ConfigDict(extra="forbid")

    account: str = ""
    amount: float = Field(default=0.0, ge=0)
    currency: str = "USD"
    acv: float | None = Field(
        default=None, ge=0, description="Annualised contract value; derived from amount and term when absent."
    )
    contract_months: int = Field(default=12, ge=1, le=120)
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

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        value = value.strip().upper()
        if len(value) != 3 or not value.isascii() or not value.isalpha():
            raise ValueError(f"currency must be a 3-letter ISO code (got {value[:8]!r})")
        return value

    @field_validator("created_at", "closed_at")
    @classmethod
    def _instant(cls, value: datetime | None) -> datetime | None:
        return None if value is None else check_instant(value)

    @field_validator("amount", "acv")
    @classmethod
    def _amount(cls, value: float | None) -> float | None:
        return None if value is None else check_amount(value)

    @field_validator(*_NAMES)
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        return None if value is None else check_name(value)

    @field_validator("products")
    @classmethod
    def _products(cls, value: list[str]) -> list[str]:
        if len(value) > 100:
            raise ValueError(f"at most 100 products (got {len(value)})")
        return [check_name(product) for product in value]


class Deal(DealFacts):
    """What the CRM knows about a won (or nearly won) deal, and which record it is."""

    crm: str
    deal_id: str
    stage: str = Field(default="", max_length=256)

    @field_validator("crm")
    @classmethod
    def _crm(cls, value: str) -> str:
        return check_crm_name(value)

    @field_validator("deal_id")
    @classmethod
    def _deal_id(cls, value: str) -> str:
        return check_deal_id(value)

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
