"""`baton simulate --temporal`: the scenario run by the real workflows on the time-skipping server.

The fidelity check of the pure simulator: what the two print for a scenario must be the same. The
test server's clock starts at the real now and only moves forward, so the scenario is moved by whole
28-year cycles onto server time (weekdays, holidays and local times line up) and printed back in
scenario time. Each message waits until the workflows have finished the instant before it
(cli/simulate_pacing.py), so a message at the instant a timer fires always comes after it.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.runtime import LogForwardingConfig, LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker
from temporalio.workflow import UpdateMethodMultiParam

from activities.crm import CrmActivities
from activities.notify import NotifyActivities
from activities.notify_sinks import LogSink
from activities.recipients import RecipientActivities
from activities.store_activities import StoreActivities
from activities.usage import UsageActivities, UsageRequest
from cli.simulate_pacing import Sent, waiting_for
from cli.test_server_guard import guarded_test_server
from domain import messages as m
from domain.directory import Directory
from domain.errors import ErrorType, Refused
from domain.ids import handoff_workflow_id, onboarding_workflow_id, post_check_workflow_id
from domain.policy import Policy
from domain.scenario import MessageType, Scenario, TimedMessage, shift_date, time_shift, timed_messages
from domain.simulation.lines import timeline_lines
from domain.simulation.routing import Refusal, refusal, unreachable
from domain.state import ChildKind, HandoffState
from infra.search_attribute_setup import register_search_attributes
from infra.temporal_client import data_converter
from store.engine import make_engine
from store.migrate import upgrade
from worker.registry import WORKFLOW_RUNNER, WORKFLOWS, activities_of
from workflows.handoff import DealHandoffWorkflow, HandoffInput
from workflows.onboarding import OnboardingTransitionWorkflow
from workflows.post_check import PostHandoffCheckWorkflow

_UPDATES: dict[MessageType, UpdateMethodMultiParam[[Any, Any], Any]] = {
    MessageType.DOCUMENT: DealHandoffWorkflow.update_document,
    MessageType.CSM: DealHandoffWorkflow.assign_csm,
    MessageType.INTAKE_REVIEW: DealHandoffWorkflow.intake_review,
    MessageType.INTRO: DealHandoffWorkflow.intro,
    MessageType.FIRST_TOUCH: DealHandoffWorkflow.first_touch,
    MessageType.KICKOFF: DealHandoffWorkflow.kickoff,
    MessageType.AE_DEPARTURE: DealHandoffWorkflow.ae_departure,
    MessageType.EXTEND_DEADLINE: DealHandoffWorkflow.extend_deadline,
    MessageType.MILESTONE: OnboardingTransitionWorkflow.milestone,
    MessageType.POST_CHECK: PostHandoffCheckWorkflow.answers,
}


async def start_server(folder: Path) -> WorkflowEnvironment:
    """A time-skipping server that dies with this process, with Baton's search attributes; its core
    logs go to standard error (standard output is the timeline). `folder` must outlive the server."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=guarded_test_server(folder), data_converter=data_converter(), runtime=_quiet_runtime()
    )
    await register_search_attributes(env.client)
    return env


async def simulate(scenario: Scenario, policy: Policy, directory: Directory | None = None) -> list[dict[str, Any]]:
    """The timeline of the handoff and its children, in scenario time, one dict per line."""
    with tempfile.TemporaryDirectory() as folder:
        env = await start_server(Path(folder))
        try:
            return await simulate_on(env, scenario, policy, Path(folder), directory)
        finally:
            await env.shutdown()


async def simulate_on(
    env: WorkflowEnvironment, scenario: Scenario, policy: Policy, folder: Path, directory: Directory | None = None
) -> list[dict[str, Any]]:
    """`simulate` on a server already started (the benchmark times this part alone)."""
    shift = time_shift(scenario.close, await env.get_current_time())
    # Offsets such as +3bd resolve on the scenario's own calendar, before the shift.
    messages = timed_messages(scenario, policy.calendar.add)
    url = f"sqlite:///{folder}/simulate-{uuid.uuid4().hex[:8]}.db"
    upgrade(url)
    store = StoreActivities(make_engine(url))
    # Out-of-office days are read on the server's date, which runs `shift` from the scenario's.
    acts = activities_of(
        CrmActivities({}),
        NotifyActivities([LogSink()]),
        store,
        UsageActivities(_FixedUsage(scenario.active_users)),
        RecipientActivities(scenario.directory or directory or Directory()),
    )
    task_queue = f"simulate-{uuid.uuid4()}"
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            async with Worker(
                env.client,
                task_queue=task_queue,
                workflows=WORKFLOWS,
                workflow_runner=WORKFLOW_RUNNER,
                activities=acts,
                activity_executor=pool,
            ):
                driver = _Driver(env, scenario, _shifted_policy(policy, shift), shift, task_queue)
                state, refusals = await driver.run(messages)
    finally:
        store.engine.dispose()
    return timeline_lines(state.timeline, refusals, policy.calendar.tz, shift)


