"""Where a notification goes: the log always, plus Slack, SMTP and a signed webhook when configured.

A notice from a run under the people rules carries its people (`recipients`): Slack mentions them, e-mail
writes to each one's address, the log names them by id. A notice from a run started before the directory
carries role names or addresses in `to` and no people: it is still delivered, the old way.
"""

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
from email.utils import formataddr, formatdate
from typing import Protocol

import httpx
from temporalio.exceptions import ApplicationError

from activities.notify_text import due_line, due_of, log_safe, single_line, slack_escape, slack_link, slack_name
from domain.notifications import Notification
from domain.recipients import Recipient
from infra.page_links import handoff_page_url

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
    """Routing facts only, and nothing kept: the text may quote customer data, and an address is logged
    masked (`notify_text.log_safe`), so a log store never holds who the customer's people are."""

    name = "log"

    async def send(self, n: Notification) -> None:
        people = [log_safe(who) for who in n.to]
        log.info(
            "notify workflow_id=%s event=%s key=%s recipients=%s",
            n.workflow_id,
            n.event,
            n.key,
            ",".join(people),
            extra={"workflow_id": n.workflow_id, "event": n.event, "key": n.key, "recipients": people},
        )

    async def aclose(self) -> None:
        pass


class SlackSink:
    """Posts to the incoming webhook's channel: the notice, each person it is for (a mention when the
    directory has their Slack id, so they are pinged; else their name) with what is due and by when in
    their own time zone, and a link to the handoff's page."""

    name = "slack"

    def __init__(self, webhook_url: str, public_url: str | None = None) -> None:
        self._url = webhook_url
        self._public_url = public_url
        self._client = httpx.AsyncClient(timeout=HTTP_TIMEOUT)

    def __repr__(self) -> str:
        return "SlackSink(webhook_url=<secret>)"

    def text(self, n: Notification) -> str:
        lines = [f"*{slack_escape(n.subject)}*", slack_escape(n.text)]
        due = due_of(n)
        if n.recipients:
            if due:
                lines += [f"• {slack_name(r)}: {slack_escape(due_line(due, r, n.zone))}" for r in n.recipients]
            else:
                lines.append("For " + ", ".join(slack_name(r) for r in n.recipients))
        elif due:
            # A notice from before the directory: its names are roles or addresses, nobody to mention.
            lines.append(slack_escape(due_line(due, None, n.zone)))
        if n.crm and n.deal_id:
            lines.append(slack_link(handoff_page_url(n.crm, n.deal_id, self._public_url), "Open the handoff"))
        return "\n".join(lines)

    async def send(self, n: Notification) -> None:
        await _post(self.name, self._client, self._url, json={"text": self.text(n)})

    async def aclose(self) -> None:
        await self._client.aclose()


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


def message_id(key: str, sender: str, recipient: str = "") -> str:
    """Stable per (notice, recipient), so a retried send carries the same id and a mail system can fold
    it; hashed because keys may hold characters RFC 5322 forbids in a msg-id."""
    domain = sender.rpartition("@")[2] or "baton.invalid"
    seed = f"{key}\n{recipient}" if recipient else key
    return f"<{hashlib.sha256(seed.encode()).hexdigest()[:32]}@{domain}>"


