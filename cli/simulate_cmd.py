"""`baton simulate SCENARIO`: run the real workflows on the time-skipping server and print the timeline.

RevOps tries a policy change on last quarter's deals before deploying it. The test server's clock
starts at the real now and only moves forward, so the scenario is moved by whole 28-year cycles onto
server time (weekdays, holidays and local times line up) and every instant is printed back in
scenario time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import tempfile
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowUpdateFailedError
from temporalio.exceptions import FailureError
from temporalio.runtime import LogForwardingConfig, LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker
from temporalio.workflow import UpdateMethodMultiParam

from activities.crm import CrmActivities
from activities.notify import NotifyActivities
from activities.notify_sinks import LogSink
from activities.store_activities import StoreActivities
from activities.usage import UsageActivities
from cli.errors import UsageError, describe_validation_error
from cli.settings import policy_path
from domain import messages as m
from domain.ids import handoff_workflow_id, onboarding_workflow_id, post_check_workflow_id
from domain.policy import Policy, parse_policy
from domain.scenario import MessageType, Scenario, When, shift_date, time_shift
from domain.state import HandoffState
from infra.policy_file import read_policy
from infra.search_attribute_setup import register_search_attributes
from infra.temporal_binaries import test_server_path
from infra.temporal_client import data_converter
from store.engine import make_engine
from store.migrate import upgrade
from worker.registry import WORKFLOW_RUNNER, WORKFLOWS, activities_of
from workflows.handoff import DealHandoffWorkflow, HandoffInput
from workflows.onboarding import OnboardingTransitionWorkflow
from workflows.post_check import PostHandoffCheckWorkflow

# Each message type: the update it becomes, its body model, and which run receives it.
_UPDATES: dict[MessageType, tuple[UpdateMethodMultiParam[[Any, Any], Any], type[BaseModel], str]] = {
    MessageType.DOCUMENT: (DealHandoffWorkflow.update_document, m.DocumentUpdate, "handoff"),
    MessageType.CSM: (DealHandoffWorkflow.assign_csm, m.CsmAssignment, "handoff"),
    MessageType.INTAKE_REVIEW: (DealHandoffWorkflow.intake_review, m.IntakeReviewInput, "handoff"),
    MessageType.INTRO: (DealHandoffWorkflow.intro, m.IntroUpdate, "handoff"),
    MessageType.FIRST_TOUCH: (DealHandoffWorkflow.first_touch, m.FirstTouch, "handoff"),
    MessageType.KICKOFF: (DealHandoffWorkflow.kickoff, m.KickoffHeld, "handoff"),
    MessageType.AE_DEPARTURE: (DealHandoffWorkflow.ae_departure, m.AeDeparture, "handoff"),
    MessageType.EXTEND_DEADLINE: (DealHandoffWorkflow.extend_deadline, m.DeadlineExtension, "handoff"),
    MessageType.MILESTONE: (OnboardingTransitionWorkflow.milestone, m.MilestoneReached, "onboarding"),
    MessageType.POST_CHECK: (PostHandoffCheckWorkflow.answers, m.PostCheckAnswers, "post_check"),
}


# The time-skipping server can stall when a message lands within moments of one of the run's timers,
# so such a message is delivered this much earlier (it then counts as in time for that deadline).
_CLEARANCE = timedelta(seconds=1)

# Timeline details that hold instants, printed back in scenario time like `at`.
_INSTANT_DETAILS = {"due", "previous_due", "scheduled_for"}


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("simulate", help="time-travel a handoff scenario on the time-skipping server")
    parser.add_argument("scenario", help="scenario file (YAML or JSON)")
    parser.add_argument("--policy", help="policy file; default $BATON_POLICY or built-in")
    parser.set_defaults(run=run, exits_hard=True)


def run(args: argparse.Namespace) -> int:
    scenario = load_scenario(args.scenario)
    policy = scenario_policy(scenario, read_policy(policy_path(args.policy)))
    for line in asyncio.run(simulate(scenario, policy)):
        print(json.dumps(line, default=str))
    return 0


def load_scenario(path: str) -> Scenario:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as err:
        raise UsageError(f"cannot read {path}: {err.strerror}") from None
    except yaml.YAMLError as err:
        raise UsageError(f"{path}: not YAML or JSON ({err})") from None
    try:
        return Scenario.model_validate(data)
    except ValidationError as err:
        raise UsageError(describe_validation_error(err, path)) from None


def scenario_policy(scenario: Scenario, base: Policy) -> Policy:
    """The policy file's policy with the scenario's own `policy:` keys laid over it."""
    if not scenario.policy:
        return base
    return parse_policy(_deep_merge(base.model_dump(mode="json"), scenario.policy))


async def start_server() -> WorkflowEnvironment:
    """A time-skipping server with Baton's search attributes, its core logs kept off standard output."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=test_server_path(), data_converter=data_converter(), runtime=_quiet_runtime()
    )
    await register_search_attributes(env.client)
    return env


