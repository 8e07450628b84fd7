"""Sending a person their sign-in link: e-mail through the notifier's SMTP settings, and a Slack direct
message when a bot token is configured. Never through a workflow: signing in is not part of a handoff."""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Protocol

import httpx

from api.pages.settings import PageSettings
from domain.directory import Person

log = logging.getLogger("baton.pages")
SMTP_TIMEOUT_SECONDS = 20.0
SLACK_TIMEOUT = httpx.Timeout(10.0)


class LinkSender(Protocol):
    async def send(self, person: Person, link: str, minutes: int) -> list[str]:
        """Delivers the link; returns the channels it went through (empty: none configured or all failed)."""
        ...


def link_text(person: Person, link: str, minutes: int) -> str:
    return (
        f"Hello {person.name},\n\nOpen this link to sign in to Baton (it works once, for {minutes} minutes):\n\n"
        f"{link}\n\nIf you did not ask to sign in, ignore this message; nobody can use the link without your inbox.\n"
    )


class DirectLinkSender:
    """E-mail when SMTP is configured, a Slack DM when a bot token is; each channel on its own, so one
    being down does not keep the link from arriving through the other."""

    def __init__(self, settings: PageSettings, http: httpx.AsyncClient | None = None) -> None:
        self.settings = settings
        self._http = http

    async def send(self, person: Person, link: str, minutes: int) -> list[str]:
        sent: list[str] = []
        if self.settings.email_configured:
            try:
                await asyncio.to_thread(self._email, person, link, minutes)
                sent.append("email")
            except (smtplib.SMTPException, OSError) as err:
                log.warning("sign-in link e-mail failed for person=%s: %s", person.id, type(err).__name__)
        if self.settings.slack_bot_token.get_secret_value() and person.slack_id:
            try:
                await self._slack(person, link, minutes)
                sent.append("slack")
            except (httpx.HTTPError, SlackRefused) as err:
                log.warning("sign-in link Slack DM failed for person=%s: %s", person.id, err)
        return sent

    def _email(self, person: Person, link: str, minutes: int) -> None:
        s = self.settings
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = s.smtp_from, person.email, "Your Baton sign-in link"
        msg["Date"] = formatdate(localtime=False)
        msg["Message-ID"] = make_msgid(domain=s.smtp_from.rpartition("@")[2] or None)
        msg["Auto-Submitted"] = "auto-generated"
        msg.set_content(link_text(person, link, minutes))
        with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=SMTP_TIMEOUT_SECONDS) as smtp:
            if s.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if s.smtp_username:
                smtp.login(s.smtp_username, s.smtp_password.get_secret_value())
            smtp.send_message(msg, from_addr=s.smtp_from, to_addrs=[person.email])

    async def _slack(self, person: Person, link: str, minutes: int) -> None:
        # chat.postMessage with a user id as `channel` opens (or reuses) the DM with that person.
        body = {"channel": person.slack_id, "text": link_text(person, link, minutes), "unfurl_links": False}
        headers = {"Authorization": f"Bearer {self.settings.slack_bot_token.get_secret_value()}"}
        url = self.settings.slack_api_url.rstrip("/") + "/chat.postMessage"
        if self._http is not None:
            answer = await self._http.post(url, json=body, headers=headers)
        else:
            async with httpx.AsyncClient(timeout=SLACK_TIMEOUT) as http:
                answer = await http.post(url, json=body, headers=headers)
        answer.raise_for_status()
        # Slack answers 200 with {"ok": false, "error": ...} for a refusal (bad token, unknown user).
        payload = answer.json()
        if not payload.get("ok"):
            raise SlackRefused(str(payload.get("error", "unknown error")))


class SlackRefused(Exception):
    pass
