"""Salesforce: Change Data Capture events (OpportunityChangeEvent, as JSON from a subscriber) and
workflow Outbound Messages (SOAP), with the Ack the latter must get back or Salesforce retries."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date
from typing import Any
from xml.parsers import expat

from pydantic import BaseModel, Field

from api.crm.errors import PayloadError
from api.crm.fields import (
    as_amount,
    as_datetime,
    as_dict,
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
from domain.ids import normalise_salesforce_id

CRM = "salesforce"
_SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
_OUTBOUND = "http://soap.sforce.com/2005/09/outbound"
_SOBJECT = "urn:sobject.enterprise.soap.sforce.com"
_XSI = "http://www.w3.org/2001/XMLSchema-instance"
_MAX_NOTIFICATIONS = 100  # the outbound WSDL's maxOccurs: more cannot come from Salesforce


def _record_id(value: Any, path: str) -> str:
    try:
        return normalise_salesforce_id(as_str(value, path))
    except ValueError as exc:
        raise PayloadError(path, str(exc)) from None


def _deal_fields(record: dict[str, Any], path: str) -> tuple[dict[str, Any], date | None]:
    """The deal's fields, and its CloseDate (a date: the policy calendar places it, not this parser)."""
    fields: dict[str, Any] = {}
    put(fields, "account", text_or_none(record.get("Name"), at(path, "Name")))
    put(fields, "amount", as_amount(record.get("Amount"), at(path, "Amount")))
    currency = text_or_none(record.get("CurrencyIsoCode"), at(path, "CurrencyIsoCode"))
    put(fields, "currency", currency.upper() if currency else None)
    put(fields, "ae", text_or_none(record.get("OwnerId"), at(path, "OwnerId")))
    put(fields, "created_at", iso_or_none(record.get("CreatedDate"), at(path, "CreatedDate")))
    return fields, put_close(fields, record.get("CloseDate"), at(path, "CloseDate"))


def _unwrap(raw: Any, path: str) -> dict[str, Any]:
    """CometD delivers {"data": {"payload": ...}}, Pub/Sub relays often {"payload": ...}."""
    event = as_dict(raw, path)
    if isinstance(event.get("data"), dict) and isinstance(event["data"].get("payload"), dict):
        return event["data"]["payload"]
    if "ChangeEventHeader" not in event and isinstance(event.get("payload"), dict):
        return event["payload"]
    return event


def parse_cdc(body: bytes) -> list[DealEvent]:
    data = load_json(body)
    if isinstance(data, dict) and "events" in data:
        items, base = as_list(data["events"], "events"), "events"
    elif isinstance(data, list):
        items, base = data, ""
    else:
        items, base = [as_dict(data, "body")], None
    events: list[DealEvent] = []
    for index, raw in enumerate(items):
        path = "" if base is None else at(base, index)
        event = _unwrap(raw, path)
        head_path = at(path, "ChangeEventHeader")
        header = as_dict(require(event, "ChangeEventHeader", path), head_path)
        if as_str(require(header, "entityName", head_path), at(head_path, "entityName")) != "Opportunity":
            continue
        change = as_str(require(header, "changeType", head_path), at(head_path, "changeType"))
        # UPDATE carries only changed fields, so no StageName means the stage did not move; GAP_*
        # and DELETE carry none at all and leave the API to re-read the record.
        stage = (
            ""
            if change.startswith("GAP_") or change == "DELETE"
            else (text_or_none(event.get("StageName"), at(path, "StageName")) or "")
        )
        commit = header.get("commitTimestamp")
        occurred = as_datetime(commit, at(head_path, "commitTimestamp")) if commit is not None else None
        key = as_str(require(header, "transactionKey", head_path), at(head_path, "transactionKey"))
        # One transaction can change one record several times; the sequence number tells them apart.
        if header.get("sequenceNumber") is not None:
            key = f"{key}:{header['sequenceNumber']}"
        fields, closed_on = _deal_fields(event, path)
        properties = {key: value for key, value in event.items() if key != "ChangeEventHeader"}
        ids_path = at(head_path, "recordIds")
        for position, raw_id in enumerate(as_list(require(header, "recordIds", head_path), ids_path)):
            # "006*" marks a field-type conversion touching every record: not a deal moving.
            if isinstance(raw_id, str) and raw_id.endswith("*"):
                continue
            record_id = _record_id(raw_id, at(ids_path, position))
            events.append(
                DealEvent(
                    crm=CRM,
                    deal_id=record_id,
                    stage=stage,
                    occurred_at=occurred,
                    event_id=f"{key}:{record_id}",
                    deal_fields=dict(fields),
                    closed_on=closed_on,
                    crm_properties=properties,
                )  # fmt: skip
            )
    return events


