"""The differential test: the pure simulator and the real workflows print the same timeline.

For every example scenario and for generated ones (tests/simulation_scenarios.py), `baton simulate`
(pure) and `baton simulate --temporal` (the workflows on the time-skipping server) must agree line
for line: instants to the second, entries in the documented order, refusals compared by kind (the
workflow's refusal text for a run that has closed is the server's, not the rules'). Where they differ
the bug is fixed, not this test.

`make test` runs a fixed, derandomized set of generated scenarios; for a thorough local run:
`BATON_DIFFERENTIAL_PROFILE=thorough .venv/bin/python -m pytest tests/test_simulate_differential.py`.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings

from cli.simulate_cmd import scenario_policy
from cli.simulate_temporal import simulate as simulate_on_server
from domain.scenario import Scenario
from domain.simulation.simulator import simulate
from infra.policy_file import read_policy
from tests.simulation_scenarios import scenario

# The example scenarios (examples/ holds a candidate policy too: a scenario is what has a deal).
EXAMPLES = [
    path
    for path in sorted((Path(__file__).parent.parent / "examples").glob("*.yaml"))
    if "deal" in (yaml.safe_load(path.read_text()) or {})
]

settings.register_profile(
    "make-test",
    max_examples=10,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("thorough", parent=settings.get_profile("make-test"), max_examples=300, derandomize=False)
PROFILE = settings.get_profile(os.environ.get("BATON_DIFFERENTIAL_PROFILE", "make-test"))


def comparable(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {k: v for k, v in line.items() if not (line["kind"] == "message_refused" and k == "reason")} for line in lines
    ]


def both(data: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    model = Scenario.model_validate(data)
    policy = scenario_policy(model, read_policy(None))
    return simulate(model, policy), asyncio.run(simulate_on_server(model, policy))


@pytest.mark.temporal
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_scenario_agrees(path):
    pure, temporal = both(yaml.safe_load(path.read_text()))
    assert comparable(pure) == comparable(temporal)


@pytest.mark.temporal
@settings(parent=PROFILE)
@given(scenario())
def test_generated_scenarios_agree(data):
    pure, temporal = both(data)
    assert comparable(pure) == comparable(temporal)
