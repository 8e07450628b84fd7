"""Scenarios for the differential test, as hypothesis strategies: closes on any weekday and hour, around
DST changes and holidays, every approach, documents ready, with gaps or blocked, and messages at and
around the instants the run's timers fire (deadlines, escalations, the 30-day check and its answer
window), lost deals, AE departures and deadline extensions.

Dates stay within 2016-2040, where the US DST rules are today's: `--temporal` moves a scenario by
whole 28-year cycles onto the server's clock, which keeps local times only under unchanged rules.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from tests.handoffs import GAPS_DOCUMENT, READY_DOCUMENT

NEW_YORK = ZoneInfo("America/New_York")

# Offsets from the close at and around the instants the default policy's timers fire.
TIMER_OFFSETS = [
    "+48h",  # csm_briefed, cs_first_touch
    "+47h59m59s",
    "+48h1s",
    "+72h",  # csm_briefed for partner deals
    "+3bd",  # intro_scheduled, its sales-manager escalation
    "+5bd",  # the VP escalation; intro_held
    "+5d",  # intro_held in policies written before it was 5bd
    "+10d",  # kickoff
    "+14d",  # impl_owner_contact
    "+30d",  # the 30-day check falls due; onboarding's time trigger
    "+30d1s",
    "+37d",  # the check's answers are due
    "+36d23h59m59s",
]
OTHER_OFFSETS = ["+1s", "+1h", "+20h", "+1d", "+1d2h", "+2d", "+1bd", "+2bd", "+4d", "+6d", "+8bd", "+20d", "+33d"]

HAPPY_PATH: list[dict[str, Any]] = [
    {"at": "+1d", "type": "intake_review", "body": {"rating": 4}},
    {"at": "+1d2h", "type": "first_touch", "body": {"channel": "call"}},
    {"at": "+2d", "type": "intro", "body": {"action": "scheduled"}},
    {"at": "+3bd", "type": "intro", "body": {"action": "held"}},
    {"at": "+6d", "type": "kickoff", "body": {"success_plan": ["SSO live"]}},
    {"at": "+7d", "type": "milestone", "body": {"milestone": "setup_complete"}},
    {"at": "+14d", "type": "milestone", "body": {"milestone": "training_done"}},
    {"at": "+21d", "type": "milestone", "body": {"milestone": "activation_achieved"}},
    {"at": "+30d", "type": "post_check", "body": {"enough_context": True}},
]

MILESTONES = ["setup_complete", "training_done", "activation_achieved", "first_value"]
SLAS = ["csm_briefed", "cs_first_touch", "intro_scheduled", "intro_held", "kickoff", "ae_follow_up", "post_check"]


@st.composite
def close_instant(draw: st.DrawFn) -> datetime:
    near_dst = draw(st.booleans())
    year = draw(st.integers(2016, 2040))
    if near_dst:
        month, first = draw(st.sampled_from([(3, 5), (10, 29)]))
        day = date(year, month, first) + timedelta(days=draw(st.integers(0, 10)))
    else:
        day = date(year, 1, 1) + timedelta(days=draw(st.integers(0, 364)))
    hour = draw(st.sampled_from([0, 1, 2, 3, 8, 9, 12, 15, 16, 17, 23]))
    minute = draw(st.sampled_from([0, 30, 59]))
    return datetime.combine(day, time(hour, minute), tzinfo=NEW_YORK)


def _body(kind: str) -> st.SearchStrategy[dict[str, Any]]:
    bodies: dict[str, st.SearchStrategy[dict[str, Any]]] = {
        "intake_review": st.fixed_dictionaries(
            {"rating": st.sampled_from([1, 2, 3, 4, 5, 9]), "accept": st.booleans(), "by": st.just("csm-x")}
        ),
        "first_touch": st.fixed_dictionaries(
            {"channel": st.sampled_from(["call", "email"]), "with_implementation_owner": st.booleans()}
        ),
        "intro": st.fixed_dictionaries({"action": st.sampled_from(["scheduled", "held"])}),
        "kickoff": st.just({"success_plan": ["SSO live"]}),
        "document": st.sampled_from(
            [
                {"fields": READY_DOCUMENT.model_dump(mode="json"), "submit": True},
                {"fields": {"goals": "TBD"}, "submit": True},
                {"fields": {"risks": "None"}},
            ]
        ),
        "csm": st.fixed_dictionaries({"csm": st.sampled_from(["csm-lead-pick", "csm-mm-2"])}),
        "ae_departure": st.sampled_from([{}, {"recovery_owner": "ae.sam@example.com"}]),
        "extend_deadline": st.fixed_dictionaries(
            {
                "sla": st.sampled_from(SLAS),
                "extend_by": st.sampled_from(["1d", "2bd", "4h"]),
                "reason": st.sampled_from(["customer on holiday", ""]),
            }
        ),
        "milestone": st.fixed_dictionaries({"milestone": st.sampled_from(MILESTONES)}),
        "post_check": st.fixed_dictionaries(
            {
                "enough_context": st.booleans(),
                "concerns": st.sampled_from([[], ["Slow reports"]]),
                "partner_confirmed": st.sampled_from([None, True, False]),
            }
        ),
        "stage": st.sampled_from([{"stage": "Closed Lost", "kind": "lost"}, {"stage": "Negotiation", "kind": "other"}]),
    }
    return bodies[kind]


@st.composite
def message(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(
        st.sampled_from(
            ["intake_review"] * 3
            + ["first_touch"] * 2
            + ["intro"] * 3
            + ["kickoff"] * 2
            + ["milestone"] * 3
            + ["post_check"] * 2
            + ["document", "csm", "ae_departure", "extend_deadline", "stage"]
        )
    )
    at = draw(st.sampled_from(TIMER_OFFSETS) if draw(st.booleans()) else st.sampled_from(OTHER_OFFSETS))
    return {"at": at, "type": kind, "body": draw(_body(kind))}


@st.composite
def scenario(draw: st.DrawFn) -> dict[str, Any]:
    close = draw(close_instant())
    kind = draw(st.sampled_from(["automated", "structured", "white_glove", "partner", "expansion"]))
    deal: dict[str, Any] = {
        "crm": "hubspot",
        "deal_id": "7" + str(draw(st.integers(100, 999))),
        "account": draw(st.sampled_from(["Initech", "Søren & Co", "株式会社テスト"])),
        "acv": {"automated": 12_000, "structured": 50_000, "white_glove": 150_000}.get(kind, 40_000),
        "created_at": (close - timedelta(days=draw(st.sampled_from([5, 60])))).isoformat(),
        "closed_at": close.isoformat(),
        "ae": "ae.jo@example.com",
        "sales_manager": "sm.ri@example.com",
        "vp_sales": "vp.mo@example.com",
    }
    if kind == "partner":
        deal["channel_partner"] = "Northwind Partners"
    if kind == "expansion":
        deal["deal_type"] = "expansion"
    if draw(st.booleans()):
        deal["executive_sponsor"], deal["implementation_owner"] = "Ana Sponsor", "Bo Owner"
    document = draw(st.sampled_from([None, READY_DOCUMENT, GAPS_DOCUMENT]))
    holidays = sorted(
        {
            (close.date() + timedelta(days=offset)).isoformat()
            for offset in draw(st.lists(st.integers(0, 8), max_size=2))
        }
    )
    policy: dict[str, Any] = {"calendar": {"holidays": holidays}} if holidays else {}
    if draw(st.booleans()):
        policy["commission"] = {"release": False}
    # Often a stretch of the path a handoff takes, so onboarding and the 30-day check are reached too.
    path = HAPPY_PATH[: draw(st.integers(0, len(HAPPY_PATH)))] if draw(st.booleans()) else []
    messages = path + draw(st.lists(message(), max_size=8))
    found: dict[str, Any] = {
        "deal": deal,
        "messages": messages,
        "horizon": draw(st.sampled_from(["12d", "45d"])),
        "active_users": draw(st.sampled_from([None, 0, 7])),
    }
    if document is not None:
        found["document"] = document.model_dump(mode="json")
    if policy:
        found["policy"] = policy
    return found