class _Driver:
    """Delivers the scenario to the workflows one instant at a time, in server time."""

    def __init__(self, env: WorkflowEnvironment, scenario: Scenario, policy: Policy, shift: timedelta, queue: str):
        self._env = env
        self._scenario = scenario
        self._policy = policy
        self._shift = shift
        self._queue = queue
        self._sent = Sent()
        deal = scenario.deal
        self._deal = deal.model_copy(
            update={"created_at": deal.created_at and deal.created_at + shift, "closed_at": scenario.close + shift}
        )
        self._id = handoff_workflow_id(deal.crm, deal.deal_id)
        self._handle: WorkflowHandle[Any, Any] = env.client.get_workflow_handle(self._id)

    async def run(self, messages: list[TimedMessage]) -> tuple[HandoffState, list[Refusal]]:
        refusals: list[Refusal] = []
        await self._sleep_until(self._scenario.close + self._shift)
        self._handle = await self._env.client.start_workflow(
            DealHandoffWorkflow.run,
            # The won event happens at the scenario's close, so every SLA-start rule measures from it.
            HandoffInput(
                deal=self._deal,
                policy=self._policy,
                document=self._scenario.document,
                won=self._scenario.won,
                learned_at=self._deal.closed_at if self._scenario.won else None,
            ),
            id=self._id,
            task_queue=self._queue,
        )
        state = await self._finish(self._scenario.close + self._shift)
        for message in messages:
            at = message.at + self._shift
            state = await self._finish(at)
            refused = unreachable(state, message.type) or await self._send(message, state)
            if refused is not None:
                refusals.append(refusal(at, message.type, refused, state))
        last = messages[-1].at if messages else self._scenario.close
        state = await self._finish(max(self._scenario.end, last) + self._shift)
        return state, refusals

    async def _send(self, message: TimedMessage, state: HandoffState) -> Refused | None:
        """Deliver one message; what its run refused, if it did."""
        body = _shifted(message.body, self._shift)
        if message.type is MessageType.STAGE:
            assert isinstance(body, m.StageChanged)
            self._sent.stage = body.kind
            await self._handle.signal(DealHandoffWorkflow.stage_changed, body)
            return None
        target = {
            MessageType.MILESTONE: onboarding_workflow_id(self._id),
            MessageType.POST_CHECK: post_check_workflow_id(self._id),
        }.get(message.type, self._id)
        update = _UPDATES[message.type]
        if message.type is MessageType.POST_CHECK and ChildKind.POST_CHECK not in state.children:
            # Before the check starts, the handoff keeps the answers for it (or refuses them).
            target, update = self._id, DealHandoffWorkflow.post_check_answers
        try:
            await self._env.client.get_workflow_handle(target).execute_update(update, body)
        except WorkflowUpdateFailedError as err:
            cause = err.cause
            if not isinstance(cause, ApplicationError) or cause.type is None:
                raise
            return Refused(ErrorType(cause.type), cause.message)
        if message.type is MessageType.MILESTONE:
            self._sent.milestones += 1
        elif message.type is MessageType.POST_CHECK:
            self._sent.answered = True
        return None

    async def _finish(self, through: datetime) -> HandoffState:
        """Move the server's clock to `through` and wait until the workflows have done all it holds."""
        await self._sleep_until(through)
        while True:
            state: HandoffState = await self._handle.query(DealHandoffWorkflow.state)
            waiting = waiting_for(state, self._policy, through, self._sent)
            if waiting is None:
                return state
            if isinstance(waiting, datetime) and waiting > await self._env.get_current_time():
                await self._sleep_until(waiting)
            else:
                # A workflow task or an activity is on its way: a few milliseconds of real time.
                await asyncio.sleep(0.002)

    async def _sleep_until(self, moment: datetime) -> None:
        remaining = moment - await self._env.get_current_time()
        if remaining > timedelta(0):
            await self._env.sleep(remaining)


def _shifted(body: BaseModel, shift: timedelta) -> BaseModel:
    """A message body with its instants moved onto server time."""
    if isinstance(body, m.IntroUpdate) and body.scheduled_for is not None:
        return body.model_copy(update={"scheduled_for": body.scheduled_for + shift})
    if isinstance(body, m.DeadlineExtension) and body.new_due is not None:
        return body.model_copy(update={"new_due": body.new_due + shift})
    if isinstance(body, m.StageChanged):
        deal = body.deal
        if deal is not None:
            deal = deal.model_copy(
                update={
                    "created_at": deal.created_at and deal.created_at + shift,
                    "closed_at": deal.closed_at and deal.closed_at + shift,
                }
            )
        return body.model_copy(update={"deal": deal, "at": body.at and body.at + shift})
    return body


def _shifted_policy(policy: Policy, shift: timedelta) -> Policy:
    """Dates in the policy (holidays, CSMs' time off) moved with the scenario."""
    calendar = policy.calendar.model_copy(
        update={"holidays": [shift_date(day, shift) for day in policy.calendar.holidays]}
    )
    teams = [
        team.model_copy(
            update={
                "csms": [
                    csm.model_copy(
                        update={
                            "out_of_office": [
                                (shift_date(start, shift), shift_date(end, shift)) for start, end in csm.out_of_office
                            ]
                        }
                    )
                    for csm in team.csms
                ]
            }
        )
        for team in policy.teams
    ]
    return policy.model_copy(update={"calendar": calendar, "teams": teams})


def _quiet_runtime() -> Runtime:
    """The SDK core logs to standard output by default; stdout here is the timeline, so its warnings
    go through Python logging to standard error."""
    forward = LogForwardingConfig(logger=logging.getLogger("temporalio.core"))
    return Runtime(
        telemetry=TelemetryConfig(logging=LoggingConfig(filter=TelemetryFilter("ERROR", "ERROR"), forwarding=forward))
    )


class _FixedUsage:
    """The usage source a scenario sets (`active_users`; none: not measured)."""

    name = "scenario"

    def __init__(self, users: int | None) -> None:
        self._users = users

    async def active_users(self, request: UsageRequest) -> int | None:
        return self._users
