"""The 30-day check's answers through the API before the check starts: kept by the handoff from
`post_check.opens_before` ahead of the due (7d for the policy the API runs with), 409 naming when it
opens before that, and judged by the check that starts at the due and concludes at once."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.api_rig import auth, deal_number, running_api
from tests.conftest import assert_eventually
from tests.handoffs import READY_DOCUMENT
from tests.test_api_events import deal_event

pytestmark = pytest.mark.temporal


async def test_an_answer_on_day_29_is_accepted_and_judged_at_the_due(rig_factory, env):
    async with rig_factory() as rig, running_api(rig) as api:
        deal_id = f"D-{deal_number()}"
        api.track(f"baton-acme-crm-{deal_id}")
        api.track(f"baton-acme-crm-{deal_id}-post-check")
        event = deal_event(deal_id, document=READY_DOCUMENT.model_dump(mode="json", exclude_none=True))
        event["deal"]["closed_at"] = (await env.get_current_time()).isoformat()
        assert (await api.http.post("/v1/events", json=event, headers=auth("crm"))).status_code == 202
        url = f"/v1/handoffs/acme-crm/{deal_id}"

        async def state() -> dict:
            answer = await api.http.get(url, headers=auth("cs_lead"))
            assert answer.status_code == 200, answer.text
            return answer.json()

        async def started():
            assert (await state())["phase"] == "intake_review"

        await assert_eventually(started)
        due = (await state())["deadlines"]["post_check"]["due"]
        answers = {"enough_context": True, "concerns": ["reports are slow"], "by": "csm-mm-1"}

        early = await api.http.post(url + "/post-check", json=answers, headers=auth("cs_lead"))
        assert early.status_code == 409 and "not running: it opens" in early.json()["detail"], early.text

        await env.sleep(timedelta(days=29))
        kept = await api.http.post(url + "/post-check", json=answers, headers=auth("cs_lead"))
        assert kept.status_code == 200, kept.text
        assert kept.json()["enough_context"] is True
        assert (await state())["post_check_answers"]["concerns"] == ["reports are slow"]
        again = await api.http.post(url + "/post-check", json=answers, headers=auth("cs_lead"))
        assert again.status_code == 409 and "already been answered" in again.json()["detail"]

        await env.sleep(timedelta(days=1, minutes=1))

        async def judged():
            timeline = (await state())["timeline"]
            [failed] = [e for e in timeline if e["kind"] == "check_failed" and e["details"]["sla"] == "post_check"]
            assert "concern raised: reports are slow" in failed["details"]["failures"]
            assert not any("did not answer" in text for text in failed["details"]["failures"])
            [start] = [e for e in timeline if e["kind"] == "child_started" and e["details"]["child"] == "post_check"]
            assert datetime.fromisoformat(start["at"]) >= datetime.fromisoformat(due)

        await assert_eventually(judged)
