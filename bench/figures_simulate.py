"""`baton simulate` of a 90-day white-glove handoff, pure against --temporal, and `baton backtest` of a
quarter's handoffs under two policies. Times only the work: the test server is started before the
clock starts, the pure simulator's first run (imports, caches) is left out."""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from bench import backtest_deals
from cli import simulate_cmd, simulate_temporal
from cli.backtest_cmd import fewer_collections
from cli.backtest_files import read_deals
from domain.backtest.replay import replay
from domain.backtest.report import compare, figures
from domain.policy import parse_policy
from domain.scenario import Scenario
from domain.simulation.simulator import simulate
from infra.policy_file import read_policy

SCENARIO = Path(__file__).parent.parent / "examples" / "friday-close-white-glove.yaml"
# The candidate the backtest tries: a faster intro and a lower bar for ready.
CANDIDATE = {"name": "faster-intro", "scoring": {"ready_at": 80}, "slas": {"intro_scheduled": {"due": "2bd"}}}


def ninety_days() -> tuple[Scenario, object]:
    scenario = simulate_cmd.load_scenario(str(SCENARIO)).model_copy(update={"horizon": "90d"})
    return scenario, simulate_cmd.scenario_policy(scenario, read_policy(None))


def pure_seconds(runs: int) -> float:
    """The median of `runs` in-process runs of the pure simulator."""
    scenario, policy = ninety_days()
    simulate(scenario, policy)  # type: ignore[arg-type]
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        lines = simulate(scenario, policy)  # type: ignore[arg-type]
        times.append(time.perf_counter() - started)
        assert lines, "the simulation produced no timeline"
    return statistics.median(times)


async def temporal_seconds() -> float:
    """One run of the real workflows on the time-skipping server (what `--temporal` does)."""
    scenario, policy = ninety_days()
    with tempfile.TemporaryDirectory() as folder:
        env = await simulate_temporal.start_server(Path(folder))
        try:
            started = time.perf_counter()
            lines = await simulate_temporal.simulate_on(env, scenario, policy, Path(folder))  # type: ignore[arg-type]
            elapsed = time.perf_counter() - started
            assert lines, "the simulation produced no timeline"
            return elapsed
        finally:
            await env.shutdown()


def backtest_seconds(count: int) -> float:
    """A backtest of `count` handoffs from a file, under the built-in and a candidate policy, loading included."""
    with tempfile.TemporaryDirectory() as folder:
        path = backtest_deals.write(Path(folder) / "deals.jsonl", count)
        started = time.perf_counter()
        deals = read_deals(str(path))
        until = max(deal.deal.closed_at for deal in deals).replace(microsecond=0) + backtest_deals.SETTLE
        current, candidate = read_policy(None), parse_policy(CANDIDATE)
        with fewer_collections():  # as `baton backtest` replays
            result = compare(figures(replay(deals, current, until)), figures(replay(deals, candidate, until)))
        elapsed = time.perf_counter() - started
    assert result["current"]["handoffs"] == count
    return elapsed
