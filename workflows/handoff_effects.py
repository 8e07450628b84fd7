"""Running what the handoff rules ask for: activities in the background, child workflows, the read model."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.crm import CommissionRelease, CrmActivities, CrmTask, FetchDeal
    from activities.notify import NotifyActivities
    from activities.store_activities import AssignCsm as AssignCsmRequest
    from activities.store_activities import StoreActivities
    from domain import effects as fx
    from domain.deal import Deal
    from domain.ids import onboarding_workflow_id, post_check_workflow_id
    from domain.machine import HandoffMachine
    from domain.notifications import Notification
    from domain.onboarding import OnboardingInput, PostCheckInput
    from domain.policy import Policy
    from domain.timeline import Kind
    from workflows.onboarding import OnboardingTransitionWorkflow
    from workflows.post_check import PostHandoffCheckWorkflow

# Outside systems may be down for hours; a handoff waits for them rather than losing a message.
PATIENT = RetryPolicy(
    initial_interval=timedelta(seconds=1), backoff_coefficient=2.0, maximum_interval=timedelta(minutes=5)
)
CALL_TIMEOUT = timedelta(seconds=30)
GIVE_UP_AFTER = timedelta(days=3)


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
        self._tasks: list[asyncio.Task] = []

    async def run(self, effect: fx.Effect) -> None:
        if isinstance(effect, fx.Notify):
            self._background(self._notify(effect))
        elif isinstance(effect, fx.CreateCrmTask):
            task = CrmTask(
                deal=self._machine.state.deal,
                key=effect.key,
                owner=effect.owner,
                subject=effect.subject,
                body=effect.body,
                due=effect.due,
            )
            self._background(self._crm_write(CrmActivities.create_task, task, "task"))
        elif isinstance(effect, fx.ReleaseCommission):
            release = CommissionRelease(deal=self._machine.state.deal, key=effect.key, note=effect.note)
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

    async def drain(self) -> None:
        """Wait for every background call, including those their results set off."""
        while self._tasks:
            tasks, self._tasks = self._tasks, []
            await asyncio.gather(*tasks)
            await self._settle()

    async def fetch_deal(self, carried: Deal) -> Deal:
        try:
            return await workflow.execute_activity_method(
                CrmActivities.fetch_deal,
                FetchDeal(deal=carried),
                start_to_close_timeout=CALL_TIMEOUT,
                schedule_to_close_timeout=timedelta(hours=1),
                retry_policy=PATIENT,
                summary="fetch the deal from the CRM",
            )
        except ActivityError as err:
            self._machine.note(Kind.CRM_WRITE_FAILED, workflow.now(), what="fetch deal", error=str(err.cause or err))
            return carried

    async def _notify(self, effect: fx.Notify) -> None:
        note = Notification(
            key=effect.key,
            workflow_id=self._machine.state.workflow_id,
            event=effect.event,
            to=effect.to,
            subject=effect.subject,
            text=effect.text,
            details=effect.details,
        )
        try:
            await workflow.execute_activity_method(
                NotifyActivities.notify,
                note,
                start_to_close_timeout=CALL_TIMEOUT,
                schedule_to_close_timeout=GIVE_UP_AFTER,
                retry_policy=PATIENT,
                summary=f"notify: {effect.event}",
            )
        except ActivityError as err:
            self._failed("notify " + effect.event, err)

    async def _crm_write(self, method, request, what: str) -> None:
        try:
            await workflow.execute_activity_method(
                method,
                request,
                start_to_close_timeout=CALL_TIMEOUT,
                schedule_to_close_timeout=GIVE_UP_AFTER,
                retry_policy=PATIENT,
                summary=f"CRM: {what}",
            )
        except ActivityError as err:
            self._failed(f"CRM {what}", err)

    async def _assign_csm(self, team_name: str) -> None:
        team = next(team for team in self._policy.teams if team.name == team_name)
        request = AssignCsmRequest(workflow_id=self._machine.state.workflow_id, team=team, day=workflow.now().date())
        try:
            choice = await workflow.execute_activity_method(
                StoreActivities.assign_csm,
                request,
                start_to_close_timeout=CALL_TIMEOUT,
                schedule_to_close_timeout=GIVE_UP_AFTER,
                retry_policy=PATIENT,
                summary=f"assign a CSM from {team_name}",
            )
        except ActivityError as err:
            self._failed("CSM assignment", err)
            return
        self._machine.csm_chosen(choice.csm, choice.team, choice.reason, workflow.now())
        self._poke()

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
                await workflow.execute_activity_method(
                    StoreActivities.record,
                    snapshot,
                    start_to_close_timeout=CALL_TIMEOUT,
                    retry_policy=PATIENT,
                    summary="record in the read model",
                )
                self._recorded = upto
        finally:
            self._store_busy = False

    async def _start_onboarding(self) -> None:
        child_id = onboarding_workflow_id(self._machine.state.workflow_id)
        deal = self._machine.state.deal
        await workflow.start_child_workflow(
            OnboardingTransitionWorkflow.run,
            OnboardingInput(
                parent_id=self._machine.state.workflow_id,
                deal=deal,
                policy=self._policy.onboarding,
                closed_at=deal.closed_at or self._machine.state.facts.won_at,
            ),
            id=child_id,
            parent_close_policy=workflow.ParentClosePolicy.ABANDON,
            static_summary=f"Onboarding to CS for {deal.account or deal.deal_id}",
        )
        self._machine.child_started("onboarding", child_id, workflow.now())

    async def _start_post_check(self) -> None:
        state = self._machine.state
        child_id = post_check_workflow_id(state.workflow_id)
        close = state.deal.closed_at or state.facts.won_at
        if close is None:  # the post-check deadline is only set once the deal is won
            raise RuntimeError(f"{state.workflow_id}: a post-check before the deal was won")
        schedule = {
            m: self._policy.calendar.add(close, span)
            for m, span in self._policy.onboarding.schedule.items()
            if m in self._policy.onboarding.required_milestones
        }
        check = PostCheckInput(
            parent_id=state.workflow_id,
            deal=state.deal,
            policy=self._policy.post_check,
            schedule=schedule,
            reached=dict(state.milestones),
            partner=state.approach is not None and state.approach.approach.value == "partner_mediated",
        )
        await workflow.start_child_workflow(
            PostHandoffCheckWorkflow.run,
            check,
            id=child_id,
            parent_close_policy=workflow.ParentClosePolicy.ABANDON,
            static_summary=f"30-day check for {state.deal.account or state.deal.deal_id}",
        )
        self._machine.child_started("post_check", child_id, workflow.now())

    async def _end_children(self, reason: str) -> None:
        for child in self._machine.state.children.values():
            if child.finished_at is None:
                try:
                    await workflow.get_external_workflow_handle(child.workflow_id).cancel()
                except Exception:  # already finished: nothing to end
                    pass

    def _failed(self, what: str, err: BaseException) -> None:
        kind = Kind.CRM_WRITE_FAILED if what.startswith("CRM") else Kind.WARNING
        self._machine.note(kind, workflow.now(), what=what, error=str(getattr(err, "cause", None) or err))
        self._poke()
