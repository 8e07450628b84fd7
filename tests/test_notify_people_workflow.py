"""End to end on the time-skipping server: a handoff whose deal names its owner by CRM id, a directory that
knows that owner, and a Slack webhook stub. The AE is pinged by mention when the deal is won, and the
sales manager (in another time zone) when the intro is overdue, with its due time in their zone."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from activities.notify_sinks import SlackSink
from activities.notify_text import local_time
from activities.recipients import RecipientActivities
from domain.notifications import Notification
from tests.conftest import assert_eventually
from tests.handoffs import deal, start_handoff

pytestmark = pytest.mark.temporal

PUBLIC = "https://baton.example.com"
DIRECTORY = """
people:
  - {id: maria, name: María José Núñez, email: maria@example.com, slack_id: U01MARIA, timezone: America/New_York,
     crm_owner_ids: {hubspot: ["61234567"]}, manager: dan}
  - {id: dan, name: Dan Kim, email: dan@example.com, slack_id: U01DANKI, timezone: Europe/Berlin}
  - {id: rita, name: Rita Osei, email: rita@example.com}
revops: rita
"""


async def test_slack_mentions_the_ae_and_the_sales_manager_through_the_workflow(rig_factory, tmp_path, slack):
    directory = tmp_path / "directory.yaml"
    directory.write_text(DIRECTORY)
    sinks = [SlackSink(slack.url, PUBLIC)]
    async with rig_factory(sinks=sinks, recipients=RecipientActivities(directory)) as rig:
        # Shaped like a HubSpot deal: an owner id, no manager addresses.
        the_deal = deal(closed_at=await rig.env.get_current_time(), ae="61234567", sales_manager="", vp_sales="")
        await start_handoff(rig, the_deal)
        link = f"<{PUBLIC}/h/hubspot/{the_deal.deal_id}|Open the handoff>"

        def slack_texts(needle: str) -> list[str]:
            found = [r.json()["text"] for r in slack.requests if needle in r.json()["text"]]
            assert found, [r.json()["text"] for r in slack.requests]
            return found

        [assigned] = await assert_eventually(lambda: slack_texts("Complete the handoff document"))
        assert "<@U01MARIA>" in assigned and link in assigned and "María" not in assigned
        [told] = [n for n in rig.sink.sent if n.event == "document_assigned"]
        assert told.to == ["maria"] and told.zone == "America/New_York"

        await rig.env.sleep(timedelta(days=6))

        def escalation() -> Notification:
            found = [n for n in rig.sink.sent if n.event == "escalated" and "dan" in n.to]
            assert found, [(n.event, n.to) for n in rig.sink.sent]
            return found[0]

        notice = await assert_eventually(escalation)
        assert notice.details["sla"] == "intro_scheduled"
        berlin = local_time(datetime.fromisoformat(notice.details["due"]), ZoneInfo("Europe/Berlin"))
        assert berlin.endswith("(Europe/Berlin)")
        line = f"• <@U01DANKI>: intro scheduled due by {berlin}"
        [escalated] = await assert_eventually(lambda: slack_texts(line))
        assert escalated.startswith("*Escalation: intro scheduled for Acme Corp*") and link in escalated
