"""A handoff's notices and introductions: their places resolved to people, recorded, then sent.

The places of everything asked for at one instant are resolved together by one local activity (the
directory read as they go out), one batch at a time, so the timeline hears of them in the order the
rules asked, whatever order outside calls finish in. Each then goes out as an activity of its own in
the background: a notice through every sink, an introduction by e-mail.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.introductions import IntroductionActivities
    from activities.notify import NotifyActivities
    from activities.recipients import RecipientActivities, ResolveRecipients
    from domain import effects as fx
    from domain.csm_choice import assignment_day
    from domain.introductions import Introduction, compose
    from domain.machine import HandoffMachine
    from domain.notifications import Notification
    from domain.policy import Policy
    from domain.recipients import Audience, Recipient, Resolution
    from domain.timeline import Kind
    from workflows.call_policy import (
        ATTEMPT_TIMEOUT,
        GAVE_UP,
        LOCAL_RETRY_WITHIN,
        RETRY_THROUGH_OUTAGES,
        SIDE_EFFECT_WITHIN,
    )

Outgoing = fx.Notify | fx.Introduce


class NoticeSender:
    """`background` runs a call without holding up the handoff; `side_effect` makes one such call and
    records it on the timeline if it gives up (the effect runner's, shared with the CRM writes)."""

    def __init__(
        self,
        machine: HandoffMachine,
        policy: Policy,
        poke: Callable[[], None],
        background: Callable[[Coroutine[Any, Any, None]], None],
        side_effect: Callable[[Callable[..., Awaitable[Any]], Any, str, Kind, str], Awaitable[None]],
    ) -> None:
        self._machine = machine
        self._policy = policy
        self._poke = poke
        self._background = background
        self._side_effect = side_effect
        self._waiting: list[Outgoing] = []
        self._addressing = False

    def ask(self, effect: Outgoing) -> None:
        """A notice from a run before the people rules names its recipients already: it goes at once."""
        if isinstance(effect, fx.Notify) and effect.addressed:
            self._background(self._send(effect, effect.to, []))
        else:
            self._waiting.append(effect)

    def flush(self) -> None:
        """After the effects of one instant: resolve the notices asked for (one local step for all of
        them, in the order the rules asked), then send each. One resolve at a time, so notices reach
        the timeline in the order they were asked for, whatever order outside calls finish in."""
        if self._waiting and not self._addressing:
            self._addressing = True
            self._background(self._addresser())

    async def _addresser(self) -> None:
        try:
            while self._waiting:
                notices, self._waiting = self._waiting, []
                await self._address(notices)
        finally:
            self._addressing = False

    async def _address(self, items: list[Outgoing]) -> None:
        """The people holding each notice's (and introduction's) places today, from the directory as it
        is now; each goes on the timeline with them, then out."""
        request = ResolveRecipients(
            notices=[_places(item) for item in items],
            people=self._machine.people(),
            day=assignment_day(workflow.now(), self._policy.calendar),
        )
        try:
            resolutions: list[Resolution] = await workflow.execute_local_activity_method(
                RecipientActivities.resolve_recipients,
                request,
                start_to_close_timeout=ATTEMPT_TIMEOUT,
                schedule_to_close_timeout=SIDE_EFFECT_WITHIN,
                retry_policy=RETRY_THROUGH_OUTAGES,
                local_retry_threshold=LOCAL_RETRY_WITHIN,
                summary="recipients: " + ", ".join(_what(item) for item in items),
            )
        except GAVE_UP as err:
            for item in items:
                self._machine.note(
                    Kind.WARNING, workflow.now(), what="recipients of " + _what(item), error=str(err.cause or err)
                )
            self._poke()
            return
        sends: list[Coroutine[Any, Any, None]] = []
        for item, resolution in zip(items, resolutions, strict=True):
            if isinstance(item, fx.Notify):
                self._machine.notice_addressed(item, resolution, workflow.now())
                sends.append(self._send(item, resolution.ids, resolution.recipients))
            else:
                sends.append(self._send_introduction(item.introduction, resolution))
        self._poke()
        for send in sends:
            self._background(send)

    async def _send(self, effect: fx.Notify, to: list[str], recipients: list[Recipient]) -> None:
        deal = self._machine.state.deal
        note = Notification(
            key=effect.key,
            workflow_id=self._machine.state.workflow_id,
            event=effect.event,
            to=to,
            subject=effect.subject,
            text=effect.text,
            details=effect.details,
            recipients=recipients,
            crm=deal.crm,
            deal_id=deal.deal_id,
            zone=self._policy.calendar.timezone,
        )
        await self._side_effect(
            NotifyActivities.notify, note, f"notify: {effect.event}", Kind.WARNING, "notify " + effect.event
        )

    async def _send_introduction(self, intro: Introduction, resolution: Resolution) -> None:
        """The e-mail composed for the people resolved (and on the timeline), then sent."""
        outgoing = compose(intro, resolution.recipients)
        self._machine.introduced(intro, outgoing, resolution, workflow.now())
        if not outgoing.sendable:
            return
        style = intro.style.value
        await self._side_effect(
            IntroductionActivities.send_introduction,
            outgoing,
            f"introduction: {style}",
            Kind.WARNING,
            f"introduction {style}",
        )


def _places(item: Outgoing) -> list[Audience]:
    if isinstance(item, fx.Notify):
        return [Audience(place) for place in item.to]
    return list(item.introduction.audience)


def _what(item: Outgoing) -> str:
    return item.event if isinstance(item, fx.Notify) else "introduction " + item.introduction.style.value
