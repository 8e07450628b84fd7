import pytest
from pydantic import ValidationError

from domain.document import Contact, ContactRole, FieldName, HandoffDocument, SalesConversations
from domain.field_rules import EMPTY, GENERIC, SPECIFIC, Judgement, is_placeholder, judge, judge_all

pytestmark = pytest.mark.unit


def _sentence(reason: str) -> None:
    assert reason.strip() and not reason[0].islower() and reason.endswith(".")


def _check(field: FieldName, document: HandoffDocument, status: float, mentions: str) -> None:
    judgement = judge(field, document)
    assert judgement.status == status, judgement.reason
    _sentence(judgement.reason)
    assert mentions.lower() in judgement.reason.lower()


SEED_GOAL = "reduce cost per lead from $180 to $120 within 6 months by automating lead scoring"


@pytest.mark.parametrize(
    ("text", "status", "mentions"),
    [
        (SEED_GOAL, SPECIFIC, "measurable target"),
        ("Cut onboarding time by 30% by Q3 for the support team", SPECIFIC, "timeframe"),
        ("Grow active users to 5,000 by 2027-03-31 across regions", SPECIFIC, "timeframe"),
        ("Halve ticket backlog this quarter for the EMEA team", SPECIFIC, "timeframe"),
        ("TBD", GENERIC, "placeholder"),
        ("see notes", GENERIC, "placeholder"),
        ("N/A", GENERIC, "placeholder"),
        ("improve efficiency", GENERIC, "measurable target"),
        ("Improve efficiency across the sales org with automation", GENERIC, "no target"),
        ("Reduce churn by 10% for mid-market accounts", GENERIC, "no timeframe"),
        ("Launch the new portal within 6 months for partners", GENERIC, "no target"),
        ("Reduce churn", GENERIC, "under 4 words"),
        ("", EMPTY, "goals"),
        ("   \n", EMPTY, "goals"),
    ],
)
def test_goals(text: str, status: float, mentions: str) -> None:
    _check(FieldName.GOALS, HandoffDocument(goals=text), status, mentions)


def test_date_digits_are_not_a_target() -> None:
    document = HandoffDocument(goals="Roll out automation to everyone by March 31, 2027")
    judgement = judge(FieldName.GOALS, document)
    assert judgement.status == GENERIC
    assert "no target" in judgement.reason.lower()


@pytest.mark.parametrize(
    ("text", "status", "mentions"),
    [
        ("First response time under 2 hours for P1 tickets", SPECIFIC, "measurable target"),
        ("Weekly active usage at least 80% of licensed seats", SPECIFIC, "measurable target"),
        ("Cost per lead from $180 to $120 within 6 months", SPECIFIC, "measurable target"),
        ("NPS of 40 by end of year among admins", SPECIFIC, "measurable target"),
        ("Customer is happy with the rollout overall", GENERIC, "no target"),
        ("Achieve 95 percent adoption eventually across teams", GENERIC, "no timeframe or comparison"),
        ("better visibility into pipeline for leadership", GENERIC, "boilerplate"),
        ("TBC", GENERIC, "placeholder"),
        ("", EMPTY, "success criteria"),
    ],
)
def test_success_criteria(text: str, status: float, mentions: str) -> None:
    _check(FieldName.SUCCESS_CRITERIA, HandoffDocument(success_criteria=text), status, mentions)


def _contact(name: str, role: ContactRole | None = ContactRole.CHAMPION, notes: str = "Ran the pilot") -> Contact:
    return Contact(name=name, title="VP Operations", role=role, notes=notes)


COMPLETE = [
    _contact("Ana Ruiz"),
    _contact("Ben Okafor", ContactRole.DECISION_MAKER, "Signed off budget"),
    _contact("Chen Wu", ContactRole.BLOCKER, "Worried about SSO"),
]


@pytest.mark.parametrize(
    ("contacts", "status", "mentions"),
    [
        (COMPLETE, SPECIFIC, "3 contacts"),
        (COMPLETE + [Contact(name="Dee Park")], SPECIFIC, "3 contacts"),
        (COMPLETE[:2], GENERIC, "2 of 3 contacts complete"),
        (COMPLETE[:2] + [_contact("Dana Lee", notes="")], GENERIC, "Dana Lee lacks notes"),
        (COMPLETE[:2] + [_contact("Dana Lee", role=None)], GENERIC, "Dana Lee lacks role"),
        (COMPLETE[:2] + [_contact("Dana Lee", notes="TBD")], GENERIC, "Dana Lee lacks notes"),
        ([Contact(name="Solo Person")], GENERIC, "lacks title, role and notes; add 2 more contacts"),
        ([Contact(email="a@x.com"), Contact(email="b@x.com"), Contact(email="c@x.com")], EMPTY, "no named"),
        ([Contact(name="TBD", email="a@x.com")], EMPTY, "no named"),
        ([], EMPTY, "no named"),
    ],
)
def test_stakeholders(contacts: list[Contact], status: float, mentions: str) -> None:
    _check(FieldName.STAKEHOLDERS, HandoffDocument(stakeholders=contacts), status, mentions)


