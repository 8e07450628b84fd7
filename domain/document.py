"""The handoff document: the eight weighted fields the AE fills in, plus optional sections."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from domain.directory import looks_like_email


class FieldName(StrEnum):
    """The scored fields, by their public names (API, files, overrides)."""

    GOALS = "goals"
    STAKEHOLDERS = "stakeholders"
    SUCCESS_CRITERIA = "success_criteria"
    RISKS = "risks"
    SCOPE = "scope"
    SALES_CONVERSATIONS = "sales_conversations"
    CONTRACT_TERMS = "contract_terms"
    COMMUNICATION_PREFERENCES = "communication_preferences"
    # Scored for partner-mediated deals only (the partner template): see CORE_FIELDS.
    PARTNER_CONTEXT = "partner_context"


# The fields every handoff is scored on unless its approach lists its own.
CORE_FIELDS = tuple(name for name in FieldName if name is not FieldName.PARTNER_CONTEXT)


class ContactRole(StrEnum):
    CHAMPION = "champion"
    DECISION_MAKER = "decision_maker"
    EXECUTIVE_SPONSOR = "executive_sponsor"
    USER = "user"
    BLOCKER = "blocker"
    IT = "it"
    IMPLEMENTATION_OWNER = "implementation_owner"
    OTHER = "other"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _nulls_are_empty(cls, data: Any) -> Any:
        """CRMs send null for a property nobody filled in: that is an empty field, not a bad request."""
        if isinstance(data, dict):
            return {key: value for key, value in data.items() if value is not None}
        return data


class Contact(_Strict):
    name: str = ""
    title: str = ""
    role: ContactRole | None = None
    email: str = Field(default="", description="optional; the customer e-mails (introductions) go only to these")
    notes: str = ""

    @field_validator("email")
    @classmethod
    def _address(cls, value: str) -> str:
        value = value.strip()
        if value and not looks_like_email(value):
            raise ValueError("not an e-mail address (leave it empty when unknown)")
        return value


class SalesConversations(_Strict):
    """What was said in the sale that the CSM must honour or handle."""

    commitments: list[str] = Field(default_factory=list)
    objections: list[str] = Field(default_factory=list)
    concessions: list[str] = Field(default_factory=list)


class PartnerContext(_Strict):
    partner_contact: Contact | None = None
    implementation_plan: str = ""
    support_tier: str = ""
    engagement_model: str = ""
    end_customer_contacts_shared: bool | None = None


class CompetitiveContext(_Strict):
    replaced_product: str = ""
    switch_reasons: str = ""
    features_to_replicate: list[str] = Field(default_factory=list)
    comparison_points: str = ""


class HandoffDocument(_Strict):
    """What sales knows that CS needs. Every scored field is optional until scored."""

    goals: str = ""
    stakeholders: list[Contact] = Field(default_factory=list)
    success_criteria: str = ""
    risks: str = ""
    scope: str = ""
    sales_conversations: SalesConversations = Field(default_factory=SalesConversations)
    contract_terms: str = ""
    communication_preferences: str = ""
    post_sale_stakeholders: list[Contact] = Field(default_factory=list)
    partner_context: PartnerContext | None = None
    competitive_context: CompetitiveContext | None = None
    # Not scored: required before the kickoff when professional services are attached.
    implementation_plan: str = ""

    def merged(self, changes: DocumentPatch) -> HandoffDocument:
        """A new document with the patch's set fields replacing these."""
        updated = {**self.model_dump(), **changes.model_dump(exclude_unset=True, exclude_none=True)}
        return HandoffDocument.model_validate(updated)


class DocumentPatch(_Strict):
    """A partial update: only the fields sent are replaced."""

    goals: str | None = None
    stakeholders: list[Contact] | None = None
    success_criteria: str | None = None
    risks: str | None = None
    scope: str | None = None
    sales_conversations: SalesConversations | None = None
    contract_terms: str | None = None
    communication_preferences: str | None = None
    post_sale_stakeholders: list[Contact] | None = None
    partner_context: PartnerContext | None = None
    competitive_context: CompetitiveContext | None = None
    implementation_plan: str | None = None
