"""Worker memory with many open runs each waiting on a timer: a fresh Baton worker against a fresh bare
worker, each on its own task queue, RSS read from /proc once the starts have been worked through."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta

from temporalio.client import Client

from bench.bare import BareWorkflow
from bench.measure import bounded
from bench.stack import Stack, rss_bytes
from domain.deal import Deal
from domain.ids import handoff_workflow_id
from infra.policy_file import read_policy
from workflows.handoff import DealHandoffWorkflow, HandoffInput

QUIET_WAIT = 1800.0


async def _settled_rss(pid: int, probe, limit: float = 120.0) -> int:
    """After the last runs answer a query (so the queue is worked through), wait for RSS to level off."""
    await probe()
    deadline = time.monotonic() + limit
    last = rss_bytes(pid)
    while time.monotonic() < deadline:
        await asyncio.sleep(1.0)
        now = rss_bytes(pid)
        if abs(now - last) < 0.02 * last:
            return now
        last = now
    return last


async def open_runs_rss(stack: Stack, baton: Client, bare: Client, count: int) -> dict:
    suffix = uuid.uuid4().hex[:6]
    baton_queue, bare_queue = f"bench-rss-baton-{suffix}", f"bench-rss-bare-{suffix}"
    baton_pid = stack.baton_worker("rss-baton-worker", baton_queue).pid
    bare_pid = stack.bare_worker("rss-bare-worker", bare_queue).pid
    idle = {"baton": rss_bytes(baton_pid), "bare": rss_bytes(bare_pid)}
    policy, closed = read_policy(str(stack.folder / "policy.yaml")), datetime.now(UTC)
    baton_ids: list[str] = []

    async def one_baton(index: int) -> None:
        deal = Deal(
            crm="bench",
            deal_id=f"rss{suffix}{index}",
            account="Bench Co",
            acv=50_000,
            ae="ae@bench.invalid",
            created_at=closed - timedelta(days=60),
            closed_at=closed,
        )
        workflow_id = handoff_workflow_id(deal.crm, deal.deal_id)
        baton_ids.append(workflow_id)
        await baton.start_workflow(
            DealHandoffWorkflow.run, HandoffInput(deal=deal, policy=policy), id=workflow_id, task_queue=baton_queue
        )

    async def one_bare(index: int) -> None:
        await bare.start_workflow(BareWorkflow.run, "bench", id=f"bare-rss-{suffix}-{index}", task_queue=bare_queue)

    await bounded(count, 50, one_baton)
    await bounded(count, 50, one_bare)
    # Thousands of new handoffs are minutes of work (each fetches, assigns, notifies and records):
    # wait for the workers and the server to finish it before asking anything of the runs.
    await asyncio.to_thread(stack.wait_quiet, ("rss-baton-worker", "rss-bare-worker", "temporal"), 0.1, QUIET_WAIT)
    probe_timeout = timedelta(seconds=60)

    async def baton_probe() -> None:
        for workflow_id in baton_ids[-10:]:
            await baton.get_workflow_handle(workflow_id).query(DealHandoffWorkflow.state, rpc_timeout=probe_timeout)

    async def bare_probe() -> None:
        for index in range(max(0, count - 10), count):
            await bare.get_workflow_handle(f"bare-rss-{suffix}-{index}").query(
                BareWorkflow.state, rpc_timeout=probe_timeout
            )

    loaded = {"baton": await _settled_rss(baton_pid, baton_probe), "bare": await _settled_rss(bare_pid, bare_probe)}
    # Per open run above the idle worker: with more open runs than a worker caches (Baton 250, the
    # SDK's default 1000), only the cached ones stay in memory, so this falls as the count grows.
    return {
        "baton": loaded["baton"] / 2**20,
        "bare": loaded["bare"] / 2**20,
        "unit": "MiB",
        "open_runs": count,
        "idle_baton_mib": idle["baton"] / 2**20,
        "idle_bare_mib": idle["bare"] / 2**20,
        "per_run_kib_baton": (loaded["baton"] - idle["baton"]) / count / 1024,
        "per_run_kib_bare": (loaded["bare"] - idle["bare"]) / count / 1024,
    }
