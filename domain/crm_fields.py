"""Which CRM property holds which deal fact or handoff-document field, per CRM (policy `crm_fields`).

Webhook parsers and CRM fetches both hand over the record's properties as the CRM named them; this
mapping turns them into deal facts (what the approach matrix needs: deal type, partner, professional
services, products ...) and document fields, so a team can write the handoff document in its CRM.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field, field_validator

from domain.deal import DealType
from domain.document import Contact, ContactRole, DocumentPatch, FieldName, SalesConversations
from domain.policy_section import Section


class DealFact(StrEnum):
    """Deal facts a CRM property may carry (the webhook parsers read name, amount, dates and owner)."""

    DEAL_TYPE = "deal_type"
    ACV = "acv"
    CONTRACT_MONTHS = "contract_months"
    CHANNEL_PARTNER = "channel_partner"
    PRODUCTS = "products"
    CONTRACT_TERMS = "contract_terms"
    CUSTOM_IMPLEMENTATION = "custom_implementation"
    PROFESSIONAL_SERVICES = "professional_services"
    EXECUTIVE_SPONSOR = "executive_sponsor"
    IMPLEMENTATION_OWNER = "implementation_owner"
    REPLACES_COMPETITOR = "replaces_competitor"
    SALES_MANAGER = "sales_manager"
    VP_SALES = "vp_sales"


_BOOL_FACTS = {DealFact.CUSTOM_IMPLEMENTATION, DealFact.PROFESSIONAL_SERVICES}
_TRUE = {"true", "yes", "1", "on", "checked", "x"}
_FALSE = {"false", "no", "0", "off", "unchecked", ""}


class CrmFieldMap(Section):
    """One CRM's mapping. Property names are the CRM's internal names (HubSpot property names,
    Salesforce API field names, Pipedrive field keys)."""

    deal: dict[DealFact, str] = Field(default_factory=dict)
    deal_types: dict[str, DealType] = Field(
        default_factory=dict, description="the CRM's deal-type values (any case) and what each means"
    )
    document: dict[FieldName, str] = Field(default_factory=dict)
    submitted: str | None = Field(default=None, description="a property that, when true, submits the document")

    @field_validator("deal", "document")
    @classmethod
    def _names(cls, value: dict[Any, str]) -> dict[Any, str]:
        if FieldName.PARTNER_CONTEXT in value or FieldName.PARTNER_CONTEXT.value in value:
            raise ValueError(
                "partner_context has several parts and no one CRM property holds it: set it through the API"
            )
        bad = [str(key) for key, name in value.items() if not name.strip() or len(name) > 255]
        if bad:
            raise ValueError(f"property names must be 1-255 characters: {', '.join(bad)}")
        return value

    @field_validator("deal_types")
    @classmethod
    def _lower(cls, value: dict[str, DealType]) -> dict[str, DealType]:
        return {key.strip().lower(): kind for key, kind in value.items()}

    def properties(self) -> list[str]:
        """Every property the mapping reads, for a CRM fetch that must name what it wants."""
        named = [*self.deal.values(), *self.document.values(), *([self.submitted] if self.submitted else [])]
        return list(dict.fromkeys(named))


def default_crm_fields() -> dict[str, CrmFieldMap]:
    """Each CRM's standard fields. Pipedrive has no standard deal type: map its custom field's key."""
    return {
        "hubspot": CrmFieldMap(
            deal={DealFact.DEAL_TYPE: "dealtype", DealFact.ACV: "hs_acv"},
            deal_types={"newbusiness": DealType.NEW_BUSINESS, "existingbusiness": DealType.EXPANSION},
        ),
        "salesforce": CrmFieldMap(
            deal={DealFact.DEAL_TYPE: "Type"},
            deal_types={
                "new business": DealType.NEW_BUSINESS,
                "new customer": DealType.NEW_BUSINESS,
                "existing business": DealType.EXPANSION,
                "existing customer - upgrade": DealType.EXPANSION,
                "existing customer - replacement": DealType.EXPANSION,
                "existing customer - downgrade": DealType.EXPANSION,
                "renewal": DealType.RENEWAL,
            },
        ),
        "pipedrive": CrmFieldMap(),
    }


class CrmDocumentChange(BaseModel):
    """Signal: document fields changed in the CRM. Never a submission unless the mapped "submitted"
    property said so (`submit`)."""

    fields: DocumentPatch = Field(default_factory=DocumentPatch)
    submit: bool = False
    at: datetime | None = None


def merge_patches(first: DocumentPatch | None, then: DocumentPatch | None) -> DocumentPatch | None:
    """`then`'s fields over `first`'s (the event's over the fetch's, as for deal fields)."""
    if first is None or then is None:
        return then or first
    return DocumentPatch.model_validate({**first.model_dump(exclude_none=True), **then.model_dump(exclude_none=True)})


class MappingError(ValueError):
    """A mapped property whose value cannot be the fact it is mapped to; `prop` names the property."""

    def __init__(self, prop: str, message: str) -> None:
        super().__init__(f"{prop}: {message}")
        self.prop = prop
        self.message = message


@dataclass
class Mapped:
    deal_fields: dict[str, Any] = field(default_factory=dict)
    document: DocumentPatch | None = None
    submitted: bool = False


def _text(value: Any, prop: str) -> str:
    if isinstance(value, dict) and "value" in value:  # HubSpot classic and Pipedrive v1 wrap values
        value = value["value"]
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, list):
        return ";".join(_text(item, prop) for item in value)
    if not isinstance(value, str):
        raise MappingError(prop, "expected text")
    return value.strip()


def _bool(value: Any, prop: str) -> bool:
    text = _text(value, prop).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise MappingError(prop, f"expected true or false, got {text[:40]!r}")


def _number(value: Any, prop: str) -> float | None:
    text = _text(value, prop)
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        raise MappingError(prop, "not a number") from None
    if not math.isfinite(number):
        raise MappingError(prop, "not a finite number")
    return number


def _list(value: Any, prop: str) -> list[str]:
    """HubSpot and Salesforce multi-selects arrive as "a;b;c"; Pipedrive's as a list or "a,b"."""
    if isinstance(value, list):
        return [item for item in (_text(v, prop) for v in value) if item]
    text = _text(value, prop)
    separator = ";" if ";" in text else ","
    return [part.strip() for part in text.split(separator) if part.strip()]


