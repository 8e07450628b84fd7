import dataclasses
import hashlib
import hmac
import logging
import time
from collections.abc import AsyncIterator, Callable

import pytest
from temporalio import activity
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.notify import NotifyActivities
from activities.notify_sinks import (
    EmailSink,
    LogSink,
    SinkUnavailable,
    SlackSink,
    WebhookSink,
    message_id,
)
from domain.notifications import Notification
from tests.notify_stubs import HttpStub, SmtpStub
from tests.workers import RecordingSink

SECRET = "whsec-test-secret"
SENDER = "baton@example.com"
BODY = "Acme's champion Jane Roe (jane@acme.example) is leaving; renewal at risk."


def notification(**changes) -> Notification:
    fields = {
        "key": "baton-hubspot-42:escalation:csm_briefed:1",
        "workflow_id": "baton-hubspot-42",
        "event": "sla_breached",
        "to": ["sales_manager", "ae@example.com"],
        "subject": "CSM briefing overdue",
        "text": BODY,
        "details": {"sla": "csm_briefed"},
    }
    return Notification(**(fields | changes))


@pytest.fixture
async def build(slack, webhook) -> AsyncIterator[Callable[..., NotifyActivities]]:
    """Builds NotifyActivities and closes their HTTP clients before the stubs go away."""
    built: list[NotifyActivities] = []

    def make(*sinks) -> NotifyActivities:
        acts = NotifyActivities(sinks)
        built.append(acts)
        return acts

    yield make
    for acts in built:
        await acts.aclose()


def email_sink(smtp: SmtpStub) -> EmailSink:
    return EmailSink("127.0.0.1", smtp.port, SENDER, {"sales_manager": "sm@example.com"}, starttls=False)


def sink_for(kind: str, slack: HttpStub, webhook: HttpStub):
    return SlackSink(slack.url) if kind == "slack" else WebhookSink(webhook.url, SECRET)


# --- sinks ----------------------------------------------------------------------


async def test_log_sink_keeps_the_body_out_of_the_log(build, caplog):
    n = notification()
    with caplog.at_level(logging.INFO, logger="baton.notify"):
        delivery = await ActivityEnvironment().run(build(LogSink()).notify, n)

    assert delivery.sinks == ["log"] and delivery.key == n.key
    [record] = [r for r in caplog.records if r.name == "baton.notify"]
    line = record.getMessage()
    for routing in (n.workflow_id, n.event, n.key, "sales_manager", "a…@example.com"):
        assert routing in line
    assert BODY not in line and "Jane Roe" not in str(vars(record))


async def test_log_sink_keeps_nothing_in_memory():
    assert not hasattr(LogSink(), "sent")


async def test_slack_receives_the_text(build, slack):
    acts = build(SlackSink(slack.url))
    await ActivityEnvironment().run(acts.notify, notification())
    await ActivityEnvironment().run(acts.notify, notification(text="ping <!channel> & <http://x|y>"))

    first, escaped = slack.requests
    assert first.path.endswith("/tok3n")
    assert first.json() == {"text": f"*CSM briefing overdue*\n{BODY}"}
    assert escaped.json()["text"].endswith("ping &lt;!channel&gt; &amp; &lt;http://x|y&gt;")


async def test_email_of_an_old_run_goes_to_each_address_with_a_stable_message_id(build, smtp):
    # A run from before the directory: role names and addresses in `to`, no people; roles go through
    # the deprecated BATON_NOTIFY_EMAILS map, a person id has no address here.
    n = notification(to=["sales_manager", "ae@example.com", "user-123", "sales_manager"])
    acts = build(email_sink(smtp))
    await ActivityEnvironment().run(acts.notify, n)
    await ActivityEnvironment().run(acts.notify, n)

    first = smtp.messages[:2]
    again = smtp.messages[2:]
    assert [m.rcpt_to for m in first] == [["sm@example.com"], ["ae@example.com"]]
    assert [m.message["To"] for m in first] == ["sm@example.com", "ae@example.com"]
    assert all(m.mail_from == SENDER and m.message["Subject"] == n.subject for m in first)
    ids = [m.message["Message-ID"] for m in first]
    assert ids == [message_id(n.key, SENDER, "sm@example.com"), message_id(n.key, SENDER, "ae@example.com")]
    assert ids == [m.message["Message-ID"] for m in again] and len(set(ids)) == 2
    assert ids[0].endswith("@example.com>")
    assert BODY in first[0].message.get_content()


async def test_email_without_a_resolvable_address_is_skipped(build, smtp, caplog):
    with caplog.at_level(logging.INFO, logger="baton.notify"):
        delivery = await ActivityEnvironment().run(build(email_sink(smtp)).notify, notification(to=["user-9"]))

    assert smtp.messages == []
    assert delivery.sinks == ["email"]
    assert "email skipped" in caplog.text


