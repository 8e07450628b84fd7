"""Running what the handoff rules ask for: activities in the background, child workflows, the read model."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime, timedelta
from typing import Any, TypeVar, assert_never

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, FailureError

with workflow.unsafe.imports_passed_through():
    from activities.crm import CommissionRelease, CrmActivities, CrmTask, CrmWriteResult, FetchDeal, FetchedDeal
    from activities.store_activities import AssignCsm as AssignCsmRequest
    from activities.store_activities import CsmChoice, StoreActivities
    from domain import effects as fx
    from domain.csm_choice import assignment_day
    from domain.deal import Deal
    from domain.document import DocumentPatch
    from domain.machine import HandoffMachine
    from domain.policy import Policy
    from domain.state import ChildKind
    from domain.timeline import Kind
    from workflows.call_policy import (
        ATTEMPT_TIMEOUT,
        FETCH_DEAL_WITHIN,
        GAVE_UP,
        LOCAL_RETRY_WITHIN,
        RETRY_THROUGH_OUTAGES,
        SIDE_EFFECT_WITHIN,
    )
    from workflows.notices import NoticeSender
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
Request = TypeVar("Request", FetchDeal, AssignCsmRequest)
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
        self._notices = NoticeSender(machine, policy, poke, self._background, self.side_effect)

    async def run(self, effect: fx.Effect) -> None:
        """Calls to outside systems run in the background; child workflows start (or end) before the
        next effect, so the machine hears of each child before anything else happens."""
        match effect:
            case fx.Notify() | fx.Introduce():
                self._notices.ask(effect)
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

    def flush(self) -> None:
        """After the effects of one instant: their notices and introductions go out (notices.py)."""
        self._notices.flush()

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
        await self.side_effect(method, request, f"CRM: {what}", Kind.CRM_WRITE_FAILED, f"CRM {what}")

    async def side_effect(
        self, method: Callable[..., Awaitable[Any]], request: Any, summary: str, kind: Kind, what: str
    ) -> None:
        """A call the handoff does not wait for (a notice, an introduction, a CRM write): retried through
        outages for up to SIDE_EFFECT_WITHIN, then recorded on the timeline as given up (`kind`, `what`)."""
        try:
            await workflow.execute_activity_method(
                method,
                request,
                start_to_close_timeout=ATTEMPT_TIMEOUT,
                schedule_to_close_timeout=SIDE_EFFECT_WITHIN,
                retry_policy=RETRY_THROUGH_OUTAGES,
                summary=summary,
            )
        except ActivityError as err:
            self._failed(kind, what, err)

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
