"""Pipedrive webhooks, v2 (`change.deal`) and v1 (`updated.deal`); a deal is won or lost through its
`status`, not a pipeline stage, so that is what becomes the event's stage."""

from __future__ import annotations

from datetime import date
from typing import Any

from api.crm.errors import PayloadError
from api.crm.fields import (
    as_amount,
    as_datetime,
    as_dict,
    as_id,
    at,
    iso_or_none,
    load_json,
    put,
    put_close,
    text_or_none,
)  # fmt: skip
from domain.events import DealEvent

CRM = "pipedrive"
_OUTCOMES = ("won", "lost")


def _outcome(current: dict[str, Any], previous: Any, path: str) -> str:
    """ "won" or "lost" when this event moved the deal there, else "".

    v1 sends the whole previous deal and v2 only the fields that changed, so a previous without
    `status` means the status did not change (a won deal renamed is not won again). With no
    previous at all (a deal created already closed) the current status is all there is, and the
    one-workflow-per-deal id absorbs a repeat."""
    status = current.get("status")
    if status not in _OUTCOMES:
        return ""
    if previous is None:
        return status
    if "status" not in as_dict(previous, path):
        return ""
    return status if previous["status"] != status else ""


def _user(value: Any, path: str) -> str | None:
    # Some v1 payloads expand user_id into {"id": ..., "name": ...}.
    return text_or_none(value.get("id") if isinstance(value, dict) else value, path)


def _deal_fields(deal: dict[str, Any], path: str) -> tuple[dict[str, Any], date | None]:
    """The deal's fields, and a close that is a date only (`close_time` in some accounts' v1 payloads;
    `won_time` is always an instant)."""
    fields: dict[str, Any] = {}
    put(fields, "account", text_or_none(deal.get("title"), at(path, "title")))
    put(fields, "amount", as_amount(deal.get("value"), at(path, "value")))
    currency = text_or_none(deal.get("currency"), at(path, "currency"))
    put(fields, "currency", currency.upper() if currency else None)
    closed_key = "won_time" if deal.get("won_time") else "close_time"
    closed_on = put_close(fields, deal.get(closed_key), at(path, closed_key))
    put(fields, "created_at", iso_or_none(deal.get("add_time"), at(path, "add_time")))
    owner_key = "owner_id" if deal.get("owner_id") is not None else "user_id"
    put(fields, "ae", _user(deal.get(owner_key), at(path, owner_key)))
    return fields, closed_on


def properties(deal: dict[str, Any]) -> dict[str, Any]:
    """v2 nests custom fields under `custom_fields`, v1 puts them beside the standard ones (keyed by
    their 40-character hash); the mapping reads both the same way."""
    found = {key: value for key, value in deal.items() if key != "custom_fields"}
    custom = deal.get("custom_fields")
    if isinstance(custom, dict):
        found.update(custom)
    return found


def _occurred(meta: dict[str, Any], key: str) -> Any:
    value = meta.get(key)
    return as_datetime(value, at("meta", key)) if value not in (None, "") else None


def _v2(payload: dict[str, Any], meta: dict[str, Any]) -> list[DealEvent]:
    if meta.get("entity") != "deal" or meta.get("action") not in ("change", "create"):
        return []
    deal = as_dict(payload.get("data"), "data")
    raw_id = deal.get("id", meta.get("entity_id"))
    if raw_id is None:
        raise PayloadError("data.id", "missing")
    deal_id = as_id(raw_id, "data.id" if "id" in deal else "meta.entity_id")
    # meta.id names the notification; with the deal and change time it repeats on a retry only.
    event_id = f"{deal_id}:{meta.get('id')}:{meta.get('timestamp')}" if meta.get("id") is not None else None
    fields, closed_on = _deal_fields(deal, "data")
    return [
        DealEvent(
            crm=CRM,
            deal_id=deal_id,
            stage=_outcome(deal, payload.get("previous"), "previous"),
            occurred_at=_occurred(meta, "timestamp"),
            event_id=event_id,
            deal_fields=fields,
            closed_on=closed_on,
            crm_properties=properties(deal),
        )  # fmt: skip
    ]


def _v1(payload: dict[str, Any], meta: dict[str, Any]) -> list[DealEvent]:
    if meta.get("object") != "deal" or meta.get("action") not in ("updated", "added"):
        return []
    deal = as_dict(payload.get("current"), "current")
    raw_id = deal.get("id", meta.get("id"))
    if raw_id is None:
        raise PayloadError("current.id", "missing")
    deal_id = as_id(raw_id, "current.id" if "id" in deal else "meta.id")
    # v1 has no notification id; the change time, to the microsecond, is what a retry repeats.
    moment = meta.get("timestamp_micro") or meta.get("timestamp")
    fields, closed_on = _deal_fields(deal, "current")
    return [
        DealEvent(
            crm=CRM,
            deal_id=deal_id,
            stage=_outcome(deal, payload.get("previous"), "previous"),
            occurred_at=_occurred(meta, "timestamp"),
            event_id=f"v1:{deal_id}:{moment}" if moment else None,
            deal_fields=fields,
            closed_on=closed_on,
            crm_properties=properties(deal),
        )  # fmt: skip
    ]


def parse_pipedrive(body: bytes) -> list[DealEvent]:
    payload = as_dict(load_json(body), "body")
    meta = as_dict(payload.get("meta"), "meta")
    version = str(meta.get("version", ""))
    if version.startswith("2") or "entity" in meta:
        return _v2(payload, meta)
    if "object" in meta or meta.get("v") == 1 or "event" in payload:
        return _v1(payload, meta)
    raise PayloadError("meta", "neither a webhooks v1 nor a v2 notification")