async def test_webhook_is_signed_and_carries_an_idempotency_key(build, webhook):
    n = notification()
    await ActivityEnvironment().run(build(WebhookSink(webhook.url, SECRET)).notify, n)

    [request] = webhook.requests
    headers = request.headers
    assert headers["idempotency-key"] == n.key
    assert headers["content-type"] == "application/json"
    timestamp = int(headers["x-baton-timestamp"])
    assert abs(time.time() - timestamp) < 60
    signed = f"{timestamp}.".encode() + request.body
    expected = "sha256=" + hmac.new(SECRET.encode(), signed, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["x-baton-signature"], expected)
    assert Notification.model_validate_json(request.body) == n


# --- errors ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["slack", "webhook"])
@pytest.mark.parametrize("status", [500, 503, 429])
async def test_transient_http_status_retries_then_succeeds(build, slack, webhook, kind, status):
    stub = slack if kind == "slack" else webhook
    stub.statuses = [status]
    acts = build(sink_for(kind, slack, webhook))

    with pytest.raises(SinkUnavailable) as raised:
        await ActivityEnvironment().run(acts.notify, notification())
    assert not isinstance(raised.value, ApplicationError)

    delivery = await ActivityEnvironment().run(acts.notify, notification())
    assert delivery.sinks == [kind] and len(stub.requests) == 2


@pytest.mark.parametrize("kind", ["slack", "webhook"])
@pytest.mark.parametrize("status", [400, 403, 404, 410])
async def test_client_error_is_not_retried(build, slack, webhook, kind, status):
    (slack if kind == "slack" else webhook).statuses = [status]

    with pytest.raises(ApplicationError) as raised:
        await ActivityEnvironment().run(build(sink_for(kind, slack, webhook)).notify, notification())
    assert raised.value.non_retryable and raised.value.type == "NotifyRejected"


async def test_unreachable_slack_is_retryable_and_hides_the_url(build, http_factory):
    stub = await http_factory()
    stub.server.close()
    await stub.server.wait_closed()

    with pytest.raises(SinkUnavailable) as raised:
        await ActivityEnvironment().run(build(SlackSink(stub.url)).notify, notification())
    assert "tok3n" not in str(raised.value) and raised.value.__cause__ is None


@pytest.mark.parametrize(("code", "retryable"), [(451, True), (550, False)])
async def test_smtp_refusal_follows_the_reply_class(build, smtp, code, retryable):
    smtp.rcpt_code = code

    with pytest.raises(Exception) as raised:
        await ActivityEnvironment().run(build(email_sink(smtp)).notify, notification())
    if retryable:
        assert isinstance(raised.value, SinkUnavailable)
    else:
        assert isinstance(raised.value, ApplicationError) and raised.value.non_retryable


# --- retries skip what was delivered -------------------------------------------------


async def test_heartbeat_details_skip_delivered_sinks(build, slack, webhook):
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, heartbeat_details=[["slack"]])
    recording = RecordingSink()

    acts = build(recording, SlackSink(slack.url), WebhookSink(webhook.url, SECRET))
    delivery = await env.run(acts.notify, notification())

    assert slack.requests == []
    assert len(webhook.requests) == 1 and len(recording.sent) == 1
    assert delivery.sinks == ["slack", "recording", "webhook"]


async def test_a_retry_after_a_failure_sends_only_what_is_left(build, slack, webhook):
    webhook.statuses = [502]
    heartbeats: list = []
    first = ActivityEnvironment()
    first.on_heartbeat = lambda *details: heartbeats.append(details)
    acts = build(LogSink(), SlackSink(slack.url), WebhookSink(webhook.url, SECRET))

    with pytest.raises(SinkUnavailable):
        await first.run(acts.notify, notification())
    assert heartbeats == [(["log"],), (["log", "slack"],)]

    retry = ActivityEnvironment()
    retry.info = dataclasses.replace(retry.info, attempt=2, heartbeat_details=list(heartbeats[-1]))
    delivery = await retry.run(acts.notify, notification())

    assert len(slack.requests) == 1
    assert len(webhook.requests) == 2
    assert webhook.requests[0].headers["idempotency-key"] == webhook.requests[1].headers["idempotency-key"]
    assert delivery.sinks == ["log", "slack", "webhook"]


def test_activity_is_registered_as_notify():
    defn = activity._Definition.from_callable(NotifyActivities([LogSink()]).notify)
    assert defn is not None and defn.name == "notify"


def test_sink_names_must_be_unique():
    with pytest.raises(ValueError, match="unique"):
        NotifyActivities([LogSink(), LogSink()])
