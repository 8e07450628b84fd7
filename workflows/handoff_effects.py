"""Running what the handoff rules ask for: activities in the background, child workflows, the read model."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime, timedelta
from typing import Any, TypeVar, assert_never

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, FailureError
from temporalio.exceptions import TimeoutError as CallTimedOut

with workflow.unsafe.imports_passed_through():
    from activities.crm import CommissionRelease, CrmActivities, CrmTask, CrmWriteResult, FetchDeal, FetchedDeal
    from activities.introductions import IntroductionActivities
    from activities.notify import NotifyActivities
    from activities.recipients import RecipientActivities, ResolveRecipients
    from activities.store_activities import AssignCsm as AssignCsmRequest
    from activities.store_activities import CsmChoice, StoreActivities
    from domain import effects as fx
    from domain.csm_choice import assignment_day
    from domain.deal import Deal
    from domain.document import DocumentPatch
    from domain.introductions import Introduction, compose
    from domain.machine import HandoffMachine
    from domain.notifications import Notification
    from domain.policy import Policy
    from domain.recipients import Audience, Recipient, Resolution
    from domain.state import ChildKind
    from domain.timeline import Kind
    from workflows.call_policy import ATTEMPT_TIMEOUT, FETCH_DEAL_WITHIN, RETRY_THROUGH_OUTAGES, SIDE_EFFECT_WITHIN
    from workflows.onboarding import OnboardingTransitionWorkflow
    from workflows.post_check import PostHandoffCheckWorkflow

# The patch id recorded in new histories: the deal fetch and the CSM choice run as local activities.
# Each was an activity of its own, and so a workflow task of its own, in a row before the CSM could be
# told; as local activities both run inside the workflow task that needs them. They keep what made
# them activities: every attempt and its result are recorded (a marker), failures are retried under
# the same policy and time bound (a long outage waits on a durable timer between attempts), and a
# worker that dies mid-call leaves the workflow task to time out and run again elsewhere, calling
# again: the fetch only reads, and the choice returns the CSM already chosen for the handoff. Runs
# started before this keep their activities.
LOCAL_STEPS = "local-fetch-and-csm-choice"
# A local activity retried within this backoff waits in the worker, holding the workflow task open;
# past it, the wait is a timer in the history. One second rides out a blip; anything longer (the CRM
# or the database down) is waited out durably, and the workflow task is free for people's messages.
LOCAL_RETRY_WITHIN = timedelta(seconds=1)

Request = TypeVar("Request", FetchDeal, AssignCsmRequest)
# What a call that gave up raises: an activity's failure comes wrapped in ActivityError; a local
# activity's arrives as it is (the activity's own ApplicationError, or a TimeoutError).
GAVE_UP = (ActivityError, ApplicationError, CallTimedOut)

# The failure type sdk-core gives a cancel request whose target run is gone: the child had finished
# (and its end had not reached the parent yet) or was never started.
_CHILD_ALREADY_GONE = "ExternalWorkflowExecutionNotFound"


class EffectRunner:
    """Notifications, CRM writes and CSM assignment run in the background so a down Slack or CRM never
    holds up a deadline; the read model is written one state at a time, in order."""

    def __init__(
        self,
        machine: HandoffMachine,
        policy: Policy,
        poke: Callable[[], None],
        settle: Callable[[], Awaitable[None]],
        recorded: int,
    ) -> None:
        self._machine = machine
        self._policy = policy
        self._poke = poke
        self._settle = settle
        self._recorded = recorded
        self._store_busy = False
        self._recording_stopped = False
        self._tasks: list[asyncio.Task[None]] = []
        self._unaddressed: list[fx.Notify | fx.Introduce] = []
        self._addressing = False

    async def run(self, effect: fx.Effect) -> None:
        """Calls to outside systems run in the background; child workflows start (or end) before the
        next effect, so the machine hears of each child before anything else happens."""
        match effect:
            case fx.Notify():
                self._ask_notice(effect)
            case fx.Introduce():
                self._unaddressed.append(effect)
            case fx.CreateCrmTask():
                self._background(self._crm_write(CrmActivities.create_task, self._task(effect), "task"))
            case fx.ReleaseCommission():
                release = self._release(effect)
                self._background(self._crm_write(CrmActivities.release_commission, release, "commission release"))
            case fx.AssignCsm():
                self._background(self._assign_csm(effect.team))
            case fx.StartOnboarding():
                await self._start_onboarding(effect)
            case fx.StartPostCheck():
                await self._start_post_check(effect)
            case fx.EndChildren():
                await self._end_children()
            case _:
                # mypy proves every kind of effect has its case: a new one without a case fails the check.
                assert_never(effect)

    def _background(self, call: Coroutine[Any, Any, None]) -> None:
        self._tasks.append(asyncio.create_task(call))

    async def drain(self) -> None:
        """Wait for every background call, including those their results set off."""
        while self._tasks:
            tasks, self._tasks = self._tasks, []
            await asyncio.gather(*tasks)
            await self._settle()

    async def fetch_deal(
        self, carried: Deal, learned_at: datetime | None = None
    ) -> tuple[Deal, DocumentPatch | None, bool]:
        """The full deal, the document fields the CRM holds for it, and whether its mapped "submitted"
        property says the AE submitted them."""
        request = FetchDeal(
            deal=carried,
            calendar=self._policy.calendar,
            learned_at=learned_at,
            fields=self._policy.crm_fields.get(carried.crm),
        )
        try:
            fetched: FetchedDeal = await self._step(
                CrmActivities.fetch_deal, request, FETCH_DEAL_WITHIN, "fetch the deal from the CRM"
            )
        except GAVE_UP as err:
            self._machine.note(Kind.CRM_WRITE_FAILED, workflow.now(), what="fetch deal", error=str(err.cause or err))
            return carried, None, False
        return fetched.deal(), fetched.crm_document, fetched.crm_submitted

    def _ask_notice(self, effect: fx.Notify) -> None:
        if effect.addressed:
            self._background(self._send(effect, effect.to, []))
        else:
            self._unaddressed.append(effect)

    def flush(self) -> None:
        """After the effects of one instant: resolve the notices asked for (one local step for all of
        them, in the order the rules asked), then send each. One resolve at a time, so notices reach
        the timeline in the order they were asked for, whatever order outside calls finish in."""
        if self._unaddressed and not self._addressing:
            self._addressing = True
            self._background(self._addresser())

    async def _addresser(self) -> None:
        try:
            while self._unaddressed:
                notices, self._unaddressed = self._unaddressed, []
                await self._address(notices)
        finally:
            self._addressing = False

    async def _address(self, items: list[fx.Notify | fx.Introduce]) -> None:
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
        try:
            await workflow.execute_activity_method(
                NotifyActivities.notify,
                note,
                start_to_close_timeout=ATTEMPT_TIMEOUT,
                schedule_to_close_timeout=SIDE_EFFECT_WITHIN,
                retry_policy=RETRY_THROUGH_OUTAGES,
                summary=f"notify: {effect.event}",
            )
        except ActivityError as err:
            self._failed(Kind.WARNING, "notify " + effect.event, err)

    async def _send_introduction(self, intro: Introduction, resolution: Resolution) -> None:
        """The e-mail composed for the people resolved (and on the timeline), then sent."""
        outgoing = compose(intro, resolution.recipients)
        self._machine.introduced(intro, outgoing, resolution, workflow.now())
        if not outgoing.sendable:
            return
        try:
            await workflow.execute_activity_method(
                IntroductionActivities.send_introduction,
                outgoing,
                start_to_close_timeout=ATTEMPT_TIMEOUT,
                schedule_to_close_timeout=SIDE_EFFECT_WITHIN,
                retry_policy=RETRY_THROUGH_OUTAGES,
                summary=f"introduction: {intro.style.value}",
            )
        except ActivityError as err:
            self._failed(Kind.WARNING, "introduction " + intro.style.value, err)

    def _task(self, effect: fx.CreateCrmTask) -> CrmTask:
        return CrmTask(
            deal=self._machine.state.deal,
            key=effect.key,
            owner=effect.owner,
            subject=effect.subject,
            body=effect.body,
            due=effect.due,
        )

    def _release(self, effect: fx.ReleaseCommission) -> CommissionRelease:
        return CommissionRelease(deal=self._machine.state.deal, key=effect.key, note=effect.note)

    async def _crm_write(
        self,
        method: Callable[[CrmActivities, Any], Awaitable[CrmWriteResult]],
        request: CrmTask | CommissionRelease,
        what: str,
    ) -> None:
        try:
            await workflow.execute_activity_method(
                method,
                request,
                start_to_close_timeout=ATTEMPT_TIMEOUT,
                schedule_to_close_timeout=SIDE_EFFECT_WITHIN,
                retry_policy=RETRY_THROUGH_OUTAGES,
                summary=f"CRM: {what}",
            )
        except ActivityError as err:
            self._failed(Kind.CRM_WRITE_FAILED, f"CRM {what}", err)

    async def _assign_csm(self, team_name: str) -> None:
        team = next(team for team in self._policy.teams if team.name == team_name)
        day = assignment_day(workflow.now(), self._policy.calendar)
        state = self._machine.state
        request = AssignCsmRequest(
            workflow_id=state.workflow_id,
            team=team,
            day=day,
            approach=state.approach.approach if state.approach else None,
            account=state.deal.account,
        )
        try:
            choice: CsmChoice = await self._step(
                StoreActivities.assign_csm, request, SIDE_EFFECT_WITHIN, f"assign a CSM from {team_name}"
            )
        except GAVE_UP as err:
            self._failed(Kind.WARNING, "CSM assignment", err)
            return
        self._machine.csm_chosen(choice.csm, choice.team, choice.reason, workflow.now())
        self._poke()

    @staticmethod
    def steps_are_local() -> bool:
        """Whether this run fetches the deal and chooses its CSM by local activities (LOCAL_STEPS)."""
        return workflow.patched(LOCAL_STEPS)

    async def _step(
        self, method: Callable[[Any, Request], Any], request: Request, within: timedelta, summary: str
    ) -> Any:
        """A step the CSM waits on: a local activity in runs that have LOCAL_STEPS, else an activity."""
        if self.steps_are_local():
            return await workflow.execute_local_activity_method(
                method,
                request,
                start_to_close_timeout=ATTEMPT_TIMEOUT,
                schedule_to_close_timeout=within,
                retry_policy=RETRY_THROUGH_OUTAGES,
                local_retry_threshold=LOCAL_RETRY_WITHIN,
                summary=summary,
            )
        return await workflow.execute_activity_method(
            method,
            request,
            start_to_close_timeout=ATTEMPT_TIMEOUT,
            schedule_to_close_timeout=within,
            retry_policy=RETRY_THROUGH_OUTAGES,
            summary=summary,
        )

    @property
    def recorded(self) -> int:
        """The last timeline entry the read model holds."""
        return self._recorded

    def stop_recording(self) -> None:
        """Before a continue-as-new: finish the write in flight and start no other. The next run carries
        on from `recorded`, so a stream of messages cannot keep this one from moving on."""
        self._recording_stopped = True

    def record_in_store(self) -> None:
        if (
            self._recording_stopped
            or self._store_busy
            or not self._machine.state.timeline
            or self._machine.state.timeline[-1].seq <= self._recorded
        ):
            return
        self._store_busy = True
        self._background(self._store_writer())

    async def _store_writer(self) -> None:
        """One write at a time, so the read model never sees an older state after a newer one."""
        try:
            while (
                not self._recording_stopped
                and self._machine.state.timeline
                and self._machine.state.timeline[-1].seq > self._recorded
            ):
                state = self._machine.state
                upto = state.timeline[-1].seq
                snapshot = state.model_copy(update={"timeline": [e for e in state.timeline if e.seq > self._recorded]})
                try:
                    await workflow.execute_activity_method(
                        StoreActivities.record,
                        snapshot,
                        start_to_close_timeout=ATTEMPT_TIMEOUT,
                        retry_policy=RETRY_THROUGH_OUTAGES,
                        summary="record in the read model",
                    )
                except ActivityError as err:
                    # Only a non-retryable refusal gets here (the rest are retried): the same values
                    # would be refused again, so the run stops writing them and says so on its timeline.
                    self._recording_stopped = True
                    self._failed(Kind.WARNING, "read model", err)
                    return
                self._recorded = upto
        finally:
            self._store_busy = False

    async def _start_onboarding(self, effect: fx.StartOnboarding) -> None:
        deal = effect.input.deal
        await workflow.start_child_workflow(
            OnboardingTransitionWorkflow.run,
            effect.input,
            id=effect.workflow_id,
            parent_close_policy=workflow.ParentClosePolicy.ABANDON,
            static_summary=f"Onboarding to CS for {deal.account or deal.deal_id}",
        )
        self._machine.child_started(ChildKind.ONBOARDING, effect.workflow_id, workflow.now())

    async def _start_post_check(self, effect: fx.StartPostCheck) -> None:
        deal = effect.input.deal
        await workflow.start_child_workflow(
            PostHandoffCheckWorkflow.run,
            effect.input,
            id=effect.workflow_id,
            parent_close_policy=workflow.ParentClosePolicy.ABANDON,
            static_summary=f"30-day check for {deal.account or deal.deal_id}",
        )
        self._machine.child_started(ChildKind.POST_CHECK, effect.workflow_id, workflow.now())

    async def _end_children(self) -> None:
        for child in self._machine.state.children.values():
            if child.finished_at is None:
                try:
                    await workflow.get_external_workflow_handle(child.workflow_id).cancel()
                except ApplicationError as err:
                    if err.type != _CHILD_ALREADY_GONE:
                        # Unexpected: fail the workflow task (retried, and visible) rather than the handoff.
                        raise RuntimeError(f"cancelling {child.workflow_id} failed: {err}") from err

    def _failed(self, kind: Kind, what: str, err: FailureError) -> None:
        """An outside call that gave up: recorded on the timeline, and the handoff goes on."""
        self._machine.note(kind, workflow.now(), what=what, error=str(err.cause or err))
        self._poke()


def _places(item: fx.Notify | fx.Introduce) -> list[Audience]:
    if isinstance(item, fx.Notify):
        return [Audience(place) for place in item.to]
    return list(item.introduction.audience)


def _what(item: fx.Notify | fx.Introduce) -> str:
    return item.event if isinstance(item, fx.Notify) else "introduction " + item.introduction.style.value
