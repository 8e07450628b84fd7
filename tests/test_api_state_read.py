"""`GET /v1/handoffs/{crm}/{deal_id}` answers the workflow's own JSON: the same state, field for field,
as the typed query gives, for a state with a long timeline and non-ASCII text, in the documented shape."""

from __future__ import annotations

import pytest

from domain.state import HandoffState
from tests.api_rig import auth, deal_number, running_api
from tests.conftest import assert_eventually
from tests.handoffs import READY_DOCUMENT
from tests.test_api_events import deal_event
from workflows.handoff import DealHandoffWorkflow

pytestmark = pytest.mark.temporal

ACCOUNT = "Zürcher Logística 東京 — Ünïcødé GmbH"
GOALS = "Halve onboarding time (40 → 20 days) within 6 months 🚀; Größe: 1 200 seats, 東京 office first."


async def test_the_state_read_is_the_workflows_state_in_the_documented_shape(rig_factory):
    async with rig_factory() as rig, running_api(rig) as api:
        deal_id = f"D-{deal_number()}"
        api.track(f"baton-acme-crm-{deal_id}")
        event = deal_event(deal_id, document=READY_DOCUMENT.model_dump(mode="json", exclude_none=True))
        event["deal"]["account"] = ACCOUNT
        assert (await api.http.post("/v1/events", json=event, headers=auth("crm"))).status_code == 202
        url = f"/v1/handoffs/acme-crm/{deal_id}"

        async def has_csm():
            answer = await api.http.get(url, headers=auth("cs_lead"))
            assert answer.status_code == 200 and answer.json()["owners"]["csm"]

        await assert_eventually(has_csm)
        # A timeline of some length: every document change scores it again and is recorded.
        for days in range(15, 45):
            patch = {"fields": {"goals": f"{GOALS} ({days} days)", "risks": "TBD" if days % 2 else None}}
            assert (await api.http.patch(url + "/document", json=patch, headers=auth("ae"))).status_code == 200

        answer = await api.http.get(url, headers=auth("ae"))
        state = await rig.client.get_workflow_handle(f"baton-acme-crm-{deal_id}").query(DealHandoffWorkflow.state)
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "application/json"
        assert answer.json() == state.model_dump(mode="json")
        assert len(state.timeline) > 30 and state.deal.account == ACCOUNT
        assert HandoffState.model_validate_json(answer.content) == state


async def test_the_state_read_keeps_its_documented_schema(rig_factory):
    async with rig_factory() as rig, running_api(rig) as api:
        schema = (await api.http.get("/openapi.json")).json()
        ok = schema["paths"]["/v1/handoffs/{crm}/{deal_id}"]["get"]["responses"]["200"]
        assert ok["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/HandoffState"}
