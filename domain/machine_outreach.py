"""Reaching the customer and the people around the deal, by approach (the people rules only).

- The introduction (domain/introductions.py says who gets what): the welcome sequence once the CSM is
  briefed (automated), the intro e-mail on the AE's behalf, the three-way introduction with the
  partner, or the internal note to the existing CSM once the deal is won and has its CSM; for a live
  call, a calendar invitation each time the intro is scheduled with its time.
- White glove: the AE joins the first CS calls (the intro, the first touch and the kickoff count as
  those calls) and stays in a transition period from the intro held, with a notice when it ends.
- Partner-mediated: the partner manager hears of each step the seeds' partner guidance names: the
  close, the CSM assigned, the intro scheduled, the kickoff and the 30-day check.

Runs started before the people rules (`state.people_rules` False) do none of this, so their histories
replay as they were recorded.
"""

from __future__ import annotations

from datetime import datetime

from domain.approach_kinds import Approach
from domain.approach_policy import IntroStyle
from domain.document import Contact
from domain.effects import Introduce
from domain.introductions import Introduction, OutgoingIntroduction, customer_contacts, partner_contact
from domain.machine_handoff import Handoff
from domain.messages import IntroAction, IntroUpdate
from domain.recipients import Audience, Resolution
from domain.timeline import Kind

# The introduction sent once the deal is won and has its CSM.
_ON_CSM = (IntroStyle.INTRO_EMAIL, IntroStyle.THREE_WAY, IntroStyle.INTERNAL_NOTE)

_AUDIENCE = {
    IntroStyle.WELCOME_SEQUENCE: [Audience.CSM, Audience.AE],
    IntroStyle.INTRO_EMAIL: [Audience.AE, Audience.CSM],
    IntroStyle.LIVE_CALL: [Audience.AE, Audience.CSM],
    IntroStyle.THREE_WAY: [Audience.AE, Audience.CSM, Audience.PARTNER_MANAGER],
    IntroStyle.INTERNAL_NOTE: [Audience.CSM, Audience.AE],
}

# What the partner manager is told at each step (the event names the step).
_PARTNER_STEPS = {
    "closed": "is closed won: the handoff to customer success has started",
    "csm_assigned": "has its CSM",
    "intro_scheduled": "has its introduction scheduled",
    "kickoff": "held its onboarding kickoff",
    "check": "had its 30-day check",
}