async def simulate(scenario: Scenario, policy: Policy) -> list[dict[str, Any]]:
    """The timeline of the handoff and its children, in scenario time, one dict per entry."""
    env = await start_server()
    try:
        return await simulate_on(env, scenario, policy)
    finally:
        await env.shutdown()


async def simulate_on(env: WorkflowEnvironment, scenario: Scenario, policy: Policy) -> list[dict[str, Any]]:
    """`simulate` on a server already started (the benchmark times this part alone)."""
    shift = time_shift(scenario.close, await env.get_current_time())
    # Offsets such as +3bd resolve on the scenario's own calendar, before the shift.
    timed = sorted(
        (
            (When(text=msg.at).resolve(scenario.close, policy.calendar.add) + shift, index, msg)
            for index, msg in enumerate(scenario.messages)
        ),
        key=lambda item: (item[0], item[1]),
    )
    with tempfile.TemporaryDirectory() as folder:
        return await _run(env, scenario, timed, _shifted_policy(policy, shift), shift, folder)


async def _run(
    env: WorkflowEnvironment, scenario: Scenario, timed: list, policy: Policy, shift: timedelta, folder: str
):
    url = f"sqlite:///{folder}/simulate.db"
    upgrade(url)
    store = StoreActivities(make_engine(url))
    usage = _FixedUsage(scenario.active_users)
    acts = activities_of(CrmActivities({}), NotifyActivities([LogSink()]), store, UsageActivities(usage))
    closed_at = scenario.close + shift
    deal = scenario.deal.model_copy(
        update={
            "created_at": scenario.deal.created_at and scenario.deal.created_at + shift,
            "closed_at": closed_at,
        }
    )
    workflow_id = handoff_workflow_id(deal.crm, deal.deal_id)
    task_queue = f"simulate-{uuid.uuid4()}"
    refusals: list[dict[str, Any]] = []
    with ThreadPoolExecutor(max_workers=4) as pool:
        async with Worker(
            env.client,
            task_queue=task_queue,
            workflows=WORKFLOWS,
            workflow_runner=WORKFLOW_RUNNER,
            activities=acts,
            activity_executor=pool,
        ):
            await _sleep_until(env, closed_at)
            handle = await env.client.start_workflow(
                DealHandoffWorkflow.run,
                # The won event happens at the scenario's close, so every SLA-start rule measures from it.
                HandoffInput(
                    deal=deal,
                    policy=policy,
                    document=scenario.document,
                    won=scenario.won,
                    learned_at=deal.closed_at if scenario.won else None,
                ),
                id=workflow_id,
                task_queue=task_queue,
            )
            final: HandoffState | None = None
            for at, _, message in timed:
                if final is None:
                    await _sleep_until(env, await _delivery_instant(handle, at, policy))
                refusal = await _send(env.client, workflow_id, message, handle)
                if refusal:
                    refusals.append(
                        {"at": at, "kind": "message_refused", "message": message.type.value, "reason": refusal}
                    )
                if final is None and message.type is MessageType.STAGE and message.body.get("kind") == "lost":
                    final = await _closed_state(handle)
            if final is None:
                await _sleep_until(env, scenario.end + shift)
            state = final if final is not None else await handle.query(DealHandoffWorkflow.state)
    store.engine.dispose()
    tz = policy.calendar.tz
    lines = [{"at": entry.at, "kind": entry.kind.value, **entry.details} for entry in state.timeline] + refusals
    lines.sort(key=lambda line: line["at"])
    for line in lines:
        line["at"] = _to_second(line["at"] - shift).astimezone(tz).isoformat()
        for key in _INSTANT_DETAILS & line.keys():
            line[key] = (datetime.fromisoformat(line[key]) - shift).astimezone(tz).isoformat()
    return lines


