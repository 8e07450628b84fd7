import asyncio
import dataclasses
import email
import email.policy
import hashlib
import hmac
import json
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


# --- stub servers ---------------------------------------------------------------


@dataclasses.dataclass
class HttpRequest:
    path: str
    headers: dict[str, str]
    body: bytes


class HttpStub:
    """Raw HTTP/1.1 on loopback; answers each request with the next queued status, then 200."""

    def __init__(self) -> None:
        self.requests: list[HttpRequest] = []
        self.statuses: list[int] = []

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/services/T000/B000/tok3n"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while request_line := await reader.readline():
                path = request_line.decode().split(" ")[1]
                headers = {}
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    name, _, value = line.decode().partition(":")
                    headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                self.requests.append(HttpRequest(path, headers, body))
                status = self.statuses.pop(0) if self.statuses else 200
                writer.write(f"HTTP/1.1 {status} Stub\r\nContent-Length: 2\r\n\r\nok".encode())
                await writer.drain()
        finally:
            writer.close()


@dataclasses.dataclass
class SmtpMessage:
    mail_from: str
    rcpt_to: list[str]
    message: email.message.EmailMessage


class SmtpStub:
    """Just enough ESMTP for smtplib without STARTTLS; `rcpt_code` lets a test refuse recipients."""

    def __init__(self) -> None:
        self.messages: list[SmtpMessage] = []
        self.rcpt_code = 250

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        def reply(line: str) -> None:
            writer.write(f"{line}\r\n".encode())

        mail_from, rcpts = "", []
        reply("220 stub ESMTP")
        try:
            while line := await reader.readline():
                command = line.decode().strip()
                verb = command[:4].upper()
                if verb == "MAIL":
                    mail_from, rcpts = command.partition("<")[2].partition(">")[0], []
                    reply("250 ok")
                elif verb == "RCPT":
                    rcpts.append(command.partition("<")[2].partition(">")[0])
                    reply(f"{self.rcpt_code} rcpt")
                elif verb == "DATA":
                    reply("354 go ahead")
                    await writer.drain()
                    data = bytearray()
                    while (chunk := await reader.readline()) not in (b".\r\n", b""):
                        data += chunk[1:] if chunk.startswith(b"..") else chunk
                    message = email.message_from_bytes(bytes(data), policy=email.policy.default)
                    self.messages.append(SmtpMessage(mail_from, rcpts, message))
                    reply("250 queued")
                elif verb == "QUIT":
                    reply("221 bye")
                    break
                else:
                    reply("250 stub")
                await writer.drain()
        finally:
            writer.close()


@pytest.fixture
async def http_factory() -> AsyncIterator[Callable]:
    stubs: list[HttpStub] = []

    async def make() -> HttpStub:
        stub = HttpStub()
        await stub.start()
        stubs.append(stub)
        return stub

    yield make
    for stub in stubs:
        stub.server.close()


@pytest.fixture
async def slack(http_factory) -> HttpStub:
    return await http_factory()


@pytest.fixture
async def webhook(http_factory) -> HttpStub:
    return await http_factory()


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpStub]:
    stub = SmtpStub()
    await stub.start()
    yield stub
    stub.server.close()


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
    log_sink = LogSink()
    n = notification()
    with caplog.at_level(logging.INFO, logger="baton.notify"):
        delivery = await ActivityEnvironment().run(build(log_sink).notify, n)

    assert delivery.sinks == ["log"] and delivery.key == n.key
    assert log_sink.sent == [n]
    [record] = [r for r in caplog.records if r.name == "baton.notify"]
    line = record.getMessage()
    for routing in (n.workflow_id, n.event, n.key, "sales_manager", "ae@example.com"):
        assert routing in line
    assert BODY not in line and "Jane Roe" not in str(vars(record))


async def test_slack_receives_the_text(build, slack):
    acts = build(SlackSink(slack.url))
    await ActivityEnvironment().run(acts.notify, notification())
    await ActivityEnvironment().run(acts.notify, notification(text="ping <!channel> & <http://x|y>"))

    first, escaped = slack.requests
    assert first.path.endswith("/tok3n")
    assert json.loads(first.body) == {"text": f"*CSM briefing overdue*\n{BODY}"}
    assert json.loads(escaped.body)["text"].endswith("ping &lt;!channel&gt; &amp; &lt;http://x|y&gt;")


async def test_email_goes_to_resolved_addresses_with_a_stable_message_id(build, smtp):
    n = notification(to=["sales_manager", "ae@example.com", "user-123", "sales_manager"])
    acts = build(email_sink(smtp))
    await ActivityEnvironment().run(acts.notify, n)
    await ActivityEnvironment().run(acts.notify, n)

    first, again = smtp.messages
    assert first.mail_from == SENDER
    assert first.rcpt_to == ["sm@example.com", "ae@example.com"]
    assert first.message["Subject"] == n.subject
    assert first.message["Message-ID"] == message_id(n.key, SENDER) == again.message["Message-ID"]
    assert first.message["Message-ID"].endswith("@example.com>")
    assert BODY in first.message.get_content()


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
    log_sink = LogSink()

    acts = build(log_sink, SlackSink(slack.url), WebhookSink(webhook.url, SECRET))
    delivery = await env.run(acts.notify, notification())

    assert slack.requests == []
    assert len(webhook.requests) == 1 and len(log_sink.sent) == 1
    assert delivery.sinks == ["slack", "log", "webhook"]


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