class Outreach:
    def __init__(self, handoff: Handoff) -> None:
        self._h = handoff

    @property
    def _on(self) -> bool:
        return self._h.state.people_rules and not self._h.state.ended

    # ---- the steps of the handoff ------------------------------------------------------------

    def won(self) -> None:
        if not self._on:
            return
        self._tell_partner("closed")
        self._introduce_if_ready()

    def csm_assigned(self) -> None:
        if not self._on or self._h.state.facts.won_at is None:
            return
        self._tell_partner("csm_assigned", f"{self._h.state.owners.csm} is the CSM")
        self._introduce_if_ready()

    def briefed(self) -> None:
        """The CSM accepted the document: the welcome sequence starts; a white-glove AE is asked in."""
        h = self._h
        if not self._on:
            return
        outreach = h.state.outreach
        if h.profile.intro is IntroStyle.WELCOME_SEQUENCE and outreach.welcome_started_at is None:
            outreach.welcome_started_at = h.now
            self._welcome_step()
        calls = h.profile.ae_joins_first_calls
        if calls:
            h.journal.notify(
                "ae_joins_calls",
                [Audience.AE, Audience.CSM],
                f"The AE joins the first {calls} CS calls with {h.state.deal.account}",
                f"{h.state.deal.account} is white glove: invite the AE to the first {calls} CS calls "
                "(the intro, the first touch and the kickoff).",
                {"calls": calls},
            )
        if not h.has_intro:
            self._start_transition()

    def intro(self, msg: IntroUpdate) -> None:
        h = self._h
        if not self._on:
            return
        if msg.action is IntroAction.SCHEDULED:
            when = msg.scheduled_for.isoformat() if msg.scheduled_for else "time to be set"
            self._tell_partner("intro_scheduled", when)
            if h.profile.intro is IntroStyle.LIVE_CALL and msg.scheduled_for is not None:
                self._invite(msg.scheduled_for)
        else:
            self._ae_call("intro")
            self._start_transition()

    def first_touch(self) -> None:
        if self._on:
            self._ae_call("first_touch")

    def kickoff(self) -> None:
        if not self._on:
            return
        self._ae_call("kickoff")
        self._tell_partner("kickoff")

    def check_finished(self, passed: bool | None) -> None:
        if self._on:
            self._tell_partner("check", "passed" if passed else "did not pass: CS follows up")

    def closing(self) -> None:
        """The handoff is ending: a transition period still running ends with it."""
        outreach = self._h.state.outreach
        if self._h.state.people_rules and outreach.transition_until and outreach.transition_ended_at is None:
            self._end_transition(self._h.now, reason="the handoff closed")

    # ---- time --------------------------------------------------------------------------------

    def tick(self) -> None:
        h = self._h
        if not self._on:
            return
        outreach = h.state.outreach
        if outreach.transition_until and outreach.transition_ended_at is None and outreach.transition_until <= h.now:
            self._end_transition(outreach.transition_until)
        while (due := self._next_welcome()) is not None and due <= h.now:
            self._welcome_step()

    def next_wake(self) -> tuple[datetime, str] | None:
        if not self._on:
            return None
        outreach = self._h.state.outreach
        wakes: list[tuple[datetime, str]] = []
        if outreach.transition_until and outreach.transition_ended_at is None:
            wakes.append((outreach.transition_until, "AE transition period ends"))
        if (due := self._next_welcome()) is not None:
            wakes.append((due, f"welcome message {outreach.welcome_sent + 1}"))
        return min(wakes, key=lambda wake: wake[0]) if wakes else None

    # ---- what was sent (the workflow and the simulator, once its people are known) -------------

    def introduced(self, intro: Introduction, outgoing: OutgoingIntroduction, resolution: Resolution) -> None:
        """On the timeline: the style, Baton's people it went to, and the customer's contacts by name
        and count (never an address)."""
        self._h.journal.record(
            Kind.INTRODUCED,
            style=intro.style.value,
            step=intro.step if intro.style is IntroStyle.WELCOME_SEQUENCE else None,
            sequence=intro.sequence if intro.style is IntroStyle.LIVE_CALL else None,
            scheduled_for=intro.scheduled_for.isoformat() if intro.scheduled_for else None,
            people=outgoing.people,
            contacts=outgoing.contacts,
            customers=len(outgoing.contacts),
            sent=outgoing.sendable,
            unresolved=[place.value for place in resolution.unresolved] or None,
            key=intro.key,
        )

    # ---- private -----------------------------------------------------------------------------

    def _introduce_if_ready(self) -> None:
        h = self._h
        s = h.state
        if h.profile.intro not in _ON_CSM or s.outreach.introduced or not s.owners.csm or s.facts.won_at is None:
            return
        s.outreach.introduced = True
        self._ask(h.profile.intro, number=1)

    def _welcome_step(self) -> None:
        outreach = self._h.state.outreach
        outreach.welcome_sent += 1
        self._ask(IntroStyle.WELCOME_SEQUENCE, number=outreach.welcome_sent, step=outreach.welcome_sent)

    def _next_welcome(self) -> datetime | None:
        h = self._h
        outreach = h.state.outreach
        follow_ups = h.profile.welcome_follow_ups
        if (
            outreach.welcome_started_at is None
            or h.state.facts.kickoff_at is not None
            or outreach.welcome_sent > len(follow_ups)
        ):
            return None
        return h.policy.calendar.add(outreach.welcome_started_at, follow_ups[outreach.welcome_sent - 1])

    def _invite(self, scheduled_for: datetime) -> None:
        outreach = self._h.state.outreach
        outreach.invitations += 1
        self._ask(
            IntroStyle.LIVE_CALL,
            number=outreach.invitations,
            scheduled_for=scheduled_for,
            sequence=outreach.invitations - 1,
        )

    def _ask(
        self,
        style: IntroStyle,
        number: int,
        step: int = 1,
        scheduled_for: datetime | None = None,
        sequence: int = 0,
    ) -> None:
        h = self._h
        s = h.state
        document = s.document
        contacts = customer_contacts(style, document)
        partner = partner_contact(document) if style is IntroStyle.THREE_WAY else None
        warning = _missing(style, contacts, partner)
        if warning:
            h.journal.record(Kind.WARNING, message=warning, intro=style.value)
        if style is IntroStyle.WELCOME_SEQUENCE and not contacts:
            return
        if style is IntroStyle.INTRO_EMAIL and not contacts:
            return
        h.journal.ask(
            Introduce(
                Introduction(
                    key=f"{s.workflow_id}:intro:{style.value}:{number}",
                    workflow_id=s.workflow_id,
                    style=style,
                    at=h.now,
                    account=s.deal.account,
                    audience=list(_AUDIENCE[style]),
                    contacts=contacts,
                    step=step,
                    scheduled_for=scheduled_for,
                    sequence=sequence,
                    goals=document.goals,
                    success_criteria=document.success_criteria,
                    scope=document.scope,
                    partner=s.deal.channel_partner or "",
                    partner_contact=partner,
                )
            )
        )

    def _tell_partner(self, step: str, detail: str = "") -> None:
        h = self._h
        if h.approach is not Approach.PARTNER_MEDIATED:
            return
        s = h.state
        s.outreach.partner_told.append(step)
        what = _PARTNER_STEPS[step]
        h.journal.notify(
            f"partner_{step}",
            [Audience.PARTNER_MANAGER],
            f"{s.deal.account or s.deal.deal_id}: {what.split(':')[0]}",
            f"{s.deal.account} (through {s.deal.channel_partner or 'the partner'}) {what}"
            + (f" ({detail})." if detail else "."),
            {"step": step},
        )

    def _ae_call(self, call: str) -> None:
        h = self._h
        outreach = h.state.outreach
        calls = h.profile.ae_joins_first_calls
        if call in outreach.ae_calls or len(outreach.ae_calls) >= calls:
            return
        outreach.ae_calls.append(call)
        h.journal.record(Kind.AE_CALL, call=call, number=len(outreach.ae_calls), of=calls)

    def _start_transition(self) -> None:
        h = self._h
        outreach = h.state.outreach
        span = h.profile.transition
        if outreach.transition_until is not None or span.amount == 0:
            return
        outreach.transition_until = h.policy.calendar.add(h.now, span)
        h.journal.record(Kind.AE_TRANSITION_STARTED, until=outreach.transition_until.isoformat(), span=str(span))

    def _end_transition(self, at: datetime, reason: str = "") -> None:
        h = self._h
        h.state.outreach.transition_ended_at = at
        h.journal.record(Kind.AE_TRANSITION_ENDED, at=at, reason=reason or None)
        h.journal.notify(
            "ae_transition_ended",
            [Audience.AE],
            f"Your transition on {h.state.deal.account} is over",
            f"{h.state.deal.account}: your transition period has ended"
            + (f" ({reason})" if reason else "")
            + "; the CSM owns the relationship from here.",
        )


def _missing(style: IntroStyle, contacts: list[Contact], partner: Contact | None) -> str:
    """Why the customer gets nothing (or less than the style asks for), for the timeline."""
    if style is IntroStyle.INTERNAL_NOTE or contacts:
        return ""
    match style:
        case IntroStyle.WELCOME_SEQUENCE:
            return "no contact in the document has an e-mail address: the welcome message is not sent"
        case IntroStyle.INTRO_EMAIL:
            return "no champion, sponsor or decision maker with an e-mail address: the intro e-mail is not sent"
        case IntroStyle.LIVE_CALL:
            return "the executive sponsor has no e-mail address: the invitation goes to the AE and the CSM only"
        case IntroStyle.THREE_WAY:
            if partner is None:
                return "the partner context names no partner contact with an e-mail address"
            return ""
    return ""
