"""A stand-in document whose every scored field the rules judge to a recorded status.

The read model keeps each field's status (specific 1, generic 0.5, empty 0), never the text. To
replay a handoff under new weights, thresholds or approaches, the machine is given these texts, one
per field and status; tests/test_backtest_recorded.py proves the rules judge each as intended.
"""

from __future__ import annotations

from typing import Any

from domain.document import DocumentPatch, FieldName, HandoffDocument

_CONTACTS = [
    {"name": "Contact One", "title": "COO", "role": "executive_sponsor", "notes": "Approves the budget each quarter."},
    {"name": "Contact Two", "title": "Ops lead", "role": "champion", "notes": "Runs the rollout day to day."},
    {"name": "Contact Three", "title": "IT lead", "role": "it", "notes": "Owns SSO and the data import."},
]

TEXTS: dict[FieldName, dict[float, Any]] = {
    FieldName.GOALS: {
        1.0: "Cut onboarding time from 30 to 10 days within 6 months.",
        0.5: "Onboard the whole team onto the product.",
        0.0: "",
    },
    FieldName.STAKEHOLDERS: {1.0: _CONTACTS, 0.5: [{"name": "Contact One"}], 0.0: []},
    FieldName.SUCCESS_CRITERIA: {
        1.0: "Onboarding under 10 days by Q3.",
        0.5: "A smooth rollout everyone is happy with.",
        0.0: "",
    },
    FieldName.RISKS: {
        1.0: "The previous vendor's rollout stalled at the second site last year.",
        0.5: "Some adoption risk.",
        0.0: "",
    },
    FieldName.SCOPE: {1.0: "Platform Pro with 120 seats and the SSO add-on.", 0.5: "The platform.", 0.0: ""},
    FieldName.SALES_CONVERSATIONS: {
        1.0: {"commitments": ["SSO live in week one"], "objections": ["Price per seat"]},
        0.5: {"commitments": ["A smooth start"]},
        0.0: {},
    },
    FieldName.CONTRACT_TERMS: {1.0: "24 months, billed quarterly.", 0.5: "Standard terms.", 0.0: ""},
    FieldName.COMMUNICATION_PREFERENCES: {1.0: "Slack channel, weekly on Tuesdays.", 0.5: "Slack.", 0.0: ""},
    FieldName.PARTNER_CONTEXT: {
        1.0: {
            "partner_contact": {"name": "Partner lead"},
            "implementation_plan": "Partner runs the rollout in two waves.",
            "support_tier": "Partner first line, vendor second line.",
            "engagement_model": "Weekly partner sync.",
            "end_customer_contacts_shared": True,
        },
        0.5: {"partner_contact": {"name": "Partner lead"}},
        0.0: None,
    },
}


def document_for(statuses: dict[FieldName, float]) -> HandoffDocument:
    """A document judged field by field to `statuses` (a field not given is empty)."""
    return HandoffDocument.model_validate(_fields(statuses))


def patch_for(statuses: dict[FieldName, float]) -> DocumentPatch:
    """A patch that sets every scored field to its stand-in for `statuses` (a field not given: empty)."""
    return DocumentPatch.model_validate(_fields(statuses))


def _fields(statuses: dict[FieldName, float]) -> dict[str, Any]:
    return {name.value: TEXTS[name][statuses.get(name, 0.0)] for name in FieldName}
