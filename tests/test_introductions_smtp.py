"""Introductions reach a real SMTP conversation (a local aiosmtpd server) from running handoffs: a
structured close e-mails the champion with the CSM in Cc and the AE as Reply-To; a white-glove intro
scheduled with its time sends the calendar invitation to the AE, the CSM and the executive sponsor;
no contact without an address is ever a recipient. Also the shipped templates render."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest

from activities.introductions import IntroductionActivities, Templates
from activities.notify_sinks import EmailSink
from activities.recipients import RecipientActivities
from domain.approach_policy import IntroStyle
from domain.directory import load_directory_text
from domain.document import Contact, ContactRole, HandoffDocument
from domain.introductions import Introduction, compose, customer_contacts
from domain.messages import IntroAction, IntroUpdate
from domain.policy import Policy
from domain.recipients import Audience, Recipient
from tests.conftest import assert_eventually
from tests.handoffs import READY_DOCUMENT, deal, start_handoff
from tests.notify_stubs import SmtpStub
from workflows.handoff import DealHandoffWorkflow

DIRECTORY = load_directory_text((Path(__file__).parents[1] / "examples" / "directory.yaml").read_text())
POLICY = Policy.model_validate(
    {"teams": [{"name": "all", "approaches": ["structured", "white_glove"], "csms": [{"id": "erin"}]}]}
)
DOCUMENT = READY_DOCUMENT.model_copy(
    update={
        "stakeholders": [
            Contact(
                name="Priya Raman",
                title="VP Marketing",
                role=ContactRole.EXECUTIVE_SPONSOR,
                email="priya@acme.example",
                notes="Budget.",
            ),
            Contact(
                name="Dana Lee",
                title="Marketing Ops",
                role=ContactRole.CHAMPION,
                email="dana@acme.example",
                notes="Owner.",
            ),
            Contact(name="Noor Haddad", title="Analyst", role=ContactRole.USER, notes="No address given."),
        ]
    }
)
SENDER = "baton@example.com"
AT = datetime(2026, 3, 9, tzinfo=UTC)


@pytest.fixture
def intro_mail(smtp: SmtpStub) -> tuple[SmtpStub, list]:
    """The SMTP stub (tests/notify_stubs.py) and the activities that send introductions through it."""
    sink = EmailSink(host="127.0.0.1", port=smtp.port, sender=SENDER, recipients_by_role={}, starttls=False)
    return smtp, [IntroductionActivities(sink).send_introduction, RecipientActivities(DIRECTORY).resolve_recipients]


def received(inbox: SmtpStub) -> tuple[list[str], EmailMessage]:
    assert len(inbox.messages) == 1, inbox.messages
    [sent] = inbox.messages
    assert sent.mail_from == SENDER
    return sorted(sent.rcpt_to), sent.message


async def test_a_structured_close_emails_the_champion_with_the_csm_in_cc(rig_factory, env, intro_mail):
    inbox, activities = intro_mail
    async with rig_factory(activities) as rig:
        now = await env.get_current_time()
        await start_handoff(rig, deal(closed_at=now, ae="61234567"), POLICY, document=DOCUMENT)
        recipients, message = await assert_eventually(lambda: received(inbox))
    # Only the champion and the CSM: not the sponsor, and never Noor, who has no address.
    assert recipients == ["dana@acme.example", "erin.walsh@example.com"]
    assert message["From"] == SENDER and message["To"] == "Dana Lee <dana@acme.example>"
    assert message["Cc"] == "Erin Walsh <erin.walsh@example.com>"
    assert message["Reply-To"] == "Maria Lopez <maria.lopez@example.com>"
    assert message["Subject"] == "Introducing Erin Walsh, your customer success manager at Acme Corp"
    body = message.get_payload(decode=True).decode()
    assert "Hi Dana," in body and DOCUMENT.goals in body and DOCUMENT.success_criteria in body


async def test_a_white_glove_intro_scheduled_with_its_time_sends_the_invitation(rig_factory, env, intro_mail):
    inbox, activities = intro_mail
    async with rig_factory(activities) as rig:
        now = await env.get_current_time()
        handle = await start_handoff(rig, deal(closed_at=now, ae="61234567", acv=250_000), POLICY, document=DOCUMENT)

        async def has_csm():
            assert (await handle.query(DealHandoffWorkflow.state)).owners.csm

        await assert_eventually(has_csm)
        assert inbox.messages == []  # white glove sends nothing until the call has its time
        at = (now + timedelta(days=2)).replace(microsecond=0)
        update = IntroUpdate(action=IntroAction.SCHEDULED, scheduled_for=at, by="maria")
        await handle.execute_update(DealHandoffWorkflow.intro, update)
        recipients, message = await assert_eventually(lambda: received(inbox))
    assert recipients == ["erin.walsh@example.com", "maria.lopez@example.com", "priya@acme.example"]
    [calendar] = [part for part in message.walk() if part.get_content_type() == "text/calendar"]
    assert calendar.get_param("method") == "REQUEST"
    ics = calendar.get_payload(decode=True).decode()
    assert ics.endswith("\r\n") and all(len(line.encode()) <= 75 for line in ics.split("\r\n"))
    lines = ics.replace("\r\n ", "").split("\r\n")
    assert f"DTSTART:{at.strftime('%Y%m%dT%H%M%SZ')}" in lines and "SEQUENCE:0" in lines
    attendees = sorted(line.rpartition("mailto:")[2] for line in lines if line.startswith("ATTENDEE"))
    assert attendees == ["erin.walsh@example.com", "maria.lopez@example.com", "priya@acme.example"]


@pytest.mark.parametrize("style", list(IntroStyle))
def test_every_shipped_template_renders_with_a_subject(style):
    people = [
        Recipient(id="maria", name="Maria Lopez", email="maria.lopez@example.com", audience=[Audience.AE]),
        Recipient(id="erin", name="Erin Walsh", email="erin.walsh@example.com", audience=[Audience.CSM]),
    ]
    intro = Introduction(
        key="k",
        workflow_id="baton-hubspot-1",
        style=style,
        at=AT,
        account="Acme Corp",
        audience=[Audience.AE, Audience.CSM],
        contacts=customer_contacts(style, DOCUMENT),
        goals=DOCUMENT.goals,
    )
    templates = Templates()
    steps = [1, 2, 3] if style is IntroStyle.WELCOME_SEQUENCE else [1]
    for step in steps:
        subject, body = templates.render(compose(intro.model_copy(update={"step": step}), people))
        assert subject and "\n" not in subject and body.strip()
        assert "Acme Corp" in subject + body


def test_an_empty_document_still_renders():
    intro = Introduction(
        key="k",
        workflow_id="w",
        style=IntroStyle.INTRO_EMAIL,
        at=AT,
        account="",
        audience=[],
        contacts=customer_contacts(IntroStyle.INTRO_EMAIL, HandoffDocument()),
    )
    subject, body = Templates().render(compose(intro, []))
    assert "your customer success manager" in subject and "Hi there," in body
