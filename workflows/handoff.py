"""DealHandoffWorkflow: one durable run per deal, from Closed-Won to the 30-day check."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, ChildWorkflowError

with workflow.unsafe.imports_passed_through():
    from activities.crm import CommissionRelease, CrmActivities, CrmTask, FetchDeal
    from activities.notify import NotifyActivities
    from activities.store_activities import AssignCsm as AssignCsmRequest
    from activities.store_activities import StoreActivities
    from domain import effects as fx
    from domain.deal import Deal
    from domain.document import HandoffDocument
    from domain.errors import Refused
    from domain.ids import onboarding_workflow_id, post_check_workflow_id
    from domain.machine import HandoffMachine
    from domain.messages import (
        AeDeparture, ChildFinished, CsmAssignment, DeadlineExtension, DocumentUpdate, FirstTouch,
        IntakeReviewInput, IntroUpdate, KickoffHeld, MilestoneSignal, StageChanged,
    )
    from domain.notifications import Notification
    from domain.onboarding import OnboardingInput, PostCheckInput
    from domain.policy import Policy
    from domain.state import HandoffState
    from domain.timeline import Kind
    from workflows import search_attributes
    from workflows.onboarding import OnboardingTransitionWorkflow
    from workflows.post_check import PostHandoffCheckWorkflow

# Outside systems may be down for hours; a handoff waits for them rather than losing a message.
PATIENT = RetryPolicy(initial_interval=timedelta(seconds=1), backoff_coefficient=2.0, maximum_interval=timedelta(minutes=5))
CALL_TIMEOUT = timedelta(seconds=30)
GIVE_UP_AFTER = timedelta(days=3)


class HandoffInput(BaseModel):
    """The start input: what the CRM event carried, and the policy snapshot this handoff keeps."""

    deal: Deal
    policy: Policy
    document: HandoffDocument | None = None
    won: bool = True
    resume: HandoffState | None = None


@workflow.defn
class DealHandoffWorkflow:
    """Query `state`; updates for every person's message; signals `stage_changed`, `child_finished`,
    `milestone_reached` from the CRM and the child workflows."""

    @workflow.init
    def __init__(self, input: HandoffInput) -> None:
        self._policy = input.policy
        if input.resume is not None:
            self._m = HandoffMachine(input.resume, input.policy)
        else:
            self._m = HandoffMachine.new(workflow.info().workflow_id, input.deal, input.policy)
        self._started = input.resume is not None
        self._poked = False
        self._recorded = self._m.state.timeline[-1].seq if input.resume and self._m.state.timeline else 0
        self._store_busy = False
        self._shown: dict[str, object] = {}
        self._tasks: list[asyncio.Task] = []
        self._early: list[StageChanged] = []

    @workflow.run
    async def run(self, input: HandoffInput) -> HandoffState:
        if not self._started:
            deal = await self._fetch_deal(input.deal)
            self._m.start(deal, input.document, input.won, workflow.now())
            self._started = True
            for signal in self._early:
                self.stage_changed(signal)
        while True:
            await self._settle()
            if self._m.state.ended:
                break
            if workflow.info().is_continue_as_new_suggested():
                await self._drain_tasks()
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(HandoffInput(deal=self._m.state.deal, policy=self._policy, resume=self._m.state))
            await self._sleep_until_next()
            self._m.tick(workflow.now())
        await self._drain_tasks()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._m.state

    # ---- signals (never raise: a bad one is recorded and ignored) --------------------------

    @workflow.signal
    def stage_changed(self, signal: StageChanged) -> None:
        if not self._started:
            # Arrived while the deal is still being fetched: apply it once the handoff has begun.
            self._early.append(signal)
            return
        self._m.stage_changed(signal.kind, signal.stage, signal.deal, signal.document, workflow.now())
        self._poke()

    @workflow.signal
    def child_finished(self, signal: ChildFinished) -> None:
        self._m.child_finished(signal, workflow.now())
        self._poke()

    @workflow.signal
    def milestone_reached(self, signal: MilestoneSignal) -> None:
        self._m.milestone(signal, workflow.now())
        self._poke()

    # ---- updates: validators refuse, handlers apply and answer with the new state ----------

    @workflow.update
    def update_document(self, msg: DocumentUpdate) -> HandoffState:
        return self._apply(self._m.apply_document, msg)

    @update_document.validator
    def _check_document(self, msg: DocumentUpdate) -> None:
        self._check(self._m.check_document, msg)

    @workflow.update
    def assign_csm(self, msg: CsmAssignment) -> HandoffState:
        return self._apply(self._m.apply_csm, msg)

    @assign_csm.validator
    def _check_csm(self, msg: CsmAssignment) -> None:
        self._check(self._m.check_csm, msg)

    @workflow.update
    def intake_review(self, msg: IntakeReviewInput) -> HandoffState:
        return self._apply(self._m.apply_intake, msg)

    @intake_review.validator
    def _check_intake(self, msg: IntakeReviewInput) -> None:
        self._check(self._m.check_intake, msg)

    @workflow.update
    def intro(self, msg: IntroUpdate) -> HandoffState:
        return self._apply(self._m.apply_intro, msg)

    @intro.validator
    def _check_intro(self, msg: IntroUpdate) -> None:
        self._check(self._m.check_intro, msg)

    @workflow.update
    def first_touch(self, msg: FirstTouch) -> HandoffState:
        return self._apply(self._m.apply_first_touch, msg)

    @first_touch.validator
    def _check_first_touch(self, msg: FirstTouch) -> None:
        self._check(self._m.check_first_touch, msg)

    @workflow.update
    def kickoff(self, msg: KickoffHeld) -> HandoffState:
        return self._apply(self._m.apply_kickoff, msg)

    @kickoff.validator
    def _check_kickoff(self, msg: KickoffHeld) -> None:
        self._check(self._m.check_kickoff, msg)

    @workflow.update
    def ae_departure(self, msg: AeDeparture) -> HandoffState:
        return self._apply(self._m.apply_ae_departure, msg)

    @ae_departure.validator
    def _check_ae_departure(self, msg: AeDeparture) -> None:
        self._check(self._m.check_ae_departure, msg)

    @workflow.update
    def extend_deadline(self, msg: DeadlineExtension) -> HandoffState:
        return self._apply(self._m.apply_extension, msg)

    @extend_deadline.validator
    def _check_extension(self, msg: DeadlineExtension) -> None:
        self._check(self._m.check_extension, msg)

    @workflow.query
    def state(self) -> HandoffState:
        return self._m.state

    # ---- private -------------------------------------------------------------------------------

    def _check(self, check, msg) -> None:
        if not self._started:
            raise ApplicationError("the handoff is still starting; retry in a moment", type="InvalidTransition")
        try:
            check(msg)
        except Refused as refused:
            raise ApplicationError(refused.message, type=refused.type.value) from None

    def _apply(self, apply, msg) -> HandoffState:
        apply(msg, workflow.now())
        self._poke()
        return self._m.state

    def _poke(self) -> None:
        self._poked = True

    async def _sleep_until_next(self) -> None:
        wake = self._m.next_wake()
        self._poked = False
        if wake is None:
            await workflow.wait_condition(lambda: self._poked)
            return
        remaining = (wake[0] - workflow.now()).total_seconds()
        if remaining <= 0:
            return
        try:
            await workflow.wait_condition(lambda: self._poked, timeout=remaining, timeout_summary=wake[1])
        except asyncio.TimeoutError:
            pass

    async def _settle(self) -> None:
        """Run what the rules asked for, then show the new state to operators and the read model."""
        while self._m.effects:
            effect = self._m.effects.pop(0)
            await self._run_effect(effect)
        self._show()
        self._record_in_store()

    async def _run_effect(self, effect: fx.Effect) -> None:
        if isinstance(effect, fx.Notify):
            self._background(self._notify(effect))
        elif isinstance(effect, fx.CreateCrmTask):
            task = CrmTask(deal=self._m.state.deal, key=effect.key, owner=effect.owner, subject=effect.subject, body=effect.body, due=effect.due)
            self._background(self._crm_write(CrmActivities.create_task, task, "task"))
        elif isinstance(effect, fx.ReleaseCommission):
            release = CommissionRelease(deal=self._m.state.deal, key=effect.key, note=effect.note)
            self._background(self._crm_write(CrmActivities.release_commission, release, "commission release"))
        elif isinstance(effect, fx.AssignCsm):
            self._background(self._assign_csm(effect.team))
        elif isinstance(effect, fx.StartOnboarding):
            await self._start_onboarding()
        elif isinstance(effect, fx.StartPostCheck):
            await self._start_post_check()
        elif isinstance(effect, fx.EndChildren):
            await self._end_children(effect.reason)

    def _background(self, coro) -> None:
        self._tasks.append(asyncio.create_task(coro))

    async def _drain_tasks(self) -> None:
        while self._tasks:
            tasks, self._tasks = self._tasks, []
            await asyncio.gather(*tasks)
            await self._settle()

    async def _fetch_deal(self, carried: Deal) -> Deal:
        try:
            return await workflow.execute_activity_method(
                CrmActivities.fetch_deal, FetchDeal(deal=carried), start_to_close_timeout=CALL_TIMEOUT,
                schedule_to_close_timeout=timedelta(hours=1), retry_policy=PATIENT, summary="fetch the deal from the CRM",
            )
        except ActivityError as err:
            self._m.note(Kind.CRM_WRITE_FAILED, workflow.now(), what="fetch deal", error=str(err.cause or err))
            return carried

    async def _notify(self, effect: fx.Notify) -> None:
        note = Notification(key=effect.key, workflow_id=self._m.state.workflow_id, event=effect.event, to=effect.to,
                            subject=effect.subject, text=effect.text, details=effect.details)
        try:
            await workflow.execute_activity_method(
                NotifyActivities.notify, note, start_to_close_timeout=CALL_TIMEOUT,
                schedule_to_close_timeout=GIVE_UP_AFTER, retry_policy=PATIENT, summary=f"notify: {effect.event}",
            )
        except ActivityError as err:
            self._failed("notify " + effect.event, err)

    async def _crm_write(self, method, request, what: str) -> None:
        try:
            await workflow.execute_activity_method(
                method, request, start_to_close_timeout=CALL_TIMEOUT, schedule_to_close_timeout=GIVE_UP_AFTER,
                retry_policy=PATIENT, summary=f"CRM: {what}",
            )
        except ActivityError as err:
            self._failed(f"CRM {what}", err)

    async def _assign_csm(self, team_name: str) -> None:
        team = next(team for team in self._policy.teams if team.name == team_name)
        request = AssignCsmRequest(workflow_id=self._m.state.workflow_id, team=team, day=workflow.now().date())
        try:
            choice = await workflow.execute_activity_method(
                StoreActivities.assign_csm, request, start_to_close_timeout=CALL_TIMEOUT,
                schedule_to_close_timeout=GIVE_UP_AFTER, retry_policy=PATIENT, summary=f"assign a CSM from {team_name}",
            )
        except ActivityError as err:
            self._failed("CSM assignment", err)
            return
        self._m.csm_chosen(choice.csm, choice.team, choice.reason, workflow.now())
        self._poke()

    def _record_in_store(self) -> None:
        if self._store_busy or not self._m.state.timeline or self._m.state.timeline[-1].seq <= self._recorded:
            return
        self._store_busy = True
        self._background(self._store_writer())

    async def _store_writer(self) -> None:
        """One write at a time, so the read model never sees an older state after a newer one."""
        try:
            while self._m.state.timeline and self._m.state.timeline[-1].seq > self._recorded:
                state = self._m.state
                upto = state.timeline[-1].seq
                snapshot = state.model_copy(update={"timeline": [e for e in state.timeline if e.seq > self._recorded]})
                await workflow.execute_activity_method(
                    StoreActivities.record, snapshot, start_to_close_timeout=CALL_TIMEOUT, retry_policy=PATIENT,
                    summary="record in the read model",
                )
                self._recorded = upto
        finally:
            self._store_busy = False

    async def _start_onboarding(self) -> None:
        child_id = onboarding_workflow_id(self._m.state.workflow_id)
        deal = self._m.state.deal
        await workflow.start_child_workflow(
            OnboardingTransitionWorkflow.run,
            OnboardingInput(parent_id=self._m.state.workflow_id, deal=deal, policy=self._policy.onboarding,
                            closed_at=deal.closed_at or self._m.state.facts.won_at),
            id=child_id, parent_close_policy=workflow.ParentClosePolicy.ABANDON,
            static_summary=f"Onboarding to CS for {deal.account or deal.deal_id}",
        )
        self._m.child_started("onboarding", child_id, workflow.now())

    async def _start_post_check(self) -> None:
        state = self._m.state
        child_id = post_check_workflow_id(state.workflow_id)
        close = state.deal.closed_at or state.facts.won_at
        schedule = {m: self._policy.calendar.add(close, span) for m, span in self._policy.onboarding.schedule.items()
                    if m in self._policy.onboarding.required_milestones}
        check = PostCheckInput(parent_id=state.workflow_id, deal=state.deal, policy=self._policy.post_check,
                               schedule=schedule, reached=dict(state.milestones),
                               partner=state.approach is not None and state.approach.approach.value == "partner_mediated")
        await workflow.start_child_workflow(
            PostHandoffCheckWorkflow.run, check, id=child_id, parent_close_policy=workflow.ParentClosePolicy.ABANDON,
            static_summary=f"30-day check for {state.deal.account or state.deal.deal_id}",
        )
        self._m.child_started("post_check", child_id, workflow.now())

    async def _end_children(self, reason: str) -> None:
        for child in self._m.state.children.values():
            if child.finished_at is None:
                try:
                    await workflow.get_external_workflow_handle(child.workflow_id).cancel()
                except Exception:  # already finished: nothing to end
                    pass

    def _failed(self, what: str, err: BaseException) -> None:
        kind = Kind.CRM_WRITE_FAILED if what.startswith("CRM") else Kind.WARNING
        self._m.note(kind, workflow.now(), what=what, error=str(getattr(err, "cause", None) or err))
        self._poke()

    def _show(self) -> None:
        """Search attributes and the one-line current details operators see in the UI."""
        state = self._m.state
        found = search_attributes.values(state)
        changed = {name: value for name, value in found.items() if self._shown.get(name) != value}
        if changed:
            workflow.upsert_search_attributes(search_attributes.pairs(changed))
            self._shown.update(changed)
        workflow.set_current_details(current_details(state))


def current_details(state: HandoffState) -> str:
    approach = state.approach.approach.value if state.approach else "?"
    quality = f"{state.quality.tier.value} {state.quality.score}" if state.quality else "unscored"
    pending = sorted((d for d in state.deadlines.values() if d.open), key=lambda d: d.due)
    nxt = f"next: {pending[0].sla.value} due {pending[0].due.isoformat(timespec='minutes')}" if pending else "no open deadline"
    breached = " · SLA breached" if state.sla_breached else ""
    return f"{state.phase.value} · {approach} · {quality} · CSM {state.owners.csm or 'unassigned'} · {nxt}{breached}"
