"""DealHandoffWorkflow: one durable run per deal, from Closed-Won to the 30-day check."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.crm_fields import CrmDocumentChange, merge_patches
    from domain.document import HandoffDocument
    from domain.errors import ErrorType, Refused
    from domain.handoff_input import HandoffInput
    from domain.machine import HandoffMachine
    from domain.messages import (
        AeDeparture,
        ChildFinished,
        CsmAssignment,
        DeadlineExtension,
        DocumentUpdate,
        FirstTouch,
        IntakeReviewInput,
        IntroUpdate,
        KickoffHeld,
        MilestoneSignal,
        PostCheckAnswers,
        StageChanged,
    )
    from domain.state import HandoffState
    from domain.timeline import Kind
    from workflows import search_attributes

    # Shared with the sandbox, like the domain: a new run re-executes every module it does not share.
    from workflows.handoff_effects import EffectRunner
    from workflows.message_names import HandoffQuery, HandoffSignal, HandoffUpdate
    from workflows.wake_timers import TIMERS_NEVER_CANCELLED, WakeTimers

# The patch id recorded in new histories: the rules see time in whole seconds (see `_now`).
WHOLE_SECOND_CLOCK = "whole-second-clock"
# The patch id recorded in new histories: signals wait for the run's own timers due by then (see
# `_receive`); runs without it replay applying each signal as it arrives.
SIGNALS_AFTER_OWN_TIMERS = "signals-after-own-timers"
# The patch id recorded in new histories: notices go to people the directory names, resolved as each
# is sent (domain/recipients.py); runs without it keep naming roles (HandoffState.people_rules).
PEOPLE_RULES = "people-rules"

# Every patch this workflow consults. A run whose steps are local activities decides them all before
# its first one: what follows a local activity's result may land in a later workflow task than the
# result (a state read arriving meanwhile can split them), and a patch first consulted there would
# replay as not yet known, a branch the run did not take.
PATCHES = (WHOLE_SECOND_CLOCK, SIGNALS_AFTER_OWN_TIMERS, TIMERS_NEVER_CANCELLED, PEOPLE_RULES)

Message = TypeVar("Message")


@workflow.defn
class DealHandoffWorkflow:
    """Query `state`; updates for every person's message; signals `stage_changed`,
    `crm_document_changed`, `child_finished`, `milestone_reached` from the CRM and the child workflows."""

    @workflow.init
    def __init__(self, input: HandoffInput) -> None:
        self._policy = input.policy
        if input.resume is not None:
            self._m = HandoffMachine(input.resume, input.policy)
        else:
            # Whether this run has the people rules is its history's to say, first thing in `run`.
            self._m = HandoffMachine.new(workflow.info().workflow_id, input.deal, input.policy, people_rules=False)
        self._started = input.resume is not None
        self._poked = False
        recorded = 0
        if input.resume is not None and self._m.state.timeline:
            recorded = input.recorded if input.recorded is not None else self._m.state.timeline[-1].seq
        self._effects = EffectRunner(self._m, input.policy, self._poke, self._settle, recorded)
        self._shown: dict[str, object] = {}
        self._counted = recorded
        self._early: list[StageChanged] = []
        self._early_documents: list[CrmDocumentChange] = []
        self._timers = WakeTimers()
        self._inbox: list[Callable[[], None]] = []

    @workflow.run
    async def run(self, input: HandoffInput) -> HandoffState:
        if self._effects.steps_are_local():
            for patch in PATCHES:
                workflow.patched(patch)
        if not self._started:
            self._m.state.people_rules = workflow.patched(PEOPLE_RULES)
            deal, fetched_document, submitted = await self._effects.fetch_deal(input.deal, input.learned_at)
            crm_document = merge_patches(fetched_document, input.crm_document)
            document = input.document
            if submitted and crm_document is not None:
                # Submitted in the CRM: the document counts as carried by the win, as the API's would.
                document, crm_document = (document or HandoffDocument()).merged(crm_document), None
            self._m.start(deal, document, input.won, self._now(), input.learned_at, crm_document)
            self._started = True
            for signal in self._early:
                self.stage_changed(signal)
            for change in self._early_documents:
                self.crm_document_changed(change)
        while True:
            await self._settle()
            if self._inbox:
                self._inbox.pop(0)()
                self._m.tick(self._now())
                continue
            if self._m.state.ended:
                break
            if workflow.info().is_continue_as_new_suggested():
                self._effects.stop_recording()
                await self._effects.drain()
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(
                    HandoffInput(
                        deal=self._m.state.deal,
                        policy=self._policy,
                        resume=self._m.state,
                        recorded=self._effects.recorded,
                    )
                )
            await self._sleep_until_next()
            self._m.tick(self._now())
        await self._effects.drain()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._m.state

    # ---- signals (never raise: a bad one is recorded and ignored) --------------------------

    @workflow.signal(name=HandoffSignal.STAGE_CHANGED)
    def stage_changed(self, signal: StageChanged) -> None:
        if not self._started:
            # Arrived while the deal is still being fetched: apply it once the handoff has begun.
            self._early.append(signal)
            return
        self._receive(
            lambda: self._m.stage_changed(
                signal.kind, signal.stage, signal.deal, signal.document, self._now(), signal.crm_document
            )
        )

    @workflow.signal(name=HandoffSignal.CRM_DOCUMENT_CHANGED)
    def crm_document_changed(self, signal: CrmDocumentChange) -> None:
        if not self._started:
            self._early_documents.append(signal)
            return
        self._receive(lambda: self._m.crm_document_changed(signal, self._now()))

    @workflow.signal(name=HandoffSignal.CHILD_FINISHED)
    def child_finished(self, signal: ChildFinished) -> None:
        self._receive(lambda: self._m.child_finished(signal, self._now()))

    @workflow.signal(name=HandoffSignal.MILESTONE_REACHED)
    def milestone_reached(self, signal: MilestoneSignal) -> None:
        self._receive(lambda: self._m.milestone(signal, self._now()))

    # ---- updates: validators refuse, handlers apply and answer with the new state ----------

    @workflow.update(name=HandoffUpdate.DOCUMENT)
    def update_document(self, msg: DocumentUpdate) -> HandoffState:
        return self._apply(self._m.apply_document, msg)

    @update_document.validator
    def _check_document(self, msg: DocumentUpdate) -> None:
        self._check(self._m.check_document, msg)

    @workflow.update(name=HandoffUpdate.ASSIGN_CSM)
    def assign_csm(self, msg: CsmAssignment) -> HandoffState:
        return self._apply(self._m.apply_csm, msg)

    @assign_csm.validator
    def _check_csm(self, msg: CsmAssignment) -> None:
        self._check(self._m.check_csm, msg)

    @workflow.update(name=HandoffUpdate.INTAKE_REVIEW)
    def intake_review(self, msg: IntakeReviewInput) -> HandoffState:
        return self._apply(self._m.apply_intake, msg)

    @intake_review.validator
    def _check_intake(self, msg: IntakeReviewInput) -> None:
        self._check(self._m.check_intake, msg)

    @workflow.update(name=HandoffUpdate.INTRO)
    def intro(self, msg: IntroUpdate) -> HandoffState:
        return self._apply(self._m.apply_intro, msg)

    @intro.validator
    def _check_intro(self, msg: IntroUpdate) -> None:
        self._check(self._m.check_intro, msg)

    @workflow.update(name=HandoffUpdate.FIRST_TOUCH)
    def first_touch(self, msg: FirstTouch) -> HandoffState:
        return self._apply(self._m.apply_first_touch, msg)

    @first_touch.validator
    def _check_first_touch(self, msg: FirstTouch) -> None:
        self._check(self._m.check_first_touch, msg)

    @workflow.update(name=HandoffUpdate.KICKOFF)
    def kickoff(self, msg: KickoffHeld) -> HandoffState:
        return self._apply(self._m.apply_kickoff, msg)

    @kickoff.validator
    def _check_kickoff(self, msg: KickoffHeld) -> None:
        self._check(self._m.check_kickoff, msg)

    @workflow.update(name=HandoffUpdate.AE_DEPARTURE)
    def ae_departure(self, msg: AeDeparture) -> HandoffState:
        return self._apply(self._m.apply_ae_departure, msg)

    @ae_departure.validator
    def _check_ae_departure(self, msg: AeDeparture) -> None:
        self._check(self._m.check_ae_departure, msg)

    @workflow.update(name=HandoffUpdate.EXTEND_DEADLINE)
    def extend_deadline(self, msg: DeadlineExtension) -> HandoffState:
        return self._apply(self._m.apply_extension, msg)

    @extend_deadline.validator
    def _check_extension(self, msg: DeadlineExtension) -> None:
        self._check(self._m.check_extension, msg)

    @workflow.update(name=HandoffUpdate.POST_CHECK_ANSWERS)
    def post_check_answers(self, msg: PostCheckAnswers) -> HandoffState:
        return self._apply(self._m.apply_post_check_answers, msg)

    @post_check_answers.validator
    def _check_post_check_answers(self, msg: PostCheckAnswers) -> None:
        # Whether the check is open yet depends on the instant the answers arrive (read directly: a
        # validator may not record the patch marker `_now` reads).
        now = workflow.now().replace(microsecond=0)
        self._check(lambda answers: self._m.check_post_check_answers(answers, now), msg)

    @workflow.query(name=HandoffQuery.STATE)
    def state(self) -> HandoffState:
        return self._m.state

    # ---- private -------------------------------------------------------------------------------

    def _check(self, check: Callable[[Message], None], msg: Message) -> None:
        if not self._started:
            raise ApplicationError(
                "the handoff is still starting; retry in a moment", type=ErrorType.INVALID_TRANSITION.value
            )
        try:
            check(msg)
        except Refused as refused:
            raise ApplicationError(refused.message, type=refused.type.value) from None

    def _apply(self, apply: Callable[[Message, datetime], None], msg: Message) -> HandoffState:
        apply(msg, self._now())
        self._poke()
        return self._m.state

    def _now(self) -> datetime:
        """The instant the rules see: the server's, to the second. A message or a timer meant for one
        instant reaches the workflow some milliseconds late, by an amount that varies; counted in
        whole seconds (as every policy duration is) two deadlines meant for the same second are due
        at the same instant, and fire in the rules' order rather than in the order of those delays.
        Runs started before this change keep the server's instant as it was."""
        now = workflow.now()
        return now.replace(microsecond=0) if workflow.patched(WHOLE_SECOND_CLOCK) else now

    def _rules_reach(self, due: datetime) -> datetime:
        """The first server instant at which the rules see `due` reached. Counting whole seconds
        (`_now`), they reach 12:00:00.7 only at 12:00:01: waking any earlier finds nothing due, and
        the run would spin on that instant inside one workflow task until the deadlock detector
        failed it."""
        if due.microsecond and workflow.patched(WHOLE_SECOND_CLOCK):
            return due.replace(microsecond=0) + timedelta(seconds=1)
        return due

    def _poke(self) -> None:
        self._poked = True

    def _receive(self, apply: Callable[[], None]) -> None:
        """A signal from the CRM or a child. It is applied by the run loop after the run's own timers
        due by now have fired and what they asked for has run, so at one instant the order is always
        the run's timers, then the signals in arrival order: a child's timer and the parent's falling
        due together cannot race. Once the handoff has ended (its run is finishing) there are no timers
        to wait for; runs started before this change apply a signal as it arrives."""
        if not self._m.state.ended and workflow.patched(SIGNALS_AFTER_OWN_TIMERS):
            self._inbox.append(apply)
        else:
            apply()
        self._poke()

    async def _sleep_until_next(self) -> None:
        wake = self._m.next_wake()
        self._poked = False
        if wake is None:
            await workflow.wait_condition(lambda: self._poked)
            return
        instant = self._rules_reach(wake[0])
        remaining = (instant - workflow.now()).total_seconds()
        if remaining <= 0:
            return
        if workflow.patched(TIMERS_NEVER_CANCELLED):
            await self._timers.wait(lambda: self._poked, instant, wake[1])
            return
        try:
            await workflow.wait_condition(lambda: self._poked, timeout=remaining, timeout_summary=wake[1])
        except TimeoutError:
            pass

    async def _settle(self) -> None:
        """Run what the rules asked for, then show the new state to operators and the read model."""
        while self._m.effects:
            await self._effects.run(self._m.effects.pop(0))
        self._effects.flush()
        self._show()
        self._effects.record_in_store()

    def _show(self) -> None:
        """Search attributes and the one-line current details operators see in the UI."""
        state = self._m.state
        found = search_attributes.values(state)
        changed = {name: value for name, value in found.items() if self._shown.get(name) != value}
        if changed:
            workflow.upsert_search_attributes(search_attributes.pairs(changed))
            self._shown.update(changed)
        workflow.set_current_details(state.summary_line())
        self._count_breaches(state)

    def _count_breaches(self, state: HandoffState) -> None:
        """`baton_sla_breaches_total{sla,approach}` and `baton_recipients_unresolved_total{event,place}`:
        the SDK's meter skips replays, so each counts once."""
        new = [e for e in state.timeline if e.seq > self._counted]
        if state.timeline:
            self._counted = state.timeline[-1].seq
        breaches = [e for e in new if e.kind is Kind.SLA_BREACHED]
        unresolved = [e for e in new if e.kind is Kind.RECIPIENT_UNRESOLVED]
        meter = workflow.metric_meter()
        if breaches:
            counter = meter.create_counter("baton_sla_breaches", "SLA breaches by SLA and approach")
            approach = state.approach.approach.value if state.approach else "unknown"
            for entry in breaches:
                counter.add(1, {"sla": str(entry.details.get("sla", "")), "approach": approach})
        if unresolved:
            counter = meter.create_counter(
                "baton_recipients_unresolved", "Notice places nobody in the directory held (sent to the fallback)"
            )
            for entry in unresolved:
                counter.add(
                    1, {"event": str(entry.details.get("event", "")), "place": str(entry.details.get("place", ""))}
                )