def _deal_type(value: Any, prop: str, kinds: dict[str, DealType]) -> DealType | None:
    text = _text(value, prop).lower()
    if not text:
        return None
    if text in kinds:
        return kinds[text]
    # Portals add their own options; one that says renewal or expansion means it.
    for kind in (DealType.RENEWAL, DealType.EXPANSION):
        if kind.value in text:
            return kind
    return None


def _stakeholders(value: Any, prop: str) -> list[Contact]:
    """One contact a line: "Name | Title | Role | Notes" (role as in the document, e.g. champion)."""
    contacts = []
    for line in _text(value, prop).splitlines():
        parts = [part.strip() for part in line.split("|")]
        if not parts[0]:
            continue
        parts += [""] * (4 - len(parts))
        role = parts[2].lower().replace(" ", "_")
        contacts.append(
            Contact(
                name=parts[0],
                title=parts[1],
                role=ContactRole(role) if role in ContactRole.__members__.values() else None,
                notes=" | ".join(parts[3:]).strip(" |"),
            )
        )
    return contacts


def _conversations(value: Any, prop: str) -> SalesConversations:
    """One item a line; "objection:" or "concession:" before a line files it there, else a commitment."""
    found: dict[str, list[str]] = {"commitments": [], "objections": [], "concessions": []}
    for line in _text(value, prop).splitlines():
        head, sep, rest = line.partition(":")
        key = head.strip().lower() + "s"
        if sep and key in found:
            found[key].append(rest.strip())
        elif line.strip():
            found["commitments"].append(line.strip())
    return SalesConversations(**found)


def map_properties(properties: dict[str, Any], mapping: CrmFieldMap | None) -> Mapped:
    """The facts and document fields the mapped properties carry; a property absent from the record
    contributes nothing, so a partial update never blanks what an earlier event or fetch filled in."""
    mapped = Mapped()
    if mapping is None:
        return mapped
    for fact, prop in mapping.deal.items():
        if prop not in properties:
            continue
        raw = properties[prop]
        value: Any
        if fact is DealFact.DEAL_TYPE:
            value = _deal_type(raw, prop, mapping.deal_types)
        elif fact in _BOOL_FACTS:
            value = _bool(raw, prop)
        elif fact is DealFact.PRODUCTS:
            value = _list(raw, prop) or None
        elif fact is DealFact.ACV:
            value = _number(raw, prop) or None  # HubSpot's hs_acv is 0 when nothing recurs: unknown
        elif fact is DealFact.CONTRACT_MONTHS:
            months = _number(raw, prop)
            value = None if months is None else int(months)
        else:
            value = _text(raw, prop) or None
        if value is not None:
            mapped.deal_fields[fact.value] = value
    changes: dict[str, Any] = {}
    for name, prop in mapping.document.items():
        if prop not in properties:
            continue
        if name is FieldName.STAKEHOLDERS:
            changes[name.value] = _stakeholders(properties[prop], prop)
        elif name is FieldName.SALES_CONVERSATIONS:
            changes[name.value] = _conversations(properties[prop], prop)
        else:
            changes[name.value] = _text(properties[prop], prop)
    if changes:
        mapped.document = DocumentPatch(**changes)
    if mapping.submitted and mapping.submitted in properties:
        mapped.submitted = _bool(properties[mapping.submitted], mapping.submitted)
    return mapped
