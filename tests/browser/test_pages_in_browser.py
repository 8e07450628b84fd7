"""The pages in Debian's Chromium: each person's main task end to end, keyboard-only use, axe-core on
every page (no critical or serious finding), nothing fetched off the machine, and a screenshot of each
page for the README."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.approach_kinds import Approach
from domain.ids import handoff_workflow_id
from domain.roles import SlaName
from domain.scoring import Tier
from domain.state import DeadlineStatus
from store import repository
from store.engine import make_engine, session_scope
from tests.browser.conftest import Stack
from tests.browser.people import axe_violations, open_browser, screenshot, signed_in
from tests.conftest import assert_eventually
from tests.handoffs import GAPS_DOCUMENT, READY_DOCUMENT
from tests.pages_rig import directory_policy, maria_deal
from tests.test_reports import handoff
from workflows.handoff import DealHandoffWorkflow, HandoffInput

pytestmark = pytest.mark.browser


async def new_handoff(stack: Stack, document=GAPS_DOCUMENT, **deal_fields):
    deal = maria_deal(account=deal_fields.pop("account", "Globex Logistics"), **deal_fields)
    handle = await stack.client.start_workflow(
        DealHandoffWorkflow.run,
        HandoffInput(deal=deal, policy=directory_policy(), document=document, won=True),
        id=handoff_workflow_id(deal.crm, deal.deal_id),
        task_queue=stack.task_queue,
    )

    async def assigned():
        state = await handle.query(DealHandoffWorkflow.state)
        assert state.owners.csm and state.quality is not None
        return state

    return f"{stack.url}/h/{deal.crm}/{deal.deal_id}", handle, await assert_eventually(assigned)


async def tab_to(page, element_id: str, limit: int = 200) -> None:
    """Keyboard only: Tab until the field has the focus."""
    for _ in range(limit):
        if await page.evaluate("() => document.activeElement && document.activeElement.id") == element_id:
            return
        await page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached #{element_id}")


async def test_the_ae_takes_the_document_from_gaps_to_ready_with_the_keyboard_alone(browser, stack):
    url, handle, _ = await new_handoff(stack)
    maria = await signed_in(browser, stack, "maria")
    page = maria.page
    await page.goto(url)
    tier = page.locator("[data-tier]")
    assert await tier.inner_text() == "gaps"
    assert await axe_violations(page) == []
    await screenshot(page, "handoff-page")
    for field_id, text in (
        ("success_criteria", READY_DOCUMENT.success_criteria),
        ("risks", READY_DOCUMENT.risks),
        ("communication_preferences", READY_DOCUMENT.communication_preferences),
    ):
        await tab_to(page, field_id)
        await page.keyboard.press("Control+A")
        await page.keyboard.type(text)
    # The preview recomputes as the AE types, before anything is saved.
    await assert_eventually(lambda: _text_is(tier, "ready"), timeout=10)
    assert (await handle.query(DealHandoffWorkflow.state)).quality.tier is Tier.GAPS
    save = page.get_by_role("button", name="Save", exact=True)
    await save.focus()
    await page.keyboard.press("Enter")
    await page.get_by_text("Saved. The score below is the handoff's own.").wait_for()
    assert await tier.inner_text() == "ready"
    assert (await handle.query(DealHandoffWorkflow.state)).quality.tier is Tier.READY
    maria.assert_clean()
    await maria.close()


async def _text_is(locator, expected: str) -> None:
    assert await locator.inner_text() == expected


async def test_the_csm_records_an_intake_review_and_a_refused_step_shows_why(browser, stack):
    url, handle, state = await new_handoff(stack, document=READY_DOCUMENT, account="Initech")
    csm = await signed_in(browser, stack, state.owners.csm)
    page = csm.page
    await page.goto(url)
    kickoff = page.locator("#kickoff")
    await kickoff.get_by_label("Success plan milestones").fill("SSO live\nFirst campaign sent")
    await kickoff.get_by_role("button", name="Record the kickoff").click()
    await page.locator("#kickoff-error").wait_for()
    assert "intake review comes before" in await page.locator("#kickoff-error").inner_text()
    review = page.locator("#intake-review")
    await review.get_by_label("4").check()
    await review.get_by_label("Risks").select_option("0.5")
    await review.get_by_label("Comments for the AE").fill("Name the two people who resisted the last rollout.")
    await review.get_by_role("button", name="Record the review").click()
    await page.get_by_text("Intake review recorded.").wait_for()
    after = await handle.query(DealHandoffWorkflow.state)
    assert after.intake.rating == 4 and after.intake.overrides == {"risks": 0.5}
    assert await page.get_by_text("(CSM override)").count() == 1
    assert await axe_violations(page) == []
    await screenshot(page, "handoff-page-csm")
    csm.assert_clean()
    await csm.close()


async def test_the_cs_lead_reassigns_and_extends(browser, stack):
    url, handle, state = await new_handoff(stack, document=READY_DOCUMENT, account="Umbrella Health")
    lena = await signed_in(browser, stack, "lena")
    page = lena.page
    await page.goto(url)
    other = "tom" if state.owners.csm == "priya" else "priya"
    await page.get_by_label("CSM", exact=True).select_option(other)
    await page.get_by_role("button", name="Assign").click()
    await page.get_by_text("CSM assigned.").wait_for()
    sla = min((d for d in state.deadlines.values() if d.open), key=lambda d: d.due).sla.value
    form = page.locator(f"form[action$='/deadlines/{sla}']")
    await form.get_by_label("Extend by").fill("2bd")
    await form.get_by_label("Reason").fill("Customer offsite until Thursday")
    await form.get_by_role("button", name="Extend").click()
    await page.get_by_text("Deadline extended.").wait_for()
    after = await handle.query(DealHandoffWorkflow.state)
    assert after.owners.csm == other and after.deadlines[sla].extensions[-1].by == "lena"
    assert await page.get_by_text("Customer offsite until Thursday").count() == 1
    assert await axe_violations(page) == []
    lena.assert_clean()
    await lena.close()


def seed_at_risk(stack: Stack, now: datetime) -> list[str]:
    """Four enterprise handoffs at risk in four ways, written as the workflows write the read model."""
    H, D = timedelta(hours=1), timedelta(days=1)
    run = now.strftime("%H%M%S%f")
    states = [
        handoff(f"gaps-{run}", now - 2 * D, team="enterprise", approach=Approach.WHITE_GLOVE, account="Gaps Only Ltd",
                quality=(70, Tier.GAPS, 80, 50)),
        handoff(f"soon-{run}", now - 2 * D, team="enterprise", approach=Approach.WHITE_GLOVE, account="Due Soon GmbH",
                quality=(90, Tier.READY, 100, 100), slas={SlaName.INTRO_SCHEDULED: (DeadlineStatus.PENDING, now + 5 * H)}),
        handoff(f"breach-{run}", now - 9 * D, team="enterprise", approach=Approach.WHITE_GLOVE, account="Breached Inc",
                quality=(88, Tier.READY, 100, 90), slas={SlaName.CSM_BRIEFED: (DeadlineStatus.BREACHED, now - 3 * D)},
                intro=2 * D, kickoff=6 * D),
        handoff(f"blocked-{run}", now - D, team="enterprise", approach=Approach.WHITE_GLOVE, account="Blocked SA",
                quality=(40, Tier.BLOCKED, 50, 0), intro=4 * D, kickoff=12 * D),
    ]  # fmt: skip
    engine = make_engine(stack.store_url)
    with session_scope(engine) as session:
        for state in states:
            repository.record_state(session, state)
    engine.dispose()
    return ["Breached Inc", "Due Soon GmbH", "Blocked SA", "Gaps Only Ltd"]


async def test_the_queue_orders_by_urgency_and_the_scorecard_draws_its_charts(browser, stack):
    expected = seed_at_risk(stack, datetime.now(UTC))
    lena = await signed_in(browser, stack, "lena", then="/queue")
    page = lena.page
    await page.get_by_label("Team").select_option("enterprise")
    await page.get_by_role("button", name="Filter").click()
    await page.wait_for_url("**/queue?team=enterprise*")
    accounts = await page.locator("table.queue tbody tr td:first-child a").all_inner_texts()
    assert [a for a in accounts if a in expected] == expected
    assert await axe_violations(page) == []
    await screenshot(page, "queue")
    await page.goto(f"{stack.url}/scorecard?by=cs_team")
    charts = page.locator("figure.chart svg")
    assert await charts.count() == 4
    assert await page.locator("figure.chart svg rect").count() > 20
    assert await axe_violations(page) == []
    await screenshot(page, "scorecard")
    lena.assert_clean()
    await lena.close()


async def test_a_customer_link_shows_no_internal_field_and_stops_when_expired(browser, stack):
    url, _, state = await new_handoff(stack, document=READY_DOCUMENT, account="Stark Industries")
    csm = await signed_in(browser, stack, state.owners.csm)
    await csm.page.goto(url)
    await csm.page.get_by_role("button", name="Make a customer link").click()
    link = await csm.page.get_by_label("Customer link").input_value()
    await csm.close()
    customer = await open_browser(browser)
    page = customer.page
    await page.goto(link)
    text = await page.locator("main").inner_text()
    assert "Stark Industries" in text
    for internal in (
        READY_DOCUMENT.risks,
        READY_DOCUMENT.goals,
        "Dana Lee",
        "tier",
        "score",
        "Maria Lopez",
        "breached",
    ):
        assert internal.lower() not in text.lower(), internal
    assert await axe_violations(page) == []
    await screenshot(page, "customer-page")
    real_clock = stack.app.state.page_clock
    stack.app.state.page_clock = lambda: datetime.now(UTC) + timedelta(days=31)
    try:
        answer = await page.goto(link)
        assert answer.status == 410 and "expired" in (await page.locator("main").inner_text()).lower()
    finally:
        stack.app.state.page_clock = real_clock
    customer.assert_clean()
    await customer.close()


async def test_sign_in_and_the_docs_render_with_no_network(browser, stack):
    visitor = await open_browser(browser)
    page = visitor.page
    await page.goto(f"{stack.url}/signin")
    assert await axe_violations(page) == []
    await screenshot(page, "sign-in")
    await page.goto(f"{stack.url}/docs")
    await page.locator(".swagger-ui .info .title").wait_for()
    assert "Baton" in await page.locator(".swagger-ui .info .title").inner_text()
    assert await page.locator(".opblock").count() > 10
    await screenshot(page, "docs")
    await page.goto(f"{stack.url}/redoc")
    await page.locator("h1").first.wait_for()
    assert "Baton" in await page.locator("h1").first.inner_text()
    # ReDoc's footer asks for its maker's logo from a CDN; the CSP refuses it before any request leaves
    # (the image then hides itself). Nothing else may be refused.
    visitor.console_errors = [e for e in visitor.console_errors if "cdn.redoc.ly/redoc/logo-mini.svg" not in e]
    visitor.assert_clean()
    await visitor.close()
