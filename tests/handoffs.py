"""Builders for handoff tests: deals, documents and a started workflow."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from temporalio.client import WorkflowHandle

from domain.deal import Deal
from domain.document import Contact, ContactRole, HandoffDocument, SalesConversations
from domain.ids import handoff_workflow_id
from domain.policy import Policy
from workflows.handoff import DealHandoffWorkflow, HandoffInput

READY_DOCUMENT = HandoffDocument(
    goals="Reduce cost per lead from $180 to $120 within 6 months by automating lead scoring.",
    stakeholders=[
        Contact(
            name="Priya Raman",
            title="VP Marketing",
            role=ContactRole.EXECUTIVE_SPONSOR,
            notes="Owns the budget; monthly ROI readout.",
        ),
        Contact(
            name="Dana Lee",
            title="Marketing Ops Director",
            role=ContactRole.CHAMPION,
            notes="Day-to-day owner; wary after the last vendor.",
        ),
        Contact(
            name="Sam Okafor", title="IT Manager", role=ContactRole.IT, notes="Signs off SSO and the Salesforce sync."
        ),
    ],
    success_criteria="Cost per lead under $120 and 30% of leads scored automatically by Q3.",
    risks="The champion's team resisted the last rollout; IT capacity is thin until April.",
    scope="Marketing Hub Enterprise with 25 seats and the Salesforce connector.",
    sales_conversations=SalesConversations(
        commitments=["Salesforce sync live before the June campaign launch"],
        objections=["Migration effort from the old tool"],
    ),
    contract_terms="24 months, billed annually upfront, renews 2028-03-06.",
    communication_preferences="Slack for day-to-day, a weekly call on Tuesdays.",
)

GAPS_DOCUMENT = READY_DOCUMENT.model_copy(
    update={"risks": "", "communication_preferences": "", "success_criteria": "A better funnel overall."}
)


def deal(closed_at: datetime | None = None, **fields) -> Deal:
    values = dict(
        crm="hubspot",
        deal_id=uuid.uuid4().hex[:10],
        account="Acme Corp",
        acv=50_000,
        ae="ae@example.com",
        sales_manager="sm@example.com",
        vp_sales="vp@example.com",
        created_at=(closed_at or datetime.now(UTC)) - timedelta(days=60),
        closed_at=closed_at,
    )
    values.update(fields)
    return Deal(**values)


async def start_handoff(
    rig,
    deal: Deal,
    policy: Policy | None = None,
    document: HandoffDocument | None = None,
    won: bool = True,
    task_timeout: timedelta | None = None,
) -> WorkflowHandle:
    """`task_timeout`: shorter for a test that holds a local activity, whose workflow task the worker
    keeps open (a query or a signal meanwhile waits for its heartbeat, at 80% of this)."""
    workflow_id = handoff_workflow_id(deal.crm, deal.deal_id)
    rig.started.append(workflow_id)
    return await rig.client.start_workflow(
        DealHandoffWorkflow.run,
        HandoffInput(deal=deal, policy=policy or Policy(), document=document, won=won),
        id=workflow_id,
        task_queue=rig.task_queue,
        task_timeout=task_timeout,
    )
