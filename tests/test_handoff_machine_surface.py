"""The machine's public surface as its callers hold it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.ids import handoff_workflow_id
from domain.machine import HandoffMachine
from domain.policy import Policy
from domain.state import ChildKind, Outcome
from tests.handoffs import READY_DOCUMENT, deal

pytestmark = pytest.mark.unit

CLOSE = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def test_kinds_given_as_their_strings_take_the_same_path():
    """The machine's callers may hold a kind as its string (a scenario file, an older caller)."""
    won = deal(closed_at=CLOSE)
    workflow_id = handoff_workflow_id(won.crm, won.deal_id)
    machine = HandoffMachine.new(workflow_id, won, Policy())
    machine.start(won, READY_DOCUMENT, won=True, now=CLOSE)
    machine.child_started("onboarding", f"{workflow_id}-onboarding", CLOSE)  # type: ignore[arg-type]
    assert machine.state.children[ChildKind.ONBOARDING].kind is ChildKind.ONBOARDING
    machine.stage_changed("lost", "closedlost", None, None, CLOSE + timedelta(hours=1))  # type: ignore[arg-type]
    assert machine.state.outcome is Outcome.LOST and machine.state.ended
    with pytest.raises(ValueError):
        machine.stage_changed("closed-ish", "x", None, None, CLOSE + timedelta(hours=2))  # type: ignore[arg-type]
