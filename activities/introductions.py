"""The introductions activity: an introduction composed by the rules, rendered from the team's templates
and sent by SMTP through the e-mail sink's connection (its server, sender and credentials).

Templates are files (default: activities/templates/introductions/, shipped with Baton; BATON_TEMPLATES_DIR names
another folder), rendered with Jinja2. A template that is missing or broken raises a plain exception:
retried until someone fixes the file, rather than sending a customer half a message. Delivery is
at-least-once, as for notices (SMTP has no idempotency); a retry keeps the same `Message-ID`.

Customer addresses never reach a log line: only the key, the style and counts do.
"""

from __future__ import annotations

import asyncio
import logging
import os
from email.headerregistry import Address as MailAddress
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path

import jinja2
from pydantic import BaseModel
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.notify_sinks import REJECTED, EmailSink, message_id
from domain.introductions import Address, OutgoingIntroduction

log = logging.getLogger("baton.introductions")

DEFAULT_TEMPLATES = Path(__file__).resolve().parent / "templates" / "introductions"


class IntroductionDelivery(BaseModel):
    key: str
    sent: bool
    recipients: int = 0


class Templates:
    """The folder of introduction templates: `<name>.txt`, its first line `Subject: ...`."""

    def __init__(self, folder: str | os.PathLike[str] | None = None) -> None:
        self.folder = Path(folder) if folder else DEFAULT_TEMPLATES
        if not self.folder.is_dir():
            raise ValueError(f"the introduction templates folder {self.folder} does not exist")
        self._env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(self.folder),
            undefined=jinja2.StrictUndefined,
            autoescape=False,  # plain-text e-mail
            keep_trailing_newline=True,
            auto_reload=True,  # the team edits the files while the worker runs
        )

    def render(self, outgoing: OutgoingIntroduction) -> tuple[str, str]:
        """The subject and the body."""
        text = self._env.get_template(f"{outgoing.template}.txt").render(**outgoing.context)
        head, _, body = text.partition("\n")
        if not head.lower().startswith("subject:"):
            raise ValueError(f"template {outgoing.template}.txt must start with a 'Subject:' line")
        subject = " ".join(head.split(":", 1)[1].split())
        return subject, body.lstrip("\n")


class IntroductionActivities:
    """`email`: the worker's e-mail sink (None: SMTP not configured, and nothing is sent)."""

    def __init__(self, email: EmailSink | None = None, templates: str | os.PathLike[str] | None = None) -> None:
        self._email = email
        self.templates = Templates(templates)

    @activity.defn(name="send_introduction")
    async def send_introduction(self, outgoing: OutgoingIntroduction) -> IntroductionDelivery:
        subject, body = self.templates.render(outgoing)
        recipients = [a.email for a in outgoing.to + outgoing.cc]
        if self._email is None:
            log.info(
                "introduction not sent (no SMTP configured) key=%s style=%s recipients=%d",
                outgoing.key,
                outgoing.style.value,
                len(recipients),
            )
            return IntroductionDelivery(key=outgoing.key, sent=False)
        msg = self.message(outgoing, subject, body, self._email.sender)
        # The e-mail sink's own connection code: its TLS, login and the SMTP 4xx/5xx split.
        await asyncio.to_thread(self._email.deliver, msg, recipients)
        log.info("introduction sent key=%s style=%s recipients=%d", outgoing.key, outgoing.style.value, len(recipients))
        return IntroductionDelivery(key=outgoing.key, sent=True, recipients=len(recipients))

    @staticmethod
    def message(outgoing: OutgoingIntroduction, subject: str, body: str, sender: str) -> EmailMessage:
        """From Baton's own address (so it passes DMARC), Reply-To the AE; a live call's invitation as
        the text/calendar alternative calendar clients read (METHOD=REQUEST)."""
        msg = EmailMessage()
        try:
            msg["From"] = sender
            msg["To"] = [_mail(a) for a in outgoing.to]
            if outgoing.cc:
                msg["Cc"] = [_mail(a) for a in outgoing.cc]
            if outgoing.reply_to is not None:
                msg["Reply-To"] = _mail(outgoing.reply_to)
        except (ValueError, IndexError) as err:
            # An address the mail library cannot write would fail every retry alike.
            raise ApplicationError(
                f"introduction {outgoing.key}: bad address ({err})", non_retryable=True, type=REJECTED
            ) from None
        msg["Subject"] = subject
        msg["Message-ID"] = message_id(outgoing.key, sender)
        msg["Date"] = formatdate(localtime=False)
        msg.set_content(body)
        if outgoing.ics is not None:
            # Bytes, so the calendar's CRLF line ends and folding reach the client as built (text would
            # be re-joined with the message's own line ends).
            msg.add_alternative(
                outgoing.ics.encode(), "text", "calendar", params={"method": "REQUEST", "charset": "utf-8"}
            )
        return msg


def _mail(address: Address) -> MailAddress:
    local, _, domain = address.email.rpartition("@")
    return MailAddress(display_name=address.name, username=local, domain=domain)
