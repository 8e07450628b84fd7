"""Who an introduction goes to, by approach, and the calendar invitation it carries (RFC 5545 checked
line by line: CRLF, folding at 75 octets, escaped text, UTC times)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from domain.approach_policy import IntroStyle
from domain.document import Contact, ContactRole, HandoffDocument, PartnerContext
from domain.introductions import (
    Address,
    Introduction,
    compose,
    customer_contacts,
    escape_text,
    fold,
    invitation,
    invitation_uid,
    partner_contact,
)
from domain.recipients import Audience, Recipient

pytestmark = pytest.mark.unit

SPONSOR = Contact(name="Priya Raman", role=ContactRole.EXECUTIVE_SPONSOR, email="priya@acme.example")
CHAMPION = Contact(name="Dana Lee", role=ContactRole.CHAMPION, email="dana@acme.example")
IT = Contact(name="Sam Okafor", role=ContactRole.IT, email="sam@acme.example")
NO_ADDRESS = Contact(name="Noor Haddad", role=ContactRole.CHAMPION)
DOC = HandoffDocument(stakeholders=[SPONSOR, CHAMPION, IT, NO_ADDRESS], goals="Cut cost per lead, by Q3; then scale")
AE = Recipient(id="maria", name="Maria Lopez", email="maria.lopez@example.com", audience=[Audience.AE])
CSM = Recipient(id="erin", name="Erin Walsh", email="erin.walsh@example.com", audience=[Audience.CSM])
PAM = Recipient(id="pam", name="Pam Ito", email="pam.ito@example.com", audience=[Audience.PARTNER_MANAGER])
RITA = Recipient(id="rita", name="Rita Osei", email="rita.osei@example.com", audience=[Audience.REVOPS])
AT = datetime(2026, 3, 9, 14, 0, tzinfo=UTC)


def intro(style: IntroStyle, document: HandoffDocument = DOC, **fields) -> Introduction:
    values = dict(
        key=f"baton-hubspot-4242:intro:{style.value}:1",
        workflow_id="baton-hubspot-4242",
        style=style,
        at=AT,
        account="Acme, Inc.",
        audience=[Audience.AE, Audience.CSM, Audience.PARTNER_MANAGER],
        contacts=customer_contacts(style, document),
        goals=document.goals,
        partner_contact=partner_contact(document),
    )
    values.update(fields)
    return Introduction(**values)


def emails(addresses: list[Address]) -> list[str]:
    return [a.email for a in addresses]


@pytest.mark.parametrize(
    ("style", "names"),
    [
        (IntroStyle.WELCOME_SEQUENCE, ["Priya Raman", "Dana Lee", "Sam Okafor"]),
        (IntroStyle.INTRO_EMAIL, ["Dana Lee"]),
        (IntroStyle.LIVE_CALL, ["Priya Raman"]),
        (IntroStyle.THREE_WAY, []),  # the partner has not shared its end-customer contacts
        (IntroStyle.INTERNAL_NOTE, []),
    ],
)
def test_each_style_reaches_only_contacts_with_an_address(style, names):
    assert [c.name for c in customer_contacts(style, DOC)] == names


def test_the_intro_email_falls_back_to_the_sponsor_and_nobody_without_an_address():
    without_champion = HandoffDocument(stakeholders=[NO_ADDRESS, SPONSOR])
    assert customer_contacts(IntroStyle.INTRO_EMAIL, without_champion) == [SPONSOR]
    assert customer_contacts(IntroStyle.INTRO_EMAIL, HandoffDocument(stakeholders=[NO_ADDRESS])) == []
    # An address that is not one (a CRM's "n/a") is no address.
    odd = HandoffDocument(stakeholders=[CHAMPION.model_copy(update={"email": "n/a"})])
    assert customer_contacts(IntroStyle.WELCOME_SEQUENCE, odd) == []


def test_the_structured_intro_goes_to_the_champion_with_the_csm_in_cc_and_the_ae_as_reply_to():
    out = compose(intro(IntroStyle.INTRO_EMAIL), [AE, CSM])
    assert emails(out.to) == ["dana@acme.example"] and emails(out.cc) == ["erin.walsh@example.com"]
    assert out.reply_to == Address(name="Maria Lopez", email="maria.lopez@example.com")
    assert (out.template, out.contacts, out.people, out.ics) == ("intro_email", ["Dana Lee"], ["erin"], None)
    assert out.context["greeting_name"] == "Dana" and out.context["goals"] == DOC.goals


def test_a_fallback_recipient_never_reaches_the_customer():
    # The CSM's place was unresolved: RevOps stands in for notices, never on a customer e-mail.
    out = compose(intro(IntroStyle.INTRO_EMAIL), [AE, RITA])
    assert emails(out.to) == ["dana@acme.example"] and out.cc == [] and "rita" not in out.people


def test_the_live_call_invites_the_ae_the_csm_and_the_sponsor():
    out = compose(intro(IntroStyle.LIVE_CALL, scheduled_for=AT + timedelta(days=2)), [AE, CSM])
    assert emails(out.to) == ["maria.lopez@example.com", "erin.walsh@example.com", "priya@acme.example"]
    assert out.ics is not None and out.ics.count("ATTENDEE") == 3
    assert "ORGANIZER;CN=Maria Lopez:mailto:maria.lopez@example.com" in out.ics
    # Scheduled without its time: nothing to put in a calendar.
    assert compose(intro(IntroStyle.LIVE_CALL), [AE, CSM]).ics is None


def test_the_three_way_intro_goes_to_the_partner_contact_and_manager_with_the_csm_and_ae_in_cc():
    shared = DOC.model_copy(
        update={
            "partner_context": PartnerContext(
                partner_contact=Contact(name="Ola Berg", email="ola@northwind.example"),
                end_customer_contacts_shared=True,
            )
        }
    )
    out = compose(intro(IntroStyle.THREE_WAY, shared, partner="Northwind Partners"), [AE, CSM, PAM])
    assert emails(out.to) == ["ola@northwind.example", "pam.ito@example.com", "dana@acme.example"]
    assert emails(out.cc) == ["erin.walsh@example.com", "maria.lopez@example.com"]
    assert out.context["partner_contact_name"] == "Ola Berg" and out.context["partner_manager_name"] == "Pam Ito"


def test_the_internal_note_goes_to_the_existing_csm_only():
    out = compose(intro(IntroStyle.INTERNAL_NOTE), [AE, CSM])
    assert emails(out.to) == ["erin.walsh@example.com"] and out.cc == [] and out.contacts == []
    assert out.reply_to is not None and out.reply_to.email == "maria.lopez@example.com"


def test_a_welcome_message_names_its_step_and_replies_reach_the_csm():
    out = compose(intro(IntroStyle.WELCOME_SEQUENCE, step=2), [AE, CSM])
    assert out.template == "welcome_2" and len(out.to) == 3
    assert out.reply_to is not None and out.reply_to.email == "erin.walsh@example.com"


def test_one_address_is_written_once_and_never_both_to_and_cc():
    both = Recipient(id="maria", name="Maria", email="maria.lopez@example.com", audience=[Audience.AE, Audience.CSM])
    out = compose(intro(IntroStyle.LIVE_CALL, scheduled_for=AT), [both])
    assert emails(out.to) == ["maria.lopez@example.com", "priya@acme.example"]


# ---- the invitation ------------------------------------------------------------------------------


def calendar(**fields) -> str:
    values = dict(scheduled_for=datetime(2026, 3, 11, 10, 30, tzinfo=timezone(timedelta(hours=-4))))
    values.update(fields)
    attendees = [Address(name="Maria Lopez", email="maria.lopez@example.com"), Address(email="priya@acme.example")]
    return invitation(intro(IntroStyle.LIVE_CALL, **values), attendees[0], attendees)


def unfolded(ics: str) -> list[str]:
    return ics.replace("\r\n ", "").split("\r\n")[:-1]


def test_the_invitation_is_a_request_in_utc_with_crlf_lines_of_at_most_75_octets():
    ics = calendar(goals="Cut cost per lead from $180 to $120; scale to 3 regions, then EMEA.\nThen: renew. " * 3)
    assert ics.endswith("\r\n") and "\n" not in ics.replace("\r\n", "")
    assert all(len(line.encode()) <= 75 for line in ics.split("\r\n"))
    lines = unfolded(ics)
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR" and "METHOD:REQUEST" in lines
    # 10:30 at UTC-4 is 14:30 UTC; the call is 30 minutes; DTSTAMP is when the rules asked.
    assert {"DTSTART:20260311T143000Z", "DTEND:20260311T150000Z", "DTSTAMP:20260309T140000Z"} <= set(lines)
    description = next(line for line in lines if line.startswith("DESCRIPTION:"))
    assert "\\; scale to 3 regions\\, then EMEA.\\nThen: renew." in description
    assert "SUMMARY:Introduction: Acme\\, Inc. and customer success" in lines


def test_a_reschedule_keeps_the_uid_and_raises_the_sequence():
    first, moved = calendar(), calendar(sequence=1, scheduled_for=datetime(2026, 3, 12, 15, 0, tzinfo=UTC))
    uid = f"UID:{invitation_uid('baton-hubspot-4242')}"
    assert uid in unfolded(first) and uid in unfolded(moved)
    assert "SEQUENCE:0" in unfolded(first) and "SEQUENCE:1" in unfolded(moved)
    # The UID does not carry the deal id into a customer's calendar.
    assert "4242" not in uid and re.fullmatch(r"UID:[0-9a-f]{32}-intro@baton", uid)


def test_folding_never_splits_a_utf8_character_and_escaping_covers_the_specials():
    line = "DESCRIPTION:" + "Zoë " * 40
    folded = fold(line)
    assert all(len(part.encode()) <= 75 for part in folded.split("\r\n"))
    assert folded.replace("\r\n ", "") == line
    assert escape_text("a,b;c\\d\r\ne\nf") == "a\\,b\\;c\\\\d\\ne\\nf"


def test_a_name_with_a_comma_is_quoted_in_its_parameter():
    attendee = Address(name="Lee, Dana", email="dana@acme.example")
    ics = invitation(intro(IntroStyle.LIVE_CALL, scheduled_for=AT), attendee, [attendee])
    assert 'ORGANIZER;CN="Lee, Dana":mailto:dana@acme.example' in unfolded(ics)


def test_an_invitation_needs_a_time_with_a_zone():
    with pytest.raises(ValueError):
        invitation(intro(IntroStyle.LIVE_CALL), None, [])
    with pytest.raises(ValueError):
        invitation(intro(IntroStyle.LIVE_CALL, scheduled_for=datetime(2026, 3, 11, 10, 30)), None, [])


@pytest.mark.parametrize("bad", ["n/a", "dana at acme", "dana@acme", "<dana@acme.example>"])
def test_a_contact_email_is_an_address_or_nothing(bad):
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as err:
        HandoffDocument.model_validate({"stakeholders": [{"name": "Dana Lee", "email": bad}]})
    assert err.value.errors()[0]["loc"] == ("stakeholders", 0, "email")
    assert Contact(email=" dana@acme.example ").email == "dana@acme.example"
    assert Contact.model_validate({"name": "Dana", "email": None}).email == ""  # a CRM's null is no address
