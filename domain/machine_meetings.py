"""How the customer meets CS: the welcome sequence or the intro, the first touch, and the kickoff."""

from __future__ import annotations

from typing import Any

from domain.approach_policy import IntroStyle
from domain.errors import ErrorType, Refused
from domain.field_rules import filled
from domain.machine_children import Children
from domain.machine_deadlines import Deadlines
from domain.machine_handoff import Handoff
from domain.messages import FirstTouch, IntroAction, IntroUpdate, KickoffHeld
from domain.roles import SlaName
from domain.timeline import Kind


class Meetings:
    def __init__(self, handoff: Handoff, deadlines: Deadlines, children: Children) -> None:
        self._h = handoff
        self._deadlines = deadlines
        self._children = children

    def welcome(self) -> None:
        """Once the CSM is briefed: approaches without an intro meeting start the templated sequence."""
        if self._h.profile.intro is IntroStyle.WELCOME_SEQUENCE:
            self._h.journal.notify(
                "welcome_sequence",
                ["customer"],
                "Welcome sequence started",
                f"Templated welcome sequence sent to {self._h.state.deal.account}.",
            )

    def check_intro(self, msg: IntroUpdate) -> None:
        h = self._h
        h.refuse_if_ended()
        h.refuse_unless_won()
        facts = h.state.facts
        if not h.has_intro:
            raise Refused(ErrorType.INVALID_TRANSITION, f"{h.approach.value} handoffs have no intro meeting")
        if msg.action is IntroAction.SCHEDULED and facts.intro_held_at:
            raise Refused(ErrorType.INVALID_TRANSITION, "the intro has already been held")
        if msg.action is IntroAction.HELD and facts.intro_scheduled_at is None:
            raise Refused(ErrorType.INVALID_TRANSITION, "the intro cannot be held before it is scheduled")
        if msg.action is IntroAction.HELD and facts.intro_held_at:
            raise Refused(ErrorType.INVALID_TRANSITION, "the intro has already been held")

    def apply_intro(self, msg: IntroUpdate) -> None:
        h = self._h
        facts = h.state.facts
        details: dict[str, Any] = {"message": f"intro_{msg.action.value}", "by": msg.by}
        if msg.action is IntroAction.SCHEDULED:
            facts.intro_scheduled_at = facts.intro_scheduled_at or h.now
            facts.intro_scheduled_for = msg.scheduled_for
            if msg.scheduled_for:
                details["scheduled_for"] = msg.scheduled_for.isoformat()
            h.journal.record(Kind.MESSAGE, **details)
            self._deadlines.meet(SlaName.INTRO_SCHEDULED)
        else:
            facts.intro_held_at = h.now
            h.journal.record(Kind.MESSAGE, **details)
            self._deadlines.meet(SlaName.INTRO_HELD)
            self._deadlines.pull_kickoff_forward(h.now)

    def check_first_touch(self, msg: FirstTouch) -> None:
        self._h.refuse_if_ended()
        self._h.refuse_unless_won()

    def apply_first_touch(self, msg: FirstTouch) -> None:
        h = self._h
        h.state.facts.first_touch_at = h.state.facts.first_touch_at or h.now
        h.journal.record(
            Kind.MESSAGE,
            message="first_touch",
            by=msg.by,
            channel=msg.channel,
            with_implementation_owner=msg.with_implementation_owner,
        )
        self._deadlines.meet(SlaName.CS_FIRST_TOUCH)
        if msg.with_implementation_owner:
            h.state.facts.implementation_owner_contacted_at = h.now
            self._deadlines.meet(SlaName.IMPL_OWNER_CONTACT)

    def check_kickoff(self, msg: KickoffHeld) -> None:
        h = self._h
        h.refuse_if_ended()
        h.refuse_unless_won()
        facts = h.state.facts
        if facts.kickoff_at:
            raise Refused(ErrorType.INVALID_TRANSITION, "the kickoff has already been held")
        if facts.briefed_at is None:
            raise Refused(ErrorType.INVALID_TRANSITION, "the CSM's intake review comes before the kickoff")
        if h.has_intro and facts.intro_held_at is None:
            raise Refused(ErrorType.INVALID_TRANSITION, "the intro is held before the kickoff")
        decision = h.state.approach
        if (
            decision is not None
            and decision.requires_implementation_plan
            and not filled(h.state.document.implementation_plan)
        ):
            raise Refused(
                ErrorType.INVALID_TRANSITION,
                "implementation_plan: professional services are attached, so the document's implementation plan"
                " is filled in before the kickoff",
            )

    def apply_kickoff(self, msg: KickoffHeld) -> None:
        h = self._h
        h.state.facts.kickoff_at = h.now
        h.state.success_plan = list(msg.success_plan)
        h.journal.record(Kind.MESSAGE, message="kickoff_held", by=msg.by, success_plan=msg.success_plan)
        self._deadlines.meet(SlaName.KICKOFF)
        self._children.start_onboarding()
