"""The worker's SLA breach counter, by SLA and approach, read through the SDK's metric buffer."""

from datetime import timedelta

from temporalio.runtime import MetricBuffer, Runtime, TelemetryConfig
from temporalio.testing import WorkflowEnvironment

from domain.policy import Policy
from infra import temporal_binaries
from infra.search_attribute_setup import register_search_attributes
from infra.temporal_client import data_converter
from tests.conftest import assert_eventually
from tests.handoffs import READY_DOCUMENT, deal
from tests.workers import handoff_worker, new_database
from workflows.handoff import DealHandoffWorkflow, HandoffInput


async def test_breaches_are_counted_by_sla_and_approach(tmp_path):
    buffer = MetricBuffer(10_000)
    runtime = Runtime(telemetry=TelemetryConfig(metrics=buffer))
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=temporal_binaries.test_server_path(), data_converter=data_converter(), runtime=runtime
    )
    try:
        await register_search_attributes(env.client)
        async with handoff_worker(env.client, new_database(tmp_path)) as worker:
            d = deal(closed_at=await env.get_current_time())
            handle = await env.client.start_workflow(
                DealHandoffWorkflow.run,
                HandoffInput(deal=d, policy=Policy(), document=READY_DOCUMENT),
                id=f"baton-hubspot-{d.deal_id}",
                task_queue=worker.task_queue,
            )

            async def started():
                assert (await handle.query(DealHandoffWorkflow.state)).owners.csm

            await assert_eventually(started)
            await env.sleep(timedelta(hours=49))
            await handle.query(DealHandoffWorkflow.state)
        breaches = [
            (update.attributes.get("sla"), update.attributes.get("approach"), update.value)
            for update in buffer.retrieve_updates()
            if update.metric.name == "baton_sla_breaches"
        ]
        assert ("csm_briefed", "structured", 1) in breaches
        assert ("cs_first_touch", "structured", 1) in breaches
        assert all(sla != "intro_held" for sla, _, _ in breaches)  # due at 5 days: not yet
    finally:
        await env.shutdown()
