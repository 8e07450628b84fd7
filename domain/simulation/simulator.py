"""The discrete-event loop: handoffs on one virtual clock, and `simulate` for one scenario.

At one instant the order is fixed: first every run's own timers (a handoff's, then its children's),
then handoffs starting, then messages, in file order (across handoffs: in the order the handoffs were
given, which a backtest makes close-time order). A message at the very instant a deadline falls due
therefore comes after it: the deadline is breached, as it is when the run's timer fires first.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum
from typing import Any

from domain.directory import Directory
from domain.ids import handoff_workflow_id
from domain.onboarding import UsageReport
from domain.policy import Policy
from domain.scenario import Scenario, TimedMessage, timed_messages
from domain.simulation.assignments import Assignments
from domain.simulation.handoff_run import HandoffRun
from domain.simulation.lines import timeline_lines


class _Step(IntEnum):
    """What comes first at one instant."""

    TIMER = 0
    START = 1
    MESSAGE = 2


@dataclass
class Handoff:
    """One handoff to simulate: its run, when it starts, what it receives and when to stop."""

    run: HandoffRun
    start: datetime
    messages: Sequence[TimedMessage]
    end: datetime


def run_all(handoffs: Sequence[Handoff]) -> None:
    """Every handoff to its end, together on one clock (they share whatever their runs share)."""
    # (instant, step, handoff, order, version): plain tuples, as the heap compares them a great deal.
    queue: list[tuple[datetime, int, int, int, int]] = []
    versions = [0] * len(handoffs)
    for index, handoff in enumerate(handoffs):
        queue.append((handoff.start, _Step.START, index, -1, 0))
        queue.extend((message.at, _Step.MESSAGE, index, order, 0) for order, message in enumerate(handoff.messages))
    heapq.heapify(queue)
    while queue:
        at, step, index, order, version = heapq.heappop(queue)
        handoff = handoffs[index]
        if at > handoff.end or (step == _Step.TIMER and version != versions[index]):
            continue
        run = handoff.run
        if step == _Step.START:
            run.start(at)
        elif step == _Step.MESSAGE:
            run.deliver(handoff.messages[order], at)
        else:
            run.fire(at)
        versions[index] += 1
        wake = run.wake_at()
        if wake is not None:
            # A timer already due (a late start) fires at the instant being processed.
            heapq.heappush(queue, (max(wake, at), _Step.TIMER, index, 0, versions[index]))


def scenario_usage(active_users: int | None) -> UsageReport:
    """What the scenario's usage source reports at the 30-day check."""
    if active_users is None:
        return UsageReport(measured=False, source="scenario")
    return UsageReport(measured=True, active_users=active_users, source="scenario")


def scenario_handoff(
    scenario: Scenario, policy: Policy, assignments: Assignments, directory: Directory | None = None
) -> Handoff:
    """`directory`: who the notices reach (the scenario's own `directory:` section wins)."""
    deal = scenario.deal
    run = HandoffRun(
        handoff_workflow_id(deal.crm, deal.deal_id),
        deal,
        policy,
        assignments,
        scenario_usage(scenario.active_users),
        document=scenario.document,
        won=scenario.won,
        directory=scenario.directory or directory,
    )
    messages = timed_messages(scenario, policy.calendar.add)
    last = messages[-1].at if messages else scenario.close
    return Handoff(run=run, start=scenario.close, messages=messages, end=max(scenario.end, last))


def simulate(scenario: Scenario, policy: Policy, directory: Directory | None = None) -> list[dict[str, Any]]:
    """The scenario's timeline as `baton simulate` prints it, one dict per line."""
    handoff = scenario_handoff(scenario, policy, Assignments(), directory)
    run_all([handoff])
    run = handoff.run
    return timeline_lines(run.machine.state.timeline, run.refusals, policy.calendar.tz)
