"""Handoff endpoints on a real worker: state, every message with its refusals, and who may send what."""

from __future__ import annotations

import pytest
from temporalio.client import WorkflowExecutionStatus

from tests.api_rig import Api, auth, deal_number, running_api
from tests.conftest import assert_eventually
from tests.handoffs import READY_DOCUMENT
from tests.test_api_events import deal_event

pytestmark = pytest.mark.temporal


async def started_handoff(api: Api) -> str:
    """A structured handoff whose ready document came with the won event; returns its URL."""
    deal_id = f"D-{deal_number()}"
    api.track(f"baton-acme-crm-{deal_id}")
    event = deal_event(deal_id, document=READY_DOCUMENT.model_dump(mode="json", exclude_none=True))
    answer = await api.http.post("/v1/events", json=event, headers=auth("crm"))
    assert answer.json()[0]["outcome"] == "started", answer.text
    url = f"/v1/handoffs/acme-crm/{deal_id}"

    async def in_intake_review():
        state = await api.http.get(url, headers=auth("cs_lead"))
        assert state.status_code == 200 and state.json()["phase"] == "intake_review" and state.json()["owners"]["csm"]

    await assert_eventually(in_intake_review)
    return url


async def test_messages_drive_a_handoff_and_refusals_are_409_or_422(rig_factory):
    async with rig_factory() as rig, running_api(rig) as api:
        url = await started_handoff(api)
        lead = auth("cs_lead")

        async def post(path: str, body: dict, status: int, role: str = "cs_lead") -> dict:
            answer = await api.http.post(url + path, json=body, headers=auth(role))
            assert answer.status_code == status, answer.text
            return answer.json()

        document = await api.http.patch(url + "/document", json={"fields": {"risks": "TBD"}}, headers=auth("ae"))
        assert document.status_code == 200
        quality = document.json()["quality"]
        assert quality["tier"] in ("ready", "gaps") and "reason" in quality["fields"]["risks"]
        assert quality["fields"]["risks"]["status"] == 0.5

        assert "intake review comes before" in (await post("/kickoff", {}, 409))["detail"]
        assert (await post("/intake-review", {"rating": 9}, 422))["detail"] == "rating must be 1 to 5 (got 9)"
        extra = await post("/intake-review", {"rating": 4, "stars": 5}, 422)
        assert extra["detail"][0]["loc"] == ["body", "stars"]
        assert (await post("/intake-review", {"rating": 4, "by": "csm"}, 200))["phase"] == "intro"
        assert (await post("/intake-review", {"rating": 4}, 409))["type"] == "InvalidTransition"

        assert (await post("/intro", {"action": "held"}, 409, "ae"))["detail"].startswith("the intro cannot be held")
        assert (await post("/intro", {"action": "scheduled"}, 200, "ae"))["facts"]["intro_scheduled_at"]
        assert (await post("/intro", {"action": "held"}, 200))["phase"] == "kickoff"
        assert (await post("/first-touch", {"channel": "email"}, 200))["facts"]["first_touch_at"]

        assert "not running" in (await post("/milestones", {"milestone": "setup_complete"}, 409))["detail"]
        assert "not running" in (await post("/post-check", {"enough_context": True}, 409))["detail"]

        assert (
            "cannot move"
            in (await post("/deadlines/intro_scheduled", {"extend_by": "1bd", "reason": "x"}, 409))["detail"]
        )
        assert (await post("/deadlines/kickoff", {"extend_by": "2bd"}, 422))["detail"].startswith("reason")
        assert (await post("/deadlines/not_an_sla", {"extend_by": "2bd", "reason": "x"}, 422))["detail"][0]["loc"] == [
            "path",
            "sla",
        ]
        extended = await post("/deadlines/kickoff", {"extend_by": "2bd", "reason": "Customer offsite"}, 200, "operator")
        assert extended["deadlines"]["kickoff"]["extensions"][0]["reason"] == "Customer offsite"

        assert (await post("/kickoff", {"success_plan": ["SSO live"]}, 200))["phase"] == "onboarding"

        async def onboarding_started():
            # The kickoff's answer comes before the workflow has started its onboarding child; a
            # milestone is only valid once the child runs (before that, 409 is the right answer).
            timeline = (await api.http.get(url, headers=lead)).json()["timeline"]
            assert any(e["kind"] == "child_started" and e["details"]["child"] == "onboarding" for e in timeline)

        await assert_eventually(onboarding_started)
        summary = await post("/milestones", {"milestone": "setup_complete", "sentiment": "positive"}, 200)
        assert "setup_complete" in summary["reached"]
        assert "already reached" in (await post("/milestones", {"milestone": "setup_complete"}, 409))["detail"]

        assert (await post("/ae-departure", {}, 200, "ae"))["facts"]["ae_departed_at"]
        assert "name the recovery owner" in (await post("/ae-departure", {}, 409, "operator"))["detail"]
        owned = await post("/ae-departure", {"recovery_owner": "dan@example.com"}, 200, "operator")
        assert owned["owners"]["recovery_owner"] == "dan@example.com"
        assert (await post("/csm", {"csm": "csm-mm-2", "team": "mid-market"}, 200, "operator"))["owners"][
            "csm"
        ] == "csm-mm-2"

        state = await api.http.get(url, headers=lead)
        assert state.json()["milestones"].get("setup_complete")


