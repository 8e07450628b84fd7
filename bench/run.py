"""`make bench` / `python -m bench.run [--quick | --tiny]`: Baton against bare Temporal, as a table and
bench/results.json. A benchmark, not a test: it measures, prints and never fails on a target missed."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from temporalio.client import Client

from bench import figures_api, figures_memory, figures_pages, figures_readmodel, figures_simulate
from bench.stack import running_stack
from infra.temporal_client import data_converter

RESULTS = Path(__file__).parent / "results.json"


@dataclass(frozen=True)
class Counts:
    deals: int  # start throughput
    samples: int  # latency samples per figure
    open_runs: int  # worker memory
    rows: int  # read model
    backtest: int  # handoffs a backtest replays


FULL = Counts(deals=2000, samples=200, open_runs=10_000, rows=100_000, backtest=1000)
QUICK = Counts(deals=200, samples=20, open_runs=300, rows=2000, backtest=200)
TINY = Counts(deals=5, samples=3, open_runs=5, rows=50, backtest=20)


async def measure(counts: Counts, record) -> None:
    """Each figure is handed to `record(name, figure)` as soon as it is measured, so a long run that
    fails late still reports what it found; a figure that could not be measured says why."""
    with running_stack() as stack:
        baton = await Client.connect(stack.temporal_address, data_converter=data_converter())
        bare = await Client.connect(stack.temporal_address)  # the plain SDK client, default converter
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
        async with httpx.AsyncClient(base_url=stack.api_url, timeout=60, limits=limits) as http:
            # Warm-up: imports, connections and the workers' first tasks stay out of every figure.
            await figures_api.close_to_notified(stack, http, baton, bare, 1)

            start = await figures_api.start_throughput(stack, http, bare, counts.deals)
            record(
                "start_throughput",
                {
                    **start,
                    "target": ">= 0.8x bare",
                    "ok": start["baton"] >= 0.8 * start["bare"],
                    "settled_after_s": await asyncio.to_thread(stack.wait_quiet),
                },
            )

            notified, first_activity, lag, ids = await figures_api.close_to_notified(
                stack, http, baton, bare, counts.samples
            )
            record(
                "close_to_csm_notified", {**_latency(notified, first_activity, 2.0), "timeouts": notified["timeouts"]}
            )
            record(
                "read_model_lag",
                {
                    "baton": lag["p95"],
                    "bare": None,
                    "unit": "s (p95)",
                    "baton_p50": lag["p50"],
                    "bare_p50": None,
                    "samples": lag["n"],
                    "target": "-",
                    "ok": True,
                },
            )

            await asyncio.to_thread(stack.wait_quiet)
            update_b, update_t, read_b, read_t = await figures_api.round_trips(stack, http, bare, ids, counts.samples)
            record("message_round_trip", _latency(update_b, update_t, 2.0))
            record("state_read", _latency(read_b, read_t, 2.0))

        try:
            memory = await figures_memory.open_runs_rss(stack, baton, bare, counts.open_runs)
        except Exception as err:
            record("worker_rss_open_runs", _not_measured("<= 1.5x bare", err))
        else:
            record(
                "worker_rss_open_runs",
                {**memory, "target": "<= 1.5x bare", "ok": memory["baton"] <= 1.5 * memory["bare"]},
            )
        await figures_pages.measure(stack, counts.samples, record)  # the open handoffs above: queue, handoff page

    pure = await asyncio.to_thread(figures_simulate.pure_seconds, 200)
    temporal = await figures_simulate.temporal_seconds()
    record(
        "simulate_90_days",
        {
            "baton": pure,
            "bare": temporal,
            "unit": "s",
            "compared_with": "baton simulate --temporal (the real workflows on the time-skipping server)",
            "target": "< 5 ms (pure)",
            "ok": pure < 0.005,
        },
    )
    backtest = await asyncio.to_thread(figures_simulate.backtest_seconds, counts.backtest)
    record(
        "backtest_two_policies",
        {
            "baton": backtest,
            "bare": None,
            "unit": "s",
            "handoffs": counts.backtest,
            # What the same replays would take one by one on the test server, from the row above.
            "temporal_estimate_s": round(2 * counts.backtest * temporal, 1),
            # For 1,000 handoffs under two policies, loading included.
            "target": "< 10 s",
            "ok": backtest < 10.0,
        },
    )
    seconds, groups = await asyncio.to_thread(figures_readmodel.scorecard_seconds, counts.rows)
    record(
        "scorecard_sqlite",
        {
            "baton": seconds,
            "bare": None,
            "unit": "s",
            "rows": counts.rows,
            "groups": groups,
            "target": "< 1 s",
            "ok": seconds < 1.0,
        },
    )
    try:
        seconds, groups = await asyncio.to_thread(figures_readmodel.scorecard_seconds_postgres, counts.rows)
    except Exception as err:
        record("scorecard_postgresql", _not_measured("< 1 s", err))
    else:
        record(
            "scorecard_postgresql",
            {
                "baton": seconds,
                "bare": None,
                "unit": "s",
                "rows": counts.rows,
                "groups": groups,
                "target": "< 1 s",
                "ok": seconds < 1.0,
            },
        )


def _not_measured(target: str, err: Exception) -> dict:
    return {
        "baton": None,
        "bare": None,
        "unit": "-",
        "target": target,
        "ok": False,
        "not_measured": f"{type(err).__name__}: {err}"[:300],
    }


def _latency(baton: dict, bare: dict, factor: float) -> dict:
    return {
        "baton": baton["p95"],
        "bare": bare["p95"],
        "unit": "s (p95)",
        "baton_p50": baton["p50"],
        "bare_p50": bare["p50"],
        "samples": baton["n"],
        "target": f"p95 <= {factor:g}x bare",
        "ok": baton["p95"] <= factor * bare["p95"],
    }


HEADER = f"{'figure':<24} {'Baton':>14} {'bare':>14} {'ratio':>7}  {'target':<18} ok\n" + "-" * 86
FOOTER = "latencies: p50/p95; ratio = Baton / bare (for throughput, higher is better)"


def row(name: str, f: dict) -> str:
    baton, bare = f["baton"], f["bare"]
    ratio = f"{baton / bare:.2f}x" if bare and baton is not None else "-"
    if baton is None:
        baton_text, bare_text = "not measured", "-"
    elif "baton_p50" in f:
        baton_text = f"{f['baton_p50'] * 1000:.0f}/{baton * 1000:.0f}ms"
        bare_text = f"{f['bare_p50'] * 1000:.0f}/{bare * 1000:.0f}ms" if bare is not None else "-"
    else:
        baton_text = f"{baton:.3g} {f['unit']}"
        bare_text = f"{bare:.3g} {f['unit']}" if bare is not None else "-"
    return f"{name:<24} {baton_text:>14} {bare_text:>14} {ratio:>7}  {f['target']:<18} {'yes' if f['ok'] else 'NO'}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="small counts: about a minute")
    size.add_argument("--tiny", action="store_true", help="smoke-test counts: every figure, no meaning")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    mode, counts = ("tiny", TINY) if args.tiny else ("quick", QUICK) if args.quick else ("full", FULL)
    result: dict[str, Any] = {
        "mode": mode,
        "counts": counts.__dict__,
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "figures": {},
    }

    def record(name: str, figure: dict) -> None:
        result["figures"][name] = figure
        print(row(name, figure), flush=True)
        args.output.write_text(json.dumps(result, indent=2) + "\n")  # partial results survive a late failure

    print(HEADER, flush=True)
    code = 0
    try:
        asyncio.run(measure(counts, record))
    except Exception:
        traceback.print_exc()
        code = 1
    print(FOOTER)
    print(f"written: {args.output}" + (" (partial: the run failed)" if code else ""))
    sys.stdout.flush()
    sys.stderr.flush()
    # The SDK's native bridge can crash at interpreter exit after a test server ran (sdk-python #300).
    os._exit(code)


if __name__ == "__main__":
    main()