@pytest.mark.parametrize(
    ("text", "status", "mentions"),
    [
        ("IT team resisted the last vendor rollout and may stall SSO", SPECIFIC, "concrete concern"),
        ("None identified after security review by CISO; budget approved", SPECIFIC, "concrete concern"),
        ("No risks", GENERIC, "under 6 words"),
        ("none", GENERIC, "placeholder"),
        ("Low risk, standard deal, nothing unusual expected here", GENERIC, "without saying why"),
        ("Champion may leave", GENERIC, "under 6 words"),
        ("", EMPTY, "risks"),
    ],
)
def test_risks(text: str, status: float, mentions: str) -> None:
    _check(FieldName.RISKS, HandoffDocument(risks=text), status, mentions)


@pytest.mark.parametrize(
    ("text", "status", "mentions"),
    [
        ("Enterprise tier, 250 seats, plus analytics module", SPECIFIC, "products"),
        ("core platform with a custom Salesforce integration", SPECIFIC, "products"),
        ("our platform", GENERIC, "under 4 words"),
        ("the standard package for the whole company", GENERIC, "no product"),
        ("see attached", GENERIC, "placeholder"),
        ("", EMPTY, "scope"),
    ],
)
def test_scope(text: str, status: float, mentions: str) -> None:
    _check(FieldName.SCOPE, HandoffDocument(scope=text), status, mentions)


@pytest.mark.parametrize(
    ("talk", "status", "mentions"),
    [
        (
            SalesConversations(
                commitments=["Dedicated onboarding engineer for 60 days"],
                concessions=["15% discount in exchange for a case study"],
            ),
            SPECIFIC,
            "commitments",
        ),
        (SalesConversations(commitments=["Custom SSO before go-live"]), GENERIC, "objection or concession"),
        (SalesConversations(commitments=["SSO"], objections=["Price too high"]), GENERIC, "4 words"),
        (SalesConversations(objections=["Worried about data migration effort"]), GENERIC, "commitment"),
        (SalesConversations(), EMPTY, "no commitments"),
        # Placeholders are generic here as in every other field (issue 12), not empty.
        (SalesConversations(commitments=["TBD"], objections=["see notes", "-"]), GENERIC, "placeholder"),
    ],
)
def test_sales_conversations(talk: SalesConversations, status: float, mentions: str) -> None:
    _check(FieldName.SALES_CONVERSATIONS, HandoffDocument(sales_conversations=talk), status, mentions)


@pytest.mark.parametrize(
    ("text", "status", "mentions"),
    [
        ("24-month term, billed quarterly, net 30", SPECIFIC, "term length"),
        ("12 months, renews 2026-06-30", SPECIFIC, "term length"),
        ("Annual contract paid upfront", SPECIFIC, "term length"),
        ("36 mo, auto-renewal with 60 days notice", SPECIFIC, "term length"),
        ("12 months", GENERIC, "renewal date or billing schedule"),
        ("Billed monthly by invoice", GENERIC, "term length"),
        ("standard terms", GENERIC, "term length"),
        ("see CRM", GENERIC, "placeholder"),
        ("", EMPTY, "contract terms"),
    ],
)
def test_contract_terms(text: str, status: float, mentions: str) -> None:
    _check(FieldName.CONTRACT_TERMS, HandoffDocument(contract_terms=text), status, mentions)


@pytest.mark.parametrize(
    ("text", "status", "mentions"),
    [
        ("Slack for day-to-day, weekly Zoom on Tuesdays", SPECIFIC, "channel"),
        ("Email only; no calls on Fridays, based in PST", SPECIFIC, "channel"),
        ("Phone after 2pm", SPECIFIC, "channel"),
        ("Prefers email", GENERIC, "cadence or availability"),
        ("Weekly sync with the champion", GENERIC, "a channel"),
        ("ask AE", GENERIC, "placeholder"),
        ("", EMPTY, "communication preferences"),
    ],
)
def test_communication_preferences(text: str, status: float, mentions: str) -> None:
    document = HandoffDocument(communication_preferences=text)
    _check(FieldName.COMMUNICATION_PREFERENCES, document, status, mentions)


@pytest.mark.parametrize(
    "text",
    [
        "TBD",
        "tbd.",
        "N/A",
        "n/a",
        "none",
        "-",
        "?",
        "See notes",
        "see attached",
        "see CRM",
        "Ask AE!",
        "same as above",
        "Unknown",
        "todo",
        "TBD - see notes",
        "Improve efficiency.",
        "streamline processes",
    ],
)
def test_placeholders(text: str) -> None:
    assert is_placeholder(text)


@pytest.mark.parametrize(
    "text", ["", "   ", "Noneuclidean analytics module", "improve efficiency by 20% in Q3", "Tbd rollout of SSO"]
)
def test_not_placeholders(text: str) -> None:
    assert not is_placeholder(text)


def test_judge_all_covers_every_field() -> None:
    results = judge_all(HandoffDocument(goals=SEED_GOAL))
    assert set(results) == set(FieldName)
    assert results[FieldName.GOALS].status == SPECIFIC
    assert all(j.status == EMPTY for f, j in results.items() if f is not FieldName.GOALS)


def test_judge_accepts_plain_string_field_names() -> None:
    assert judge("goals", HandoffDocument(goals=SEED_GOAL)).status == SPECIFIC  # type: ignore[arg-type]


def test_judgement_is_frozen_and_status_is_constrained() -> None:
    judgement = Judgement(status=GENERIC, reason="Something.")
    with pytest.raises(ValidationError):
        judgement.status = SPECIFIC  # type: ignore[misc]
    with pytest.raises(ValidationError):
        Judgement(status=0.7, reason="Something.")
