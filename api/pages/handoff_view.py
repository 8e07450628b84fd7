"""What the handoff page shows, worked out from the state (no I/O): labels, per-field status and the
deadline timeline in the order a person reads them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from api.pages.access import HandoffAccess, display_name, team_of
from api.pages.viewer import Viewer
from domain.document import ContactRole, FieldName, HandoffDocument
from domain.onboarding_policy import Milestone
from domain.state import Deadline, HandoffState, Phase

LABELS = {
    FieldName.GOALS: ("Customer goals", "What the customer will measure success by, with a number and a timeframe."),
    FieldName.STAKEHOLDERS: ("Stakeholders", "At least three people with name, title, role and notes."),
    FieldName.SUCCESS_CRITERIA: ("Success criteria", "A metric with a target value or a timeframe."),
    FieldName.RISKS: ("Risks", 'A concrete concern raised in the sale ("none" only with a reason).'),
    FieldName.SCOPE: ("Scope", "Exact products, tiers, modules or seat counts."),
    FieldName.SALES_CONVERSATIONS: ("Sales conversations", "Commitments made, objections handled, concessions given."),
    FieldName.CONTRACT_TERMS: ("Contract terms", "Term length, and the renewal date or billing schedule."),
    FieldName.COMMUNICATION_PREFERENCES: ("Communication preferences", "A channel, and a cadence or availability."),
    FieldName.PARTNER_CONTEXT: (
        "Partner context",
        "Partner-mediated deals: the partner's contact, plan, support tier, engagement model, contact sharing.",
    ),
}
PHASES = [phase for phase in Phase if phase is not Phase.CLOSED]
MILESTONES = list(Milestone)


@dataclass(frozen=True)
class FieldView:
    name: str
    label: str
    hint: str
    weight: int | None
    status: float | None
    reason: str
    overridden: bool


def field_views(state: HandoffState) -> list[FieldView]:
    views = []
    scored = state.quality.fields if state.quality else {}
    for name in FieldName:
        label, hint = LABELS[name]
        score = scored.get(name)
        views.append(
            FieldView(
                name=name.value,
                label=label,
                hint=hint,
                weight=score.weight if score else None,
                status=score.status if score else None,
                reason=score.reason if score else "not scored for this deal",
                overridden=score.overridden if score else False,
            )
        )
    return views


def deadline_rows(state: HandoffState) -> list[dict[str, Any]]:
    escalated = {(e.sla, e.to): e for e in state.escalations}
    rows = []
    for deadline in sorted(state.deadlines.values(), key=lambda d: d.due):
        steps = [
            {
                "to": step.to.value.replace("_", " "),
                "at": step.at,
                "fired": step.fired,
                "person": escalated[(deadline.sla, step.to)].person if (deadline.sla, step.to) in escalated else "",
            }
            for step in deadline.escalations
        ]
        rows.append({"deadline": deadline, "name": deadline.sla.value.replace("_", " "), "steps": steps})
    return rows


def contact_rows(document: HandoffDocument) -> list[dict[str, str]]:
    """The stakeholders as form rows, with room for two more (and never fewer than three rows)."""
    rows = [
        {
            "name": c.name,
            "title": c.title,
            "role": c.role.value if c.role else "",
            "email": c.email,
            "notes": c.notes,
        }
        for c in document.stakeholders
    ]
    blanks = max(3 - len(rows), 0) + 2
    return rows + [dict.fromkeys(("name", "title", "role", "email", "notes"), "") for _ in range(blanks)]


def page_context(
    viewer: Viewer,
    state: HandoffState,
    access: HandoffAccess,
    *,
    done: str = "",
    errors: dict[str, str] | None = None,
    draft: HandoffDocument | None = None,
    customer_link: tuple[str, datetime] | None = None,
) -> dict[str, Any]:
    directory, crm = viewer.directory, state.deal.crm
    document = draft or state.document
    team = team_of(directory, state)
    seats = [
        (seat.person, display_name(directory, seat.person), t.name)
        for t in directory.cs_teams
        if viewer.person.id in (t.lead, t.manager)
        for seat in t.csms
    ]
    open_deadlines: list[Deadline] = [d for d in state.deadlines.values() if d.open]
    return {
        "state": state,
        "deal": state.deal,
        "access": access,
        "fields": field_views(state),
        "document": document,
        "contacts": contact_rows(document),
        "contact_roles": [role.value for role in ContactRole],
        "conversations": {
            "commitments": "\n".join(document.sales_conversations.commitments),
            "objections": "\n".join(document.sales_conversations.objections),
            "concessions": "\n".join(document.sales_conversations.concessions),
        },
        "names": {
            "ae": display_name(directory, state.owners.ae, crm),
            "csm": display_name(directory, state.owners.csm, crm),
            "recovery_owner": display_name(directory, state.owners.recovery_owner, crm),
            "sales_manager": display_name(directory, state.owners.sales_manager, crm),
            "team": team.name if team else state.owners.cs_team,
        },
        "deadlines": deadline_rows(state),
        "open_deadlines": sorted(open_deadlines, key=lambda d: d.due),
        "overrides": state.intake.overrides if state.intake else {},
        "seats": seats,
        "milestones": MILESTONES,
        "phases": PHASES,
        "done": done,
        "errors": errors or {},
        "customer_link": customer_link,
        "field_names": [name.value for name in FieldName],
        "children": state.children,
    }
