"""The handoff page on a real worker: who sees it, who may act, every form as the API's update, and a
refused step shown with the workflow's own reason."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from temporalio.api.enums.v1 import EventType

from tests.conftest import assert_eventually
from tests.handoffs import GAPS_DOCUMENT, READY_DOCUMENT, start_handoff
from tests.pages_rig import Pages, csrf_of, directory_policy, maria_deal, running_pages
from workflows.handoff import DealHandoffWorkflow

pytestmark = pytest.mark.temporal


async def started(pages: Pages, document=GAPS_DOCUMENT, **deal_fields):
    the_deal = maria_deal(**deal_fields)
    handle = await start_handoff(pages.rig, the_deal, policy=directory_policy(), document=document)

    async def assigned():
        state = await handle.query(DealHandoffWorkflow.state)
        assert state.owners.csm in ("priya", "tom") and state.quality is not None
        return state

    state = await assert_eventually(assigned)
    return f"/h/{the_deal.crm}/{the_deal.deal_id}", handle, state


async def updates_in_history(handle) -> int:
    history = await handle.fetch_history()
    return sum(1 for e in history.events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED)


def document_form(page_html: str, **fields) -> dict[str, str]:
    values = {
        "csrf": csrf_of(page_html),
        "goals": READY_DOCUMENT.goals,
        "success_criteria": READY_DOCUMENT.success_criteria,
        "risks": READY_DOCUMENT.risks,
        "scope": READY_DOCUMENT.scope,
        "contract_terms": READY_DOCUMENT.contract_terms,
        "communication_preferences": READY_DOCUMENT.communication_preferences,
        "commitments": "\n".join(READY_DOCUMENT.sales_conversations.commitments),
        "objections": "\n".join(READY_DOCUMENT.sales_conversations.objections),
        "intent": "save",
    }
    for index, contact in enumerate(READY_DOCUMENT.stakeholders):
        values.update(
            {
                f"stakeholders-{index}-name": contact.name,
                f"stakeholders-{index}-title": contact.title,
                f"stakeholders-{index}-role": contact.role.value if contact.role else "",
                f"stakeholders-{index}-notes": contact.notes,
            }
        )
    values.update(fields)
    return values


async def test_the_ae_fills_the_document_from_gaps_to_ready(rig_factory):
    async with rig_factory() as rig, running_pages(rig) as pages:
        url, handle, state = await started(pages)
        assert state.quality.tier.value == "gaps"
        maria = await pages.signed_in("maria")
        page = await maria.get(url)
        assert page.status_code == 200
        assert "data-tier>gaps<" in page.text and 'id="document-form"' in page.text
        saved = await maria.post(url + "/document", data=document_form(page.text))
        assert saved.status_code == 303 and saved.headers["location"].endswith("?done=document#document")
        after = await handle.query(DealHandoffWorkflow.state)
        assert after.quality.tier.value == "ready" and after.document.risks == READY_DOCUMENT.risks
        assert any(e.details.get("by") == "maria" for e in after.timeline if e.kind.value == "message")
        page = await maria.get(url)
        assert "data-tier>ready<" in page.text


async def test_a_refused_step_shows_the_workflows_reason(rig_factory):
    async with rig_factory() as rig, running_pages(rig) as pages:
        url, handle, state = await started(pages, document=READY_DOCUMENT)
        csm = await pages.signed_in(state.owners.csm)
        page = await csm.get(url)
        refused = await csm.post(url + "/kickoff", data={"csrf": csrf_of(page.text), "success_plan": "SSO live"})
        assert refused.status_code == 409
        assert 'id="kickoff-error"' in refused.text and "intake review comes before" in refused.text
        assert (await handle.query(DealHandoffWorkflow.state)).facts.kickoff_at is None


async def test_who_sees_and_who_acts(rig_factory):
    async with rig_factory() as rig, running_pages(rig) as pages:
        url, _, state = await started(pages)
        anonymous = pages.client()
        redirected = await anonymous.get(url)
        assert redirected.status_code == 303 and redirected.headers["location"].startswith("/signin?next=%2Fh%2F")
        sam = await pages.signed_in("sam")
        assert (await sam.get(url)).status_code == 403
        dan = await pages.signed_in("dan")
        read_only = await dan.get(url)
        assert read_only.status_code == 200 and '<form method="post" action="/h/' not in read_only.text
        refused = await dan.post(url + "/document", data=document_form(read_only.text))
        assert refused.status_code == 403
        lena = await pages.signed_in("lena")
        lead = await lena.get(url)
        assert 'action="' + url + '/csm"' in lead.text and 'id="document-form"' not in lead.text
        other_csm = "tom" if state.owners.csm == "priya" else "priya"
        assert (await (await pages.signed_in(other_csm)).get(url)).status_code == 403


async def test_a_form_without_its_csrf_token_changes_nothing(rig_factory):
    async with rig_factory() as rig, running_pages(rig) as pages:
        url, handle, _ = await started(pages)
        maria = await pages.signed_in("maria")
        page = await maria.get(url)
        forged = document_form(page.text, csrf="forged")
        assert (await maria.post(url + "/document", data=forged)).status_code == 403
        cross_site = await maria.post(
            url + "/document", data=document_form(page.text), headers={"Origin": "https://evil.example"}
        )
        assert cross_site.status_code == 403
        assert (await handle.query(DealHandoffWorkflow.state)).quality.tier.value == "gaps"


async def test_unknown_handoff_and_bad_ids_are_404_pages(rig_factory):
    async with rig_factory() as rig, running_pages(rig) as pages:
        maria = await pages.signed_in("maria")
        assert (await maria.get("/h/hubspot/404404")).status_code == 404
        bad = await maria.get("/h/salesforce/not-an-id")
        assert bad.status_code == 404 and "text/html" in bad.headers["content-type"]


async def test_the_csm_records_an_intake_review_with_an_override(rig_factory):
    async with rig_factory() as rig, running_pages(rig) as pages:
        url, handle, state = await started(pages, document=READY_DOCUMENT)
        csm = await pages.signed_in(state.owners.csm)
        page = await csm.get(url)
        form = {
            "csrf": csrf_of(page.text),
            "rating": "4",
            "override-risks": "0.5",
            "comments": "Risks need names.",
            "accept": "yes",
        }
        assert (await csm.post(url + "/intake-review", data={**form, "rating": "9"})).status_code == 422
        answer = await csm.post(url + "/intake-review", data=form)
        assert answer.status_code == 303, answer.text
        after = await handle.query(DealHandoffWorkflow.state)
        assert after.intake.rating == 4 and after.intake.reviewer == state.owners.csm
        assert after.quality.fields["risks"].overridden and after.quality.fields["risks"].status == 0.5
        shown = await csm.get(url)
        assert "(CSM override)" in shown.text and "Intake review recorded." not in shown.text


async def test_the_cs_lead_reassigns_and_extends(rig_factory):
    async with rig_factory() as rig, running_pages(rig) as pages:
        url, handle, state = await started(pages, document=READY_DOCUMENT)
        lena = await pages.signed_in("lena")
        page = await lena.get(url)
        other = "tom" if state.owners.csm == "priya" else "priya"
        assert (await lena.post(url + "/csm", data={"csrf": csrf_of(page.text), "csm": "sam"})).status_code == 422
        assert (await lena.post(url + "/csm", data={"csrf": csrf_of(page.text), "csm": other})).status_code == 303
        after = await handle.query(DealHandoffWorkflow.state)
        assert after.owners.csm == other and after.owners.cs_team == "mid-market"
        sla = min((d for d in after.deadlines.values() if d.open), key=lambda d: d.due).sla.value
        no_reason = await lena.post(url + f"/deadlines/{sla}", data={"csrf": csrf_of(page.text), "extend_by": "2bd"})
        assert no_reason.status_code == 422 and f'id="deadline-{sla}-error"' in no_reason.text
        extended = await lena.post(
            url + f"/deadlines/{sla}",
            data={"csrf": csrf_of(page.text), "extend_by": "2bd", "reason": "Customer offsite 🏝️"},
        )
        assert extended.status_code == 303
        deadline = (await handle.query(DealHandoffWorkflow.state)).deadlines[sla]
        assert deadline.extensions[-1].reason == "Customer offsite 🏝️" and deadline.extensions[-1].by == "lena"
        bad = await lena.post(
            url + "/deadlines/not_an_sla", data={"csrf": csrf_of(page.text), "extend_by": "1bd", "reason": "x"}
        )
        assert bad.status_code == 422


async def test_the_score_preview_is_pure_and_matches_the_saved_score(rig_factory):
    async with rig_factory() as rig, running_pages(rig) as pages:
        url, handle, _ = await started(pages)
        maria = await pages.signed_in("maria")
        page = await maria.get(url)
        form = document_form(page.text, preview_approach="structured", preview_cycle_hours=str(60 * 24))
        updates_before = await updates_in_history(handle)
        preview = await maria.post("/pages/score-preview", data=form)
        assert preview.status_code == 200 and preview.json()["tier"] == "ready"
        assert preview.json()["fields"]["risks"]["word"] == "specific"
        # Nothing reached the workflow: no update in its history, the saved tier unchanged.
        assert await updates_in_history(handle) == updates_before
        assert (await handle.query(DealHandoffWorkflow.state)).quality.tier.value == "gaps"
        await maria.post(url + "/document", data=document_form(page.text))
        assert (await handle.query(DealHandoffWorkflow.state)).quality.score == preview.json()["score"]
        bad = await maria.post("/pages/score-preview", data={**form, "stakeholders-0-role": "emperor"})
        assert bad.status_code == 422 and bad.json()["field"] == "stakeholders-0-role"
        assert (await pages.client().post("/pages/score-preview", data=form)).status_code == 303


async def test_the_customer_link_shows_one_handoff_and_nothing_internal(rig_factory):
    async with rig_factory() as rig, running_pages(rig) as pages:
        url, handle, state = await started(pages, document=READY_DOCUMENT)
        csm = await pages.signed_in(state.owners.csm)
        page = await csm.get(url)
        made = await csm.post(url + "/customer-link", data={"csrf": csrf_of(page.text)})
        link = re.search(r'id="customer-url" readonly value="([^"]+)"', made.text).group(1)
        customer = pages.client()
        shown = await customer.get(urlsplit(link).path)
        assert shown.status_code == 200 and "Acme Corp" in shown.text
        assert ("Priya Raman" if state.owners.csm == "priya" else "Tom Becker") in shown.text
        internal = [
            READY_DOCUMENT.risks,
            READY_DOCUMENT.goals,
            "Dana Lee",
            "tier",
            "score",
            str(state.quality.score),
            "Maria",
        ]
        for text in internal:
            assert text.lower() not in shown.text.lower(), text
        assert shown.headers["x-robots-tag"] == "noindex, nofollow"
        pages.app.state.page_clock = lambda: datetime.now(UTC) + timedelta(days=31)
        assert (await customer.get(urlsplit(link).path)).status_code == 410
        assert (await customer.get(urlsplit(link).path[:-3] + "abc")).status_code == 404