class EmailSink:
    """One message per person with an address, so each reads the due time in their own zone.

    `recipients_by_role` (BATON_NOTIFY_EMAILS) is deprecated: it addresses notices that carry no people,
    which are those of runs started before the directory (role names in `to`) and the monthly governance
    report (addressed to roles). A notice with people never uses it: a person without an address gets
    no e-mail."""

    name = "email"

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        recipients_by_role: Mapping[str, str] | None = None,
        starttls: bool = True,
        username: str | None = None,
        password: str | None = None,
        public_url: str | None = None,
    ) -> None:
        self.host, self.port, self.sender, self.starttls = host, port, sender, starttls
        self.recipients_by_role = dict(recipients_by_role or {})
        self._username, self._password = username, password
        self._public_url = public_url

    def __repr__(self) -> str:
        return f"EmailSink(host={self.host!r}, port={self.port}, sender={self.sender!r})"

    def addressees(self, n: Notification) -> list[Recipient]:
        """The people with an address, each once; for a notice without people, `to` read the old way
        (an address as it is, a role through the deprecated map, a person id has no address here)."""
        if n.recipients:
            chosen = [r for r in n.recipients if r.email]
        else:
            found = (t if "@" in t else self.recipients_by_role.get(t) for t in n.to)
            chosen = [Recipient(id=a, email=a) for a in dict.fromkeys(a for a in found if a)]
        once: dict[str, Recipient] = {}
        for r in chosen:
            once.setdefault((r.email or "").lower(), r)
        return list(once.values())

    def message(self, n: Notification, to: Recipient) -> EmailMessage:
        assert to.email
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = formataddr((single_line(to.name), to.email)) if to.name else to.email
        msg["Subject"] = single_line(n.subject)
        msg["Message-ID"] = message_id(n.key, self.sender, to.id)
        msg["Date"] = formatdate(localtime=False)
        msg.set_content(self.body(n, to))
        return msg

    def body(self, n: Notification, to: Recipient) -> str:
        parts = [n.text]
        if due := due_of(n):
            line = due_line(due, to, n.zone)
            parts.append(line[:1].upper() + line[1:] + ".")
        if to.covering_for:
            parts.append(f"You are covering for {to.covering_for}, who is away.")
        if n.crm and n.deal_id:
            parts.append(f"Open the handoff: {handoff_page_url(n.crm, n.deal_id, self._public_url)}")
        return "\n\n".join(parts) + "\n"

    async def send(self, n: Notification) -> None:
        addressees = self.addressees(n)
        if not addressees:
            # Who, by id and masked address: never the addresses themselves.
            people = ",".join(log_safe(who) for who in n.to)
            log.info("notify email skipped: no address for recipients key=%s recipients=%s", n.key, people)
            return
        messages = [(r, self.message(n, r)) for r in addressees]
        await asyncio.to_thread(self._deliver, messages)

    def deliver(self, msg: EmailMessage, addresses: list[str]) -> None:
        """One message to several addresses (To and Cc of a customer introduction), through this
        sink's connection: its TLS, login and the SMTP 4xx (retry) / 5xx (give up) split. Blocking:
        call it in a thread."""
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
            log.warning("email partly refused: %d of %d addresses", len(refused), len(addresses))

    def _deliver(self, messages: list[tuple[Recipient, EmailMessage]]) -> None:
        refused: list[tuple[str, int]] = []
        try:
            with smtplib.SMTP(self.host, self.port, timeout=SMTP_TIMEOUT_SECONDS) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self._username:
                    smtp.login(self._username, self._password or "")
                for to, msg in messages:
                    code = _send_one(smtp, self.sender, to, msg)
                    if code:
                        refused.append((to.id, code))
        except smtplib.SMTPResponseException as exc:
            _raise_smtp(exc.smtp_code, "server refused")
        except (smtplib.SMTPException, OSError) as exc:
            raise SinkUnavailable(f"email unreachable: {type(exc).__name__}") from None
        if len(refused) == len(messages):
            _raise_smtp(min(code for _, code in refused), "all recipients refused")
        if refused:
            who = ",".join(log_safe(pid) for pid, _ in refused)
            log.warning("notify email partly refused recipients=%s", who)

    async def aclose(self) -> None:
        pass


def _send_one(smtp: smtplib.SMTP, sender: str, to: Recipient, msg: EmailMessage) -> int | None:
    """None when accepted; the permanent (5xx) refusal code of this recipient. A transient refusal
    raises: the retry sends every message again under the same Message-IDs."""
    assert to.email
    try:
        smtp.send_message(msg, from_addr=sender, to_addrs=[to.email])
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        code = min(codes) if codes else 550
        if code < 500:
            _raise_smtp(code, "recipient refused")
        return code
    return None


def _raise_smtp(code: int, what: str) -> None:
    # SMTP's own split: 4xx is transient (greylisting, full mailbox), 5xx is permanent.
    if code >= 500:
        raise ApplicationError(f"email {what}: SMTP {code}", non_retryable=True, type=REJECTED)
    raise SinkUnavailable(f"email {what}: SMTP {code}")
