"""OpenAPI examples for every request body, shaped as each CRM and each person really sends them."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from api.crm import ChurnEventBody, DealEventBody, SurveyEventBody


def _one(summary: str, value: Any) -> dict[str, Any]:
    return {"summary": summary, "value": value}


def raw_body(media_type: str, examples: dict[str, dict[str, Any]], schema: dict | None = None) -> dict[str, Any]:
    """`openapi_extra` for a route that reads its body raw (a signature covers the exact bytes)."""
    content = {"schema": schema or {"type": "object"}, "examples": examples}
    return {"requestBody": {"required": True, "content": {media_type: content}}}


HUBSPOT = raw_body("application/json", {
    "batch": _one("Webhooks API batch (X-HubSpot-Signature-v3)", [
        {"eventId": 1001, "subscriptionId": 2411, "portalId": 62515, "appId": 1160452, "occurredAt": 1772809200000,
         "subscriptionType": "deal.propertyChange", "attemptNumber": 0, "objectId": 9876543210,
         "propertyName": "dealstage", "propertyValue": "closedwon", "changeSource": "CRM_UI"},
    ]),
    "workflow": _one("Workflow 'Send a webhook' action (X-HubSpot-Signature, v2)", {
        "objectId": 9876543210,
        "properties": {"dealstage": {"value": "closedwon", "timestamp": 1772809200000},
                       "dealname": {"value": "Northwind Logistics"}, "amount": {"value": "84000"}},
    }),
}, {"oneOf": [{"type": "array", "items": {"type": "object"}}, {"type": "object"}]})  # fmt: skip

# The four headers of one webhooks-API delivery, as HubSpot sends them together: the v3 pair is what
# Baton verifies; the v1 pair beside it describes the older signature and is not used.
HUBSPOT_HEADERS: dict[str, dict[str, Any]] = {
    "v3": {"description": "base64 HMAC-SHA256 of method, URI, body and timestamp: verified when present",
           "examples": ["Gq2bJ9Z0cS0b3bXzqF4kS3o7yYw6C2m8vQ1tR5nL0aE="]},
    "timestamp": {"description": "milliseconds since the epoch, sent with v3; older than 5 minutes is refused",
                  "examples": ["1772809200000"]},
    "signature": {"description": "sent beside v3 as the v1 signature (not used); a workflow webhook's v2 signature",
                  "examples": ["3f7a1c0e9b8d2f4a6c5e1b0d9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f"]},
    "version": {"description": "describes X-HubSpot-Signature only: v1 beside a v3 signature, v2 from a workflow",
                "examples": ["v1"]},
}  # fmt: skip

SALESFORCE_CDC = raw_body("application/json", {
    "cdc": _one("OpportunityChangeEvent relayed as JSON", {
        "ChangeEventHeader": {"entityName": "Opportunity", "changeType": "UPDATE", "recordIds": ["0065g00000AbCdEAAV"],
                              "transactionKey": "0001a2b3-c4d5", "sequenceNumber": 1, "commitTimestamp": 1772809200000},
        "StageName": "Closed Won",
    }),
})  # fmt: skip

OUTBOUND_XML = """<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <soapenv:Body>
  <notifications xmlns="http://soap.sforce.com/2005/09/outbound">
   <OrganizationId>00D5g000004XyZaEAK</OrganizationId>
   <ActionId>04k5g000000AbCdAAK</ActionId>
   <Notification>
    <Id>04l5g00000AbCdEAAV</Id>
    <sObject xsi:type="sf:Opportunity" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
     <sf:Id>0065g00000AbCdEAAV</sf:Id><sf:StageName>Closed Won</sf:StageName><sf:Name>Northwind Logistics</sf:Name>
    </sObject>
   </Notification>
  </notifications>
 </soapenv:Body>
