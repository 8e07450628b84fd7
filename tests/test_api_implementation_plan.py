"""Professional services attached: the kickoff is refused with 409 naming `implementation_plan` until
the document's implementation plan is filled (an update validator; the API maps it to 4xx)."""

from __future__ import annotations

import pytest

from tests.api_rig import auth, deal_number, running_api
from tests.conftest import assert_eventually
from tests.handoffs import READY_DOCUMENT
from tests.test_api_events import deal_event

pytestmark = pytest.mark.temporal


async def test_the_kickoff_waits_for_the_implementation_plan(rig_factory):
    async with rig_factory() as rig, running_api(rig) as api:
        deal_id = f"D-{deal_number()}"
        api.track(f"baton-acme-crm-{deal_id}")
        event = deal_event(deal_id, document=READY_DOCUMENT.model_dump(mode="json", exclude_none=True))
        event["deal"]["professional_services"] = True
        answer = await api.http.post("/v1/events", json=event, headers=auth("crm"))
        assert answer.json()[0]["outcome"] == "started", answer.text
        url = f"/v1/handoffs/acme-crm/{deal_id}"

        async def post(path: str, body: dict, status: int, role: str = "cs_lead") -> dict:
            answer = await api.http.post(url + path, json=body, headers=auth(role))
            assert answer.status_code == status, answer.text
            return answer.json()

        async def in_intake_review():
            state = await api.http.get(url, headers=auth("cs_lead"))
            assert state.status_code == 200 and state.json()["phase"] == "intake_review"
            assert state.json()["owners"]["csm"] and state.json()["approach"]["requires_implementation_plan"]

        await assert_eventually(in_intake_review)
        await post("/intake-review", {"rating": 4}, 200)
        await post("/intro", {"action": "scheduled"}, 200, "ae")
        await post("/intro", {"action": "held"}, 200)

        refused = await post("/kickoff", {"success_plan": ["SSO live"]}, 409)
        assert refused["type"] == "InvalidTransition" and refused["detail"].startswith("implementation_plan: ")
        placeholder = {"fields": {"implementation_plan": "TBD"}}
        assert (await api.http.patch(url + "/document", json=placeholder, headers=auth("ae"))).status_code == 200
        await post("/kickoff", {}, 409)

        plan = {"fields": {"implementation_plan": "PS sets up SSO in week 1 and imports the routes in week 2."}}
        patched = await api.http.patch(url + "/document", json=plan, headers=auth("ae"))
        assert patched.status_code == 200 and patched.json()["document"]["implementation_plan"].startswith("PS sets")
        assert (await post("/kickoff", {"success_plan": ["SSO live"]}, 200))["phase"] == "onboarding"
