"""Saved histories of every workflow replay against the current code.

Record a new scenario's history with `python -m tests.record_histories` (see its docstring); the files
already saved are never recorded over: they guard runs in flight. `partner_concern_before_kinds-*` was
recorded by the code before the 30-day check's failures carried their kind (89ef1fc): a failed check
whose concern names the partner, settled then by the word, which such runs must replay as.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer, UnsandboxedWorkflowRunner

from domain.state import HandoffState
from infra.temporal_client import data_converter
from tests.history_scenarios import SCENARIOS
from tests.record_histories import recorded
from worker.registry import STRICT_WORKFLOW_RUNNER, WORKFLOW_RUNNER, WORKFLOWS
from workflows.handoff import DealHandoffWorkflow, HandoffInput

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def load(path: Path) -> WorkflowHistory:
    saved = json.loads(path.read_text())
    return WorkflowHistory.from_json(saved["workflow_id"], saved["history"])


def test_every_workflow_has_a_saved_history():
    kinds = {path.stem.split("-")[-1] for path in HISTORIES}
    assert kinds == {cls.__name__ for cls in WORKFLOWS}


def test_every_recorded_scenario_has_its_history():
    assert [name for name in SCENARIOS if not recorded(name)] == []


@pytest.mark.parametrize("runner", [WORKFLOW_RUNNER, STRICT_WORKFLOW_RUNNER], ids=["shared", "strict"])
@pytest.mark.parametrize("path", HISTORIES, ids=lambda p: p.stem)
async def test_history_replays(path, runner):
    """Under the worker's runner, and under the strict one that re-imports workflows/ in the sandbox
    for every run, so a restricted call in workflow code fails here."""
    replayer = Replayer(workflows=WORKFLOWS, data_converter=data_converter(), workflow_runner=runner)
    result = await replayer.replay_workflow(load(path), raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure


@workflow.defn(name="DealHandoffWorkflow")
class ReorderedHandoff(DealHandoffWorkflow):
    """A deliberate non-deterministic change: a timer before anything else."""

    @workflow.run
    async def run(self, input: HandoffInput) -> HandoffState:
        await workflow.sleep(timedelta(seconds=1))
        return await super().run(input)


async def test_a_non_deterministic_change_fails_replay():
    # A run whose first command is an activity: the extra timer in front of it cannot pass for it.
    path = next(p for p in HISTORIES if p.stem == "full_handoff-DealHandoffWorkflow")
    # Unsandboxed: the changed class lives in this test module, which the sandbox need not vet.
    replayer = Replayer(
        workflows=[ReorderedHandoff], data_converter=data_converter(), workflow_runner=UnsandboxedWorkflowRunner()
    )
    result = await replayer.replay_workflow(load(path), raise_on_replay_failure=False)
    assert result.replay_failure is not None
    assert "nondetermin" in str(result.replay_failure).lower()