</soapenv:Envelope>"""
SALESFORCE_OUTBOUND = raw_body(
    "text/xml", {"outbound": _one("Workflow Outbound Message (SOAP)", OUTBOUND_XML)}, {"type": "string"}
)

PIPEDRIVE = raw_body("application/json", {
    "v2": _one("Webhooks v2 change.deal, status now won", {
        "meta": {"version": "2.0", "entity": "deal", "action": "change", "id": "a1b2c3", "timestamp": "2026-03-06T15:00:00Z"},
        "data": {"id": 4711, "title": "Northwind Logistics", "value": 84000, "currency": "EUR", "status": "won",
                 "won_time": "2026-03-06T15:00:00Z", "owner_id": 12},
        "previous": {"status": "open"},
    }),
})  # fmt: skip


def _first_example(model: type[BaseModel]) -> Any:
    """The first entry of a model's `json_schema_extra={"examples": [...]}`."""
    extra = model.model_config["json_schema_extra"]
    if not isinstance(extra, dict):
        raise TypeError(f"{model.__name__}: json_schema_extra is not a mapping")
    examples = extra["examples"]
    if not isinstance(examples, list):
        raise TypeError(f"{model.__name__}: json_schema_extra['examples'] is not a list")
    return examples[0]


GENERIC_EVENTS = {
    name: _one(f"a {name} event", _first_example(model))
    for name, model in (("deal", DealEventBody), ("churn", ChurnEventBody), ("survey", SurveyEventBody))
}

DOCUMENT = {
    "fill": _one("The AE fills in fields", {"by": "maria.lopez@example.com", "fields": {
        "goals": "Cut late deliveries from 9% to under 4% by Q3 2026.",
        "scope": "Routing Pro for 40 dispatchers and Fleet Analytics.",
    }}),
    "submit": _one("The AE submits the document to CS", {"by": "maria.lopez@example.com", "submit": True}),
}  # fmt: skip
CSM = {"assign": _one("A CS lead assigns a CSM", {"by": "lead@example.com", "csm": "csm-mm-2", "team": "mid-market"})}
INTAKE = {
    "accept": _one("The CSM accepts, overriding one field", {"by": "csm-mm-1", "rating": 4, "overrides": {"risks": 1.0},
                                                             "comments": "Risks were covered on the call."}),
    "return": _one("The CSM sends it back", {"by": "csm-mm-1", "rating": 2, "accept": False, "comments": "No stakeholders."}),
}  # fmt: skip
INTRO = {
    "scheduled": _one(
        "Intro scheduled", {"by": "ae@example.com", "action": "scheduled", "scheduled_for": "2026-03-10T15:00:00Z"}
    ),
    "held": _one("Intro held", {"by": "ae@example.com", "action": "held"}),
}
FIRST_TOUCH = {
    "email": _one("First touch by email", {"by": "csm-mm-1", "channel": "email", "with_implementation_owner": False})
}
KICKOFF = {
    "held": _one("Kickoff held", {"by": "csm-mm-1", "success_plan": ["SSO live by April", "40 dispatchers trained"]})
}
MILESTONE = {
    "setup": _one(
        "Setup complete",
        {
            "by": "csm-mm-1",
            "milestone": "setup_complete",
            "sentiment": "positive",
            "notes": "SSO and routing rules configured.",
        },
    )
}
EXTENSION = {
    "by": _one("Extend by a span", {"by": "lead@example.com", "extend_by": "2bd", "reason": "Customer on holiday"}),
    "to": _one(
        "Move to an instant", {"by": "lead@example.com", "new_due": "2026-03-20T17:00:00Z", "reason": "Board week"}
    ),
}
AE_DEPARTURE = {
    "left": _one("The AE has left", {"by": "sm@example.com"}),
    "owner": _one("Name the recovery owner", {"by": "sm@example.com", "recovery_owner": "dan.kim@example.com"}),
}
POST_CHECK = {
    "answers": _one(
        "The CSM's answers", {"by": "csm-mm-1", "enough_context": True, "concerns": [], "notes": "Adoption on track."}
    )
}
