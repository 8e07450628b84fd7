"""Recorded handoffs replayed under one policy: together on one clock, in close-time order, sharing the
CSM round robin and every CSM's load as they did when they happened."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from domain.backtest.recorded import RecordedHandoff
from domain.ids import handoff_workflow_id
from domain.policy import Policy
from domain.simulation.assignments import Assignments
from domain.simulation.handoff_run import HandoffRun
from domain.simulation.simulator import Handoff, run_all, scenario_usage
from domain.state import HandoffState


def replay(handoffs: Sequence[RecordedHandoff], policy: Policy, until: datetime) -> list[HandoffState]:
    """Each handoff's state at `until` (or when it closed), in close-time order."""
    ordered = sorted(handoffs, key=lambda handoff: (handoff.deal.closed_at, handoff.deal.crm, handoff.deal.deal_id))
    assignments = Assignments()
    runs = []
    for handoff in ordered:
        deal = handoff.deal.deal()
        run = HandoffRun(
            handoff_workflow_id(deal.crm, deal.deal_id),
            deal,
            policy,
            assignments,
            scenario_usage(handoff.active_users),
            document=handoff.document(),
            # The figures are the rules' (breaches, escalations by role, tiers, holds, times), not who
            # was told: notices are neither resolved nor recorded, a third of a replay's work.
            notices=False,
        )
        runs.append(Handoff(run=run, start=handoff.start, messages=handoff.timed(), end=until))
    run_all(runs)
    return [handoff.run.machine.state for handoff in runs]
