"""Notices that reach people: Slack mentions them and says when things are due in each one's zone, e-mail
writes to each address once, the log never holds an address. Against local stub servers (tests.notify_stubs)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.notify import NotifyActivities
from activities.notify_sinks import EmailSink, LogSink, SinkUnavailable, SlackSink, message_id
from activities.notify_text import log_safe
from domain.notifications import Notification
from domain.recipients import Audience, Recipient
from tests.notify_stubs import HttpStub, SmtpStub

SENDER = "baton@example.com"
PUBLIC = "https://baton.example.com"
LINK = f"{PUBLIC}/h/hubspot/42"

# Two people on one escalation: Maria in New York, Lena in Berlin; the intro was due 17:00 in New York
# on Tuesday 3 March 2026 (EST, UTC-5), which is 23:00 the same day in Berlin (CET, UTC+1).
MARIA = Recipient(
    id="maria",
    name="Maria López",
    email="maria.lopez@example.com",
    slack_id="U01MARIA",
    timezone="America/New_York",
    audience=[Audience.SALES_MANAGER],
)
LENA = Recipient(
    id="lena",
    name="Lena Fischer",
    email="lena.fischer@example.com",
    slack_id="U01LENAF",
    timezone="Europe/Berlin",
    audience=[Audience.CS_MANAGER],
)
# No Slack id, a name that tries to ping the channel, and no address: named, never mentioned, no e-mail.
PETE = Recipient(id="pete", name="Pete <!channel> & Søn", audience=[Audience.PROFESSIONAL_SERVICES])
DUE = "2026-03-03T22:00:00+00:00"


def notice(**changes) -> Notification:
    fields = {
        "key": "baton-hubspot-42:notice:3",
        "workflow_id": "baton-hubspot-42",
        "event": "escalated",
        "to": ["maria", "lena"],
        "subject": "Escalation: intro scheduled for Acme & Co",
        "text": "Acme & Co: intro scheduled needs you (the SLA was missed).",
        "details": {"sla": "intro_scheduled", "to": "sales_manager", "due": DUE},
        "recipients": [MARIA, LENA],
        "crm": "hubspot",
        "deal_id": "42",
        "zone": "America/New_York",
    }
    return Notification(**(fields | changes))


@pytest.fixture
async def build() -> AsyncIterator[Callable[..., NotifyActivities]]:
    built: list[NotifyActivities] = []

    def make(*sinks) -> NotifyActivities:
        acts = NotifyActivities(sinks)
        built.append(acts)
        return acts

    yield make
    for acts in built:
        await acts.aclose()


def email_sink(smtp: SmtpStub, by_role: dict[str, str] | None = None) -> EmailSink:
    return EmailSink("127.0.0.1", smtp.port, SENDER, by_role or {}, starttls=False, public_url=PUBLIC)


async def slack_text(build, slack: HttpStub, n: Notification) -> str:
    await ActivityEnvironment().run(build(SlackSink(slack.url, PUBLIC)).notify, n)
    text: str = slack.requests[-1].json()["text"]
    return text


# --- Slack ------------------------------------------------------------------------------


async def test_slack_mentions_each_person_with_the_due_time_in_their_own_zone(build, slack):
    text = await slack_text(build, slack, notice())

    assert text.splitlines() == [
        "*Escalation: intro scheduled for Acme &amp; Co*",
        "Acme &amp; Co: intro scheduled needs you (the SLA was missed).",
        "• <@U01MARIA>: intro scheduled due by Tue 3 Mar 2026, 17:00 EST (America/New_York)",
        "• <@U01LENAF>: intro scheduled due by Tue 3 Mar 2026, 23:00 CET (Europe/Berlin)",
        f"<{LINK}|Open the handoff>",
    ]


async def test_slack_names_people_without_a_slack_id_and_escapes_every_name(build, slack):
    odd = Recipient(id="jo", name="Jo <@U999> Ærø", slack_id="not-an-id")
    text = await slack_text(build, slack, notice(recipients=[PETE, odd, MARIA], details={}))

    assert "For Pete &lt;!channel&gt; &amp; Søn, Jo &lt;@U999&gt; Ærø, <@U01MARIA>" in text
    # The only markup in the message is what Baton built: one mention and the link.
    assert text.count("<") == 2 and "<!channel>" not in text and "<@U999>" not in text


async def test_slack_uses_the_notice_zone_for_people_without_one_and_says_who_covers(build, slack):
    covering = Recipient(id="priya", name="Priya Raman", slack_id="U01PRIYA", covering_for="tom")
    text = await slack_text(build, slack, notice(recipients=[covering], zone="America/Los_Angeles"))

    assert "• <@U01PRIYA> (covering for tom): intro scheduled due by Tue 3 Mar 2026, 14:00 PST" in text


async def test_slack_escapes_a_covering_id_and_a_due_without_an_sla(build, slack):
    odd = Recipient(id="x", name="X", covering_for="<!here>")
    text = await slack_text(build, slack, notice(recipients=[odd], details={"due": DUE}, zone=""))

    assert "• X (covering for &lt;!here&gt;): due by Tue 3 Mar 2026, 22:00 UTC" in text


@pytest.mark.parametrize("due", ["tomorrow", "2026-03-03T22:00:00", 17])
async def test_slack_leaves_out_a_due_time_it_cannot_place(build, slack, due):
    # Not an instant, or one without an offset (whose zone would be a guess): no time is better than a wrong one.
    text = await slack_text(build, slack, notice(details={"sla": "kickoff", "due": due}))

    assert "due by" not in text and "For <@U01MARIA>, <@U01LENAF>" in text


async def test_slack_for_an_old_run_keeps_role_names_as_text(build, slack):
    old = notice(to=["sales_manager"], recipients=[], details={"sla": "csm_briefed", "to": "sales_manager"}, zone="")
    text = await slack_text(build, slack, old)

    assert text.splitlines() == [
        "*Escalation: intro scheduled for Acme &amp; Co*",
        "Acme &amp; Co: intro scheduled needs you (the SLA was missed).",
        f"<{LINK}|Open the handoff>",
    ]


async def test_slack_link_is_left_out_without_a_deal_and_quotes_odd_deal_ids(build, slack):
    assert "Open the handoff" not in await slack_text(build, slack, notice(crm="", deal_id=""))

    text = await slack_text(build, slack, notice(crm="generic", deal_id="a|b>c&d"))
    assert f"<{PUBLIC}/h/generic/a%7Cb%3Ec%26d|Open the handoff>" in text


async def test_slack_retries_after_a_5xx_with_the_same_message(build, slack):
    slack.statuses = [503]
    acts = build(SlackSink(slack.url, PUBLIC))

    with pytest.raises(SinkUnavailable):
        await ActivityEnvironment().run(acts.notify, notice())
    delivery = await ActivityEnvironment().run(acts.notify, notice())

    failed, delivered = slack.requests
    assert delivery.sinks == ["slack"] and failed.body == delivered.body
    assert "<@U01MARIA>" in delivered.json()["text"]


# --- e-mail ---------------------------------------------------------------------------


async def test_email_goes_to_each_person_once_with_their_own_due_time_and_the_link(build, smtp):
    n = notice(recipients=[MARIA, LENA, PETE], to=["maria", "lena", "pete"])
    await ActivityEnvironment().run(build(email_sink(smtp)).notify, n)

    maria, lena = smtp.messages
    assert [m.rcpt_to for m in (maria, lena)] == [["maria.lopez@example.com"], ["lena.fischer@example.com"]]
    assert maria.message["To"] == "Maria López <maria.lopez@example.com>"
    assert maria.message["Subject"] == "Escalation: intro scheduled for Acme & Co"
    assert maria.message["Message-ID"] == message_id(n.key, SENDER, "maria")
    assert lena.message["Message-ID"] == message_id(n.key, SENDER, "lena") != maria.message["Message-ID"]
    assert maria.message.get_content().replace("\r\n", "\n") == (
        "Acme & Co: intro scheduled needs you (the SLA was missed).\n\n"
        "Intro scheduled due by Tue 3 Mar 2026, 17:00 EST (America/New_York).\n\n"
        f"Open the handoff: {LINK}\n"
    )
    assert "23:00 CET (Europe/Berlin)" in lena.message.get_content()


async def test_email_to_people_never_uses_the_deprecated_role_map(build, smtp, caplog):
    # Nobody here has an address: no e-mail at all, even though the map knows the sales manager's.
    n = notice(recipients=[PETE], to=["pete"], details={"to": "sales_manager"})
    with caplog.at_level(logging.INFO, logger="baton.notify"):
        delivery = await ActivityEnvironment().run(build(email_sink(smtp, {"sales_manager": "sm@x.com"})).notify, n)

    assert smtp.messages == [] and delivery.sinks == ["email"]
    assert "email skipped" in caplog.text and "pete" in caplog.text


async def test_email_retry_sends_again_under_the_same_message_ids(build, smtp):
    smtp.rcpt_code = 451  # greylisted: transient
    acts = build(email_sink(smtp))
    with pytest.raises(SinkUnavailable):
        await ActivityEnvironment().run(acts.notify, notice())
    assert smtp.messages == []

    smtp.rcpt_code = 250
    await ActivityEnvironment().run(acts.notify, notice())
    await ActivityEnvironment().run(acts.notify, notice())
    ids = [m.message["Message-ID"] for m in smtp.messages]
    assert len(ids) == 4 and ids[:2] == ids[2:]


async def test_email_one_address_refused_for_good_still_reaches_the_others(build, smtp, caplog):
    smtp.refuse = {"maria.lopez@example.com": 550}
    with caplog.at_level(logging.WARNING, logger="baton.notify"):
        delivery = await ActivityEnvironment().run(build(email_sink(smtp)).notify, notice())

    assert [m.rcpt_to for m in smtp.messages] == [["lena.fischer@example.com"]]
    assert delivery.sinks == ["email"]
    assert "partly refused recipients=maria" in caplog.text and "maria.lopez@" not in caplog.text


async def test_email_every_address_refused_for_good_is_not_retried(build, smtp):
    smtp.rcpt_code = 550
    with pytest.raises(ApplicationError) as raised:
        await ActivityEnvironment().run(build(email_sink(smtp)).notify, notice())
    assert raised.value.non_retryable


async def test_email_header_survives_crm_text_with_line_breaks(build, smtp):
    n = notice(subject="Escalation for Acme\r\nBcc: victim@example.org", recipients=[MARIA], to=["maria"])
    await ActivityEnvironment().run(build(email_sink(smtp)).notify, n)

    [sent] = smtp.messages
    assert sent.message["Subject"] == "Escalation for Acme Bcc: victim@example.org"
    assert sent.message["Bcc"] is None and sent.rcpt_to == ["maria.lopez@example.com"]


# --- the log ---------------------------------------------------------------------------


async def test_the_log_names_people_by_id_and_masks_addresses(build, caplog):
    customer = Recipient(id="jane.roe@acme.example", email="jane.roe@acme.example")
    n = notice(recipients=[MARIA, customer], to=["maria", "jane.roe@acme.example"])
    with caplog.at_level(logging.INFO, logger="baton.notify"):
        await ActivityEnvironment().run(build(LogSink()).notify, n)

    [record] = [r for r in caplog.records if r.name == "baton.notify"]
    assert "recipients=maria,j…@acme.example" in record.getMessage()
    assert "jane.roe" not in str(vars(record)) and "maria.lopez" not in str(vars(record))


@pytest.mark.parametrize(
    ("who", "logged"),
    [
        ("maria", "maria"),
        ("sales_manager", "sales_manager"),
        ("jane.roe@acme.example", "j…@acme.example"),
        ("Ünal@exämple.de", "Ü…@exämple.de"),
        ("@odd.example", "…@odd.example"),
        ('"a@b"@quoted.example', '"…@quoted.example'),
    ],
)
def test_log_safe(who, logged):
    assert log_safe(who) == logged
