"""Where a notification goes: the log always, plus Slack, SMTP and a signed webhook when configured."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import smtplib
import ssl
import time
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formatdate
from typing import Protocol

import httpx
from temporalio.exceptions import ApplicationError

from domain.notifications import Notification

log = logging.getLogger("baton.notify")

HTTP_TIMEOUT = httpx.Timeout(10.0)
SMTP_TIMEOUT_SECONDS = 30.0
REJECTED = "NotifyRejected"


class SinkUnavailable(Exception):
    """Retryable on purpose: a plain exception, so Temporal's retry policy decides when to try again."""


class Sink(Protocol):
    name: str

    async def send(self, n: Notification) -> None: ...

    async def aclose(self) -> None: ...


def _check_status(sink: str, response: httpx.Response) -> None:
    # Status only: a receiver may echo the payload (customer data) and failures land in history.
    status = response.status_code
    if status < 400:
        return
    if status == 429 or status >= 500:
        raise SinkUnavailable(f"{sink} answered HTTP {status}")
    raise ApplicationError(f"{sink} rejected the notification: HTTP {status}", non_retryable=True, type=REJECTED)


async def _post(sink: str, client: httpx.AsyncClient, url: str, **kwargs) -> None:
    try:
        response = await client.post(url, **kwargs)
    except httpx.TransportError as exc:
        # `from None`: the cause carries the request, and a Slack webhook URL is itself a secret.
        raise SinkUnavailable(f"{sink} unreachable: {type(exc).__name__}") from None
    _check_status(sink, response)


class LogSink:
    name = "log"

    def __init__(self) -> None:
        self.sent: list[Notification] = []

    async def send(self, n: Notification) -> None:
        # The text body may quote customer data, so only routing facts reach the log.
        log.info(
            "notify workflow_id=%s event=%s key=%s recipients=%s",
            n.workflow_id,
            n.event,
            n.key,
            ",".join(n.to),
            extra={"workflow_id": n.workflow_id, "event": n.event, "key": n.key, "recipients": list(n.to)},
        )
        self.sent.append(n)

    async def aclose(self) -> None:
        pass


class SlackSink:
    name = "slack"

    def __init__(self, webhook_url: str) -> None:
        self._url = webhook_url
        self._client = httpx.AsyncClient(timeout=HTTP_TIMEOUT)

    def __repr__(self) -> str:
        return "SlackSink(webhook_url=<secret>)"

    async def send(self, n: Notification) -> None:
        text = f"*{_slack_escape(n.subject)}*\n{_slack_escape(n.text)}"
        await _post(self.name, self._client, self._url, json={"text": text})

    async def aclose(self) -> None:
        await self._client.aclose()


def _slack_escape(text: str) -> str:
    # Slack reads <...> as links and mentions; free text must not ping @channel or forge a link.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class WebhookSink:
    """Signed like Stripe/Slack: HMAC over `timestamp.body`, so a receiver can reject replays and forgeries."""

    name = "webhook"

    def __init__(self, url: str, secret: str) -> None:
        self._url = url
        self._secret = secret.encode()
        self._client = httpx.AsyncClient(timeout=HTTP_TIMEOUT)

    def __repr__(self) -> str:
        return "WebhookSink(url=<redacted>, secret=<secret>)"

    def signature(self, timestamp: int, body: str) -> str:
        mac = hmac.new(self._secret, f"{timestamp}.{body}".encode(), hashlib.sha256)
        return f"sha256={mac.hexdigest()}"

    async def send(self, n: Notification) -> None:
        body = n.model_dump_json()
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": n.key,
            "X-Baton-Timestamp": str(timestamp),
            "X-Baton-Signature": self.signature(timestamp, body),
        }
        await _post(self.name, self._client, self._url, content=body.encode(), headers=headers)

    async def aclose(self) -> None:
        await self._client.aclose()


def message_id(key: str, sender: str) -> str:
    # Hashed because keys may hold characters RFC 5322 forbids in a msg-id; stable so retries share it.
    domain = sender.rpartition("@")[2] or "baton.invalid"
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"


class EmailSink:
    name = "email"

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        recipients_by_role: Mapping[str, str],
        starttls: bool = True,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        self.host, self.port, self.sender, self.starttls = host, port, sender, starttls
        self.recipients_by_role = dict(recipients_by_role)
        self._username, self._password = username, password

    def __repr__(self) -> str:
        return f"EmailSink(host={self.host!r}, port={self.port}, sender={self.sender!r})"

    def resolve(self, to: list[str]) -> list[str]:
        # Person ids have no address here; they are reached through the other sinks.
        found = (t if "@" in t else self.recipients_by_role.get(t) for t in to)
        return list(dict.fromkeys(a for a in found if a))

    async def send(self, n: Notification) -> None:
        addresses = self.resolve(n.to)
        if not addresses:
            log.info("notify email skipped: no address for recipients key=%s recipients=%s", n.key, ",".join(n.to))
            return
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = self.sender, ", ".join(addresses), n.subject
        msg["Message-ID"] = message_id(n.key, self.sender)
        msg["Date"] = formatdate(localtime=False)
        msg.set_content(n.text)
        await asyncio.to_thread(self._deliver, msg, addresses)

    def _deliver(self, msg: EmailMessage, addresses: list[str]) -> None:
        try:
            with smtplib.SMTP(self.host, self.port, timeout=SMTP_TIMEOUT_SECONDS) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self._username:
                    smtp.login(self._username, self._password or "")
                refused = smtp.send_message(msg, from_addr=self.sender, to_addrs=addresses)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            _raise_smtp(min(codes) if codes else 550, "all recipients refused")
        except smtplib.SMTPResponseException as exc:
            _raise_smtp(exc.smtp_code, "server refused")
        except (smtplib.SMTPException, OSError) as exc:
            raise SinkUnavailable(f"email unreachable: {type(exc).__name__}") from None
        if refused:
            log.warning("notify email partly refused recipients=%s", ",".join(refused))

    async def aclose(self) -> None:
        pass


def _raise_smtp(code: int, what: str) -> None:
    # SMTP's own split: 4xx is transient (greylisting, full mailbox), 5xx is permanent.
    if code >= 500:
        raise ApplicationError(f"email {what}: SMTP {code}", non_retryable=True, type=REJECTED)
    raise SinkUnavailable(f"email {what}: SMTP {code}")
