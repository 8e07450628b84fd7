"""The notify activity: one notification through every configured sink, resumable across retries."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from temporalio import activity

from activities.notify_sinks import EmailSink, LogSink, Sink, SlackSink, WebhookSink
from domain.notifications import Delivery, Notification

log = logging.getLogger("baton.notify")

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class NotifyActivities:
    """Owns the sinks, built once by the worker (`NotifyActivities(sinks_from_env(os.environ))`).

    Delivery is at-least-once per sink, with retries skipping sinks already done: after each sink
    succeeds the activity heartbeats the names delivered so far, and a retry reads them back from
    `activity.info().heartbeat_details`. The SDK flushes the last heartbeat when an attempt fails, so a
    sink that answered 5xx does not repeat the ones before it. A worker crash between a send and its
    heartbeat reaching the server can still repeat that one message: Slack and SMTP have no idempotency,
    so they stay at-least-once (mail systems may fold the repeat by its stable `Message-ID`). The webhook
    sink sends `Idempotency-Key: <notification key>`, which lets its receiver make it exactly-once.
    """

    def __init__(self, sinks: Sequence[Sink]) -> None:
        names = [s.name for s in sinks]
        if len(set(names)) != len(names):
            # Progress is recorded by name, so two sinks sharing one would skip each other on retry.
            raise ValueError(f"sink names must be unique: {names}")
        self.sinks = list(sinks)

    @activity.defn(name="notify")
    async def notify(self, notification: Notification) -> Delivery:
        delivered = _delivered_before()
        for sink in self.sinks:
            if sink.name in delivered:
                continue
            await sink.send(notification)
            delivered.append(sink.name)
            # A copy: the worker encodes heartbeat details later, and the list keeps growing.
            activity.heartbeat(list(delivered))
        return Delivery(key=notification.key, sinks=delivered)

    async def aclose(self) -> None:
        for sink in self.sinks:
            await sink.aclose()


def _delivered_before() -> list[str]:
    details = activity.info().heartbeat_details
    if details and isinstance(details[0], list):
        return [str(name) for name in details[0]]
    return []


def sinks_from_env(env: Mapping[str, str]) -> list[Sink]:
    """LogSink always, then each sink whose settings are present; half a configuration is an error.

    BATON_SLACK_WEBHOOK_URL; BATON_SMTP_HOST, BATON_SMTP_PORT (587), BATON_SMTP_FROM,
    BATON_SMTP_STARTTLS (true), BATON_SMTP_USERNAME, BATON_SMTP_PASSWORD, BATON_NOTIFY_EMAILS
    (`role=address,...`); BATON_WEBHOOK_URL with BATON_WEBHOOK_SECRET.
    """
    sinks: list[Sink] = [LogSink()]
    if slack_url := env.get("BATON_SLACK_WEBHOOK_URL", "").strip():
        sinks.append(SlackSink(slack_url))
    if host := env.get("BATON_SMTP_HOST", "").strip():
        sinks.append(_email_sink(env, host))
    if webhook_url := env.get("BATON_WEBHOOK_URL", "").strip():
        secret = env.get("BATON_WEBHOOK_SECRET", "")
        if not secret:
            # An unsigned webhook would let anyone who finds the receiver forge handoff events.
            raise ValueError("BATON_WEBHOOK_URL is set but BATON_WEBHOOK_SECRET is not")
        sinks.append(WebhookSink(webhook_url, secret))
    # Names only: Slack webhook URLs and webhook secrets are credentials.
    log.info("notify sinks: %s", ", ".join(s.name for s in sinks))
    return sinks


def _email_sink(env: Mapping[str, str], host: str) -> EmailSink:
    sender = env.get("BATON_SMTP_FROM", "").strip()
    if "@" not in sender:
        raise ValueError("BATON_SMTP_HOST is set but BATON_SMTP_FROM is not an address")
    port_text = env.get("BATON_SMTP_PORT", "").strip() or "587"
    if not port_text.isdigit():
        raise ValueError(f"BATON_SMTP_PORT must be a number, got {port_text!r}")
    username = env.get("BATON_SMTP_USERNAME") or None
    password = env.get("BATON_SMTP_PASSWORD") or None
    if (username is None) != (password is None):
        raise ValueError("BATON_SMTP_USERNAME and BATON_SMTP_PASSWORD must be set together")
    return EmailSink(
        host=host,
        port=int(port_text),
        sender=sender,
        recipients_by_role=_parse_role_emails(env.get("BATON_NOTIFY_EMAILS", "")),
        starttls=_parse_bool("BATON_SMTP_STARTTLS", env.get("BATON_SMTP_STARTTLS", ""), default=True),
        username=username,
        password=password,
    )


def _parse_role_emails(text: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        role, sep, address = (s.strip() for s in item.partition("="))
        if not sep or not role or "@" not in address:
            raise ValueError(f"BATON_NOTIFY_EMAILS wants role=address pairs, got {item!r}")
        pairs[role] = address
    return pairs


def _parse_bool(name: str, text: str, *, default: bool) -> bool:
    value = text.strip().lower()
    if not value:
        return default
    if value in _TRUE | _FALSE:
        return value in _TRUE
    raise ValueError(f"{name} must be true or false, got {text!r}")
