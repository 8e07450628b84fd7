"""A 90-day white-glove handoff on the time-skipping server (what `baton simulate` runs), against 20
bare timers over 90 days. Both time only the run: each server is started before the clock starts."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from bench.bare import BareTimersWorkflow
from cli import simulate_cmd
from infra.policy_file import read_policy
from infra.temporal_binaries import test_server_path

SCENARIO = Path(__file__).parent.parent / "examples" / "friday-close-white-glove.yaml"


async def baton_simulate() -> float:
    """`baton simulate` of the example scenario over 90 days, the server started before the clock."""
    scenario = simulate_cmd.load_scenario(str(SCENARIO)).model_copy(update={"horizon": "90d"})
    policy = simulate_cmd.scenario_policy(scenario, read_policy(None))
    env = await simulate_cmd.start_server()
    try:
        started = time.perf_counter()
        lines = await simulate_cmd.simulate_on(env, scenario, policy)
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