class OutboundMessage(BaseModel):
    organization_id: str = Field(description="the sending org, 18 characters; check it before trusting the rest")
    action_id: str = ""
    notifications: list[DealEvent] = Field(default_factory=list)


def _refuse_declarations(body: bytes) -> None:
    """A DTD is how XXE and entity-expansion bombs get in, and SOAP never needs one. expat sees the
    declaration in any encoding the body claims, which a byte search alone would miss."""
    parser = expat.ParserCreate()

    def refuse(*_: Any) -> None:
        raise PayloadError("body", "DOCTYPE and ENTITY declarations are not allowed")

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    try:
        parser.Parse(body, True)
    except expat.ExpatError as exc:
        raise PayloadError("body", f"not well-formed XML: {exc}") from None


def _value(element: ET.Element | None) -> str | None:
    if element is None or element.get(f"{{{_XSI}}}nil") == "true":
        return None
    return (element.text or "").strip() or None


def _text(parent: ET.Element, tag: str) -> str | None:
    return _value(parent.find(tag))


def parse_outbound_message(body: bytes) -> OutboundMessage:
    _refuse_declarations(body)
    root = ET.fromstring(body)
    message = root.find(f"{{{_SOAP}}}Body/{{{_OUTBOUND}}}notifications")
    if message is None:
        raise PayloadError("Envelope.Body.notifications", "missing")
    org = _text(message, f"{{{_OUTBOUND}}}OrganizationId")
    if org is None:
        raise PayloadError("notifications.OrganizationId", "missing")
    found = message.findall(f"{{{_OUTBOUND}}}Notification")
    if len(found) > _MAX_NOTIFICATIONS:
        raise PayloadError("notifications.Notification", f"{len(found)} notifications, at most 100 allowed")
    events: list[DealEvent] = []
    for index, note in enumerate(found):
        path = f"Notification[{index}]"
        note_id = _text(note, f"{{{_OUTBOUND}}}Id")
        sobject = note.find(f"{{{_OUTBOUND}}}sObject")
        if note_id is None or sobject is None:
            raise PayloadError(at(path, "Id" if note_id is None else "sObject"), "missing")
        if (sobject.get(f"{{{_XSI}}}type") or "").rpartition(":")[2] != "Opportunity":
            continue
        record = {child.tag.rpartition("}")[2]: _value(child) for child in sobject}
        if record.get("Id") is None:
            raise PayloadError(at(path, "sObject.Id"), "missing")
        fields, closed_on = _deal_fields(record, at(path, "sObject"))
        events.append(
            DealEvent(
                crm=CRM,
                deal_id=_record_id(record["Id"], at(path, "sObject.Id")),
                stage=record.get("StageName") or "",
                event_id=note_id,
                deal_fields=fields,
                closed_on=closed_on,
                crm_properties=record,
            )  # fmt: skip
        )
    return OutboundMessage(
        organization_id=_record_id(org, "notifications.OrganizationId"),
        action_id=_text(message, f"{{{_OUTBOUND}}}ActionId") or "",
        notifications=events,
    )


def outbound_ack(ok: bool = True) -> str:
    """Salesforce retries a message (for up to 24 hours) until it gets Ack true."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soapenv:Envelope xmlns:soapenv="{_SOAP}"><soapenv:Body>'
        f'<notificationsResponse xmlns="{_OUTBOUND}"><Ack>{"true" if ok else "false"}</Ack></notificationsResponse>'
        "</soapenv:Body></soapenv:Envelope>"
    )
