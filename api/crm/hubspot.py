"""HubSpot: the webhooks-API batch (signature v3) and a workflow's "Send a webhook" action (v2)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from api.crm.errors import PayloadError
from api.crm.fields import (
    as_amount,
    as_datetime,
    as_dict,
    as_id,
    as_int,
    as_list,
    as_str,
    at,
    iso_or_none,
    load_json,
    put,
    put_close,
    require,
    text_or_none,
)  # fmt: skip
from domain.events import DealEvent

CRM = "hubspot"
# Apps on HubSpot's newer developer platform subscribe to generic object events; 0-3 is the deal type.
_DEAL_OBJECT_TYPE = "0-3"
# HubSpot's documented batch limit: a larger batch did not come from HubSpot.
MAX_BATCH = 100


def _deal_change(event: dict[str, Any], path: str) -> tuple[str, dict[str, Any]] | None:
    """The stage the event reports ("" when it is not a stage change) and the property it changed, or
    None for an event Baton does not need."""
    kind = as_str(require(event, "subscriptionType", path), at(path, "subscriptionType"))
    if kind.startswith("object."):
        if str(event.get("objectTypeId", "")) != _DEAL_OBJECT_TYPE:
            return None
        kind = "deal." + kind.removeprefix("object.")
    if kind == "deal.creation":
        return "", {}
    if kind != "deal.propertyChange":
        return None
    name = as_str(require(event, "propertyName", path), at(path, "propertyName"))
    value = event.get("propertyValue")
    if name == "dealstage":
        return as_str(require(event, "propertyValue", path), at(path, "propertyValue")), {}
    # Any other property may be one the policy maps (a document field written in HubSpot).
    return "", {name: value}


def parse_hubspot_batch(body: bytes) -> list[DealEvent]:
    """HubSpot batches up to 100 events per request, any mix of types; every deal event counts."""
    events: list[DealEvent] = []
    batch = as_list(load_json(body), "body")
    if len(batch) > MAX_BATCH:
        raise PayloadError("body", f"{len(batch)} events; HubSpot sends at most {MAX_BATCH} a request")
    for index, raw in enumerate(batch):
        path = f"[{index}]"
        event = as_dict(raw, path)
        change = _deal_change(event, path)
        if change is None:
            continue
        stage, properties = change
        deal_id = as_id(as_int(require(event, "objectId", path), at(path, "objectId")), at(path, "objectId"))
        event_id = None
        if event.get("eventId") is not None:
            # HubSpot does not promise eventId is unique on its own; with portal and object it
            # still repeats on a retry (attemptNumber > 0), which is what deduplication needs.
            portal = as_int(event.get("portalId", 0), at(path, "portalId"))
            event_id = f"{portal}:{deal_id}:{as_int(event['eventId'], at(path, 'eventId'))}"
        occurred = event.get("occurredAt")
        events.append(
            DealEvent(
                crm=CRM,
                deal_id=deal_id,
                stage=stage,
                occurred_at=as_datetime(occurred, at(path, "occurredAt")) if occurred is not None else None,
                event_id=event_id,
                crm_properties=properties,
            )
        )
    return events


def _property(props: dict[str, Any], name: str) -> Any:
    """Classic workflow bodies wrap each property as {"value": ..., "timestamp": ...}; newer ones
    (custom request body) send the bare value."""
    value = props.get(name)
    return value.get("value") if isinstance(value, dict) else value


def parse_hubspot_workflow(body: bytes) -> list[DealEvent]:
    data = as_dict(load_json(body), "body")
    nested = isinstance(data.get("properties"), dict)
    props: dict[str, Any] = data["properties"] if nested else data
    prefix = "properties" if nested else ""

    def where(name: str) -> str:
        return at(at(prefix, name), "value") if nested and isinstance(props.get(name), dict) else at(prefix, name)

    id_key = "objectId" if data.get("objectId") is not None else "hs_object_id"
    raw_id = data.get(id_key, _property(props, "hs_object_id"))
    if raw_id is None:
        raise PayloadError("objectId", "missing")
    deal_id = as_id(as_int(raw_id, id_key), id_key)
    stage = text_or_none(_property(props, "dealstage"), where("dealstage")) or ""

    fields: dict[str, Any] = {}
    put(fields, "account", text_or_none(_property(props, "dealname"), where("dealname")))
    put(fields, "amount", as_amount(_property(props, "amount"), where("amount")))
    currency = text_or_none(_property(props, "deal_currency_code"), where("deal_currency_code"))
    put(fields, "currency", currency.upper() if currency else None)
    closed_on = put_close(fields, _property(props, "closedate"), where("closedate"), midnight_utc_is_date=True)
    put(fields, "created_at", iso_or_none(_property(props, "createdate"), where("createdate")))
    put(fields, "ae", text_or_none(_property(props, "hubspot_owner_id"), where("hubspot_owner_id")))

    # The stage's own change time is stable across HubSpot's retries of one enrolment, so it keys
    # deduplication; the flat form carries no such time and stays un-keyed.
    stage_prop = props.get("dealstage")
    changed = stage_prop.get("timestamp") if isinstance(stage_prop, dict) else None
    event_id: str | None = None
    occurred_at: datetime | None = None
    if changed is not None:
        changed_path = at(at(prefix, "dealstage"), "timestamp")
        event_id = f"{deal_id}:{stage}:{as_int(changed, changed_path)}"
        occurred_at = as_datetime(changed, changed_path)
    return [
        DealEvent(
            crm=CRM,
            deal_id=deal_id,
            stage=stage,
            occurred_at=occurred_at,
            event_id=event_id,
            deal_fields=fields,
            closed_on=closed_on,
            crm_properties={name: _property(props, name) for name in props},
        )
    ]