async def _send(client: Client, workflow_id: str, message, handle) -> str | None:
    """Deliver one scenario message; the refusal reason when the workflow refuses it."""
    if message.type is MessageType.STAGE:
        await handle.signal(DealHandoffWorkflow.stage_changed, m.StageChanged.model_validate(message.body))
        return None
    update, model, target = _UPDATES[message.type]
    body = model.model_validate(message.body)
    target_id = {
        "handoff": workflow_id,
        "onboarding": onboarding_workflow_id(workflow_id),
        "post_check": post_check_workflow_id(workflow_id),
    }[target]
    target_handle = client.get_workflow_handle(target_id)
    # Ask first: the time-skipping server keeps its clock locked after an update to a closed run.
    try:
        running = (await target_handle.describe()).status is WorkflowExecutionStatus.RUNNING
    except RPCError:
        running = False
    if not running:
        return f"the {target.replace('_', ' ')} run is not open: it has ended or has not started"
    try:
        await target_handle.execute_update(update, body)
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        return str(cause.message if isinstance(cause, FailureError) else err)
    return None


async def _delivery_instant(handle, at: datetime, policy: Policy) -> datetime:
    state: HandoffState = await handle.query(DealHandoffWorkflow.state)
    close = state.deal.closed_at or at
    timers = [close + policy.onboarding.after.as_timedelta()]
    for deadline in state.deadlines.values():
        timers.append(deadline.due)
        timers.extend(step.at for step in deadline.escalations)
        if deadline.sla.value == "post_check":
            timers.append(deadline.due + policy.post_check.answer_window.as_timedelta())
    clash = any(abs(timer - at) < _CLEARANCE for timer in timers)
    return at - _CLEARANCE if clash else at


async def _closed_state(handle) -> HandoffState:
    """Wait for the run to close with the clock held still: letting the time-skipping server move its
    clock while a run is closing can stall it."""
    while (await handle.describe()).status is WorkflowExecutionStatus.RUNNING:  # noqa: ASYNC110 (polls a server)
        await asyncio.sleep(0.02)
    return await handle.result()


async def _sleep_until(env: WorkflowEnvironment, moment: datetime) -> None:
    remaining = moment - await env.get_current_time()
    if remaining > timedelta(0):
        await env.sleep(remaining)


def _to_second(moment: datetime) -> datetime:
    return (moment + timedelta(microseconds=500_000)).replace(microsecond=0)


def _quiet_runtime() -> Runtime:
    """The SDK core logs to standard output by default; stdout here is the timeline, so its warnings
    go through Python logging to standard error."""
    forward = LogForwardingConfig(logger=logging.getLogger("temporalio.core"))
    return Runtime(
        telemetry=TelemetryConfig(logging=LoggingConfig(filter=TelemetryFilter("ERROR", "ERROR"), forwarding=forward))
    )


def _shifted_policy(policy: Policy, shift: timedelta) -> Policy:
    calendar = policy.calendar.model_copy(
        update={"holidays": [shift_date(day, shift) for day in policy.calendar.holidays]}
    )
    return policy.model_copy(update={"calendar": calendar})


def _deep_merge(base: dict, changes: dict) -> dict:
    merged = dict(base)
    for key, value in changes.items():
        merged[key] = (
            _deep_merge(base[key], value) if isinstance(value, dict) and isinstance(base.get(key), dict) else value
        )
    return merged


class _FixedUsage:
    name = "scenario"

    def __init__(self, users: int | None) -> None:
        self._users = users

    async def active_users(self, request) -> int | None:
        return self._users