async def test_unknown_handoff_is_404_and_bad_ids_422(rig_factory):
    async with rig_factory() as rig, running_api(rig) as api:
        assert (await api.http.get("/v1/handoffs/hubspot/404404", headers=auth("ae"))).status_code == 404
        intro = await api.http.post(
            "/v1/handoffs/hubspot/404404/intro", json={"action": "scheduled"}, headers=auth("ae")
        )
        assert intro.status_code == 404
        milestone = await api.http.post(
            "/v1/handoffs/hubspot/404404/milestones", json={"milestone": "setup_complete"}, headers=auth("cs_lead")
        )
        assert milestone.status_code == 404
        bad = await api.http.get("/v1/handoffs/salesforce/not-an-id", headers=auth("ae"))
        assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["path", "deal_id"]
        bad = await api.http.get("/v1/handoffs/Hub%20Spot/1", headers=auth("ae"))
        assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["path", "crm"]


@pytest.mark.parametrize(
    ("method", "path", "body", "allowed", "refused"),
    [
        ("GET", "", None, ["ae", "cs_lead", "operator"], ["crm"]),
        ("PATCH", "/document", {"fields": {}}, ["ae", "cs_lead", "operator"], ["crm"]),
        ("POST", "/first-touch", {"channel": "phone"}, ["cs_lead"], ["ae", "operator", "crm"]),
        ("POST", "/csm", {"csm": "csm-mm-1"}, ["cs_lead", "operator"], ["ae"]),
        ("POST", "/intake-review", {"rating": 9}, ["cs_lead"], ["ae", "operator"]),
    ],
)
async def test_roles(rig_factory, method, path, body, allowed, refused):
    async with rig_factory() as rig, running_api(rig) as api:
        url = await started_handoff(api)
        assert (await api.http.request(method, url + path, json=body)).status_code == 401
        wrong_key = {"Authorization": "Bearer not-a-key"}
        assert (await api.http.request(method, url + path, json=body, headers=wrong_key)).status_code == 401
        for role in refused:
            assert (await api.http.request(method, url + path, json=body, headers=auth(role))).status_code == 403, role
        for role in allowed:
            answer = await api.http.request(method, url + path, json=body, headers=auth(role))
            # A role that may call it reaches the workflow: its answer, or its refusal of the values.
            assert answer.status_code in (200, 422), (role, answer.text)
            assert answer.status_code == 200 or answer.json()["type"] == "InvalidValue"


async def test_a_message_to_a_handoff_that_has_ended_is_409_and_changes_nothing(rig_factory):
    async with rig_factory() as rig, running_api(rig) as api:
        url = await started_handoff(api)
        deal_id = url.rsplit("/", 1)[1]
        lost = await api.http.post("/v1/events", json=deal_event(deal_id, stage="closed_lost"), headers=auth("crm"))
        assert lost.status_code == 202 and lost.json()[0]["outcome"] == "ended", lost.text
        handle = rig.client.get_workflow_handle(f"baton-acme-crm-{deal_id}")

        async def completed():
            assert (await handle.describe()).status is WorkflowExecutionStatus.COMPLETED

        await assert_eventually(completed)
        before = (await api.http.get(url, headers=auth("cs_lead"))).json()
        assert (before["phase"], before["outcome"]) == ("closed", "lost")
        messages = [
            ("PATCH", "/document", {"fields": {"risks": "Budget freeze until Q3"}, "submit": True}, "ae"),
            ("POST", "/csm", {"csm": "csm-mm-2"}, "cs_lead"),
            ("POST", "/intake-review", {"rating": 4}, "cs_lead"),
            ("POST", "/intro", {"action": "scheduled"}, "ae"),
            ("POST", "/first-touch", {"channel": "email"}, "cs_lead"),
            ("POST", "/kickoff", {}, "cs_lead"),
            ("POST", "/deadlines/kickoff", {"extend_by": "2bd", "reason": "customer offsite"}, "operator"),
            ("POST", "/ae-departure", {"recovery_owner": "dan@example.com"}, "ae"),
        ]
        for method, path, body, role in messages:
            answer = await api.http.request(method, url + path, json=body, headers=auth(role))
            assert answer.status_code == 409, (path, answer.text)
            assert answer.json()["detail"] == "the handoff has ended", path
        after = (await api.http.get(url, headers=auth("cs_lead"))).json()
        assert after == before
