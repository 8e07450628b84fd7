"""A 90-day white-glove handoff on the time-skipping server (what `baton simulate` runs), against 20
bare timers over 90 days. Both time only the run: each server is started before the clock starts."""

from __future__ import annotations

import tempfile
import time
import uuid
from pathlib import Path

from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from bench.bare import BareTimersWorkflow
from cli import simulate_cmd
from cli.policy_file import read_policy
from domain.policy import parse_policy
from domain.scenario import When, time_shift
from worker.connect import data_converter
from worker.search_attribute_setup import register_search_attributes
from worker.temporal_binaries import test_server_path

SCENARIO = Path(__file__).parent.parent / "examples" / "friday-close-white-glove.yaml"


async def baton_simulate() -> float:
    """simulate_cmd.simulate with the server start taken out of the timing: the same steps, then its
    `_run` (private, but it is exactly the part the figure is about)."""
    scenario = simulate_cmd.load_scenario(str(SCENARIO)).model_copy(update={"horizon": "90d"})
    policy = read_policy(None)
    if scenario.policy:
        policy = parse_policy(simulate_cmd._deep_merge(policy.model_dump(mode="json"), scenario.policy))
    env = await WorkflowEnvironment.start_time_skipping(test_server_existing_path=test_server_path(),
                                                        data_converter=data_converter(), runtime=simulate_cmd._quiet_runtime())
    try:
        await register_search_attributes(env.client)
        started = time.perf_counter()
        shift = time_shift(scenario.close, await env.get_current_time())
        timed = sorted(
            ((When(text=msg.at).resolve(scenario.close, policy.calendar.add) + shift, index, msg)
             for index, msg in enumerate(scenario.messages)),
            key=lambda item: (item[0], item[1]),
        )
        with tempfile.TemporaryDirectory() as folder:
            lines = await simulate_cmd._run(env, scenario, timed, simulate_cmd._shifted_policy(policy, shift), shift, folder)
        elapsed = time.perf_counter() - started
        assert lines, "the simulation produced no timeline"
        return elapsed
    finally:
        await env.shutdown()


async def bare_timers(timers: int = 20) -> float:
    env = await WorkflowEnvironment.start_time_skipping(test_server_existing_path=test_server_path())
    try:
        queue = f"bench-timers-{uuid.uuid4().hex[:6]}"
        async with Worker(env.client, task_queue=queue, workflows=[BareTimersWorkflow]):
            started = time.perf_counter()
            await env.client.execute_workflow(BareTimersWorkflow.run, timers, id=queue, task_queue=queue)
            return time.perf_counter() - started
    finally:
        await env.shutdown()
