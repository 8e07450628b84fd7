"""`baton simulate`: the real command, on a past scenario, printing instants in scenario time."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).parent.parent
EXAMPLE = ROOT / "examples" / "friday-close-white-glove.yaml"


def simulate(path: Path) -> tuple[int, list[dict], str]:
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "simulate", str(path)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    return done.returncode, lines, done.stderr


def test_friday_close_escalates_on_business_days_in_scenario_time():
    code, lines, stderr = simulate(EXAMPLE)
    assert code == 0, stderr
    escalations = [(line["at"], line["sla"], line["to"]) for line in lines if line["kind"] == "escalated"]
    # Close Fri 13 Feb 15:00 EST, Presidents' Day (Mon 16) a holiday: 3bd is Thu 19, 5bd is Mon 23.
    assert ("2026-02-19T15:00:00-05:00", "intro_scheduled", "sales_manager") in escalations
    assert ("2026-02-23T15:00:00-05:00", "intro_scheduled", "vp_sales") in escalations
    breaches = {line["sla"]: line["at"] for line in lines if line["kind"] == "sla_breached"}
    assert breaches["intro_scheduled"] == "2026-02-19T15:00:00-05:00"
    assert "csm_briefed" not in breaches and "cs_first_touch" not in breaches
    due = {line["sla"]: line["due"] for line in lines if line["kind"] == "deadline_set"}
    assert due["csm_briefed"] == "2026-02-15T15:00:00-05:00"
    assert due["impl_owner_contact"] == "2026-02-27T15:00:00-05:00"
    kinds = [line["kind"] for line in lines]
    assert {"phase_changed", "deadline_set", "deadline_met", "notified", "commission_released"} <= set(kinds)
    assert all(line["at"].startswith("2026-02") for line in lines)
    assert [line["at"] for line in lines] == sorted(line["at"] for line in lines)


def test_refused_messages_and_a_lost_deal(tmp_path):
    scenario = yaml.safe_load(EXAMPLE.read_text())
    scenario["messages"] = [
        {"at": "+1h", "type": "intro", "body": {"action": "held"}},
        {"at": "+2h", "type": "intake_review", "body": {"rating": 9}},
        {"at": "+2d", "type": "stage", "body": {"stage": "Closed Lost", "kind": "lost"}},
        {"at": "+3d", "type": "first_touch", "body": {}},
    ]
    path = tmp_path / "lost.yaml"
    path.write_text(yaml.safe_dump(scenario))
    code, lines, stderr = simulate(path)
    assert code == 0, stderr
    refused = [(line["message"], line["reason"]) for line in lines if line["kind"] == "message_refused"]
    assert refused[0] == ("intro", "the intro cannot be held before it is scheduled")
    assert refused[1][0] == "intake_review" and "rating must be 1 to 5" in refused[1][1]
    assert refused[2] == ("first_touch", "the handoff run is not open: it has ended or has not started")
    closed = next(line for line in lines if line["kind"] == "closed")
    # Sent on the very instant two SLAs fall due, the message is delivered a second ahead of them.
    assert closed == {"at": "2026-02-15T14:59:59-05:00", "kind": "closed", "outcome": "lost"}


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"deal": {"crm": "hubspot", "deal_id": "1"}}, "closed_at"),
        ({"messages": [{"at": "tomorrow", "type": "intro"}]}, "messages.0.at"),
        ({"messages": [{"at": "+1d", "type": "dance"}]}, "messages.0.type"),
    ],
)
def test_bad_scenario_exits_2_naming_the_field(tmp_path, change, named):
    scenario = yaml.safe_load(EXAMPLE.read_text())
    scenario.update(change)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(scenario))
    code, lines, stderr = simulate(path)
    assert code == 2 and lines == []
    assert named in stderr
