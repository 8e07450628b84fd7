"""`baton simulate`: the real command on a past scenario, both modes, never hanging, never leaving a
test server behind."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from cli.main import main
from cli.simulate_cmd import STALLED, load_scenario, scenario_policy
from cli.simulate_temporal import simulate as simulate_on_server
from domain.simulation.simulator import simulate
from infra.policy_file import read_policy
from tests.conftest import assert_eventually

ROOT = Path(__file__).parent.parent
EXAMPLE = ROOT / "examples" / "friday-close-white-glove.yaml"
SERVER = "temporal-test-server"


def run_cli(*args: str | Path) -> tuple[int, list[dict], str]:
    """The command as a user runs it: its own process (its exit, its interpreter teardown)."""
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "simulate", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    return done.returncode, lines, done.stderr


def run_main(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, list[dict], str]:
    """The same command in this process, for a refusal that never reaches a simulation: the parser or
    the scenario check answers before anything runs (a process of its own costs about 2 s to start)."""
    try:
        code = main(["simulate", *map(str, args)])
    except SystemExit as exit_:  # argparse refuses a bad option this way
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines() if line.strip()], err


def write(tmp_path: Path, scenario: dict, name: str = "scenario.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(scenario, allow_unicode=True), encoding="utf-8")
    return path


def test_friday_close_escalates_on_business_days_in_scenario_time():
    code, lines, stderr = run_cli(EXAMPLE)
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


def test_refused_messages_and_a_lost_deal_at_the_instant_two_slas_fall_due(tmp_path):
    scenario = yaml.safe_load(EXAMPLE.read_text())
    scenario["messages"] = [
        {"at": "+1h", "type": "intro", "body": {"action": "held"}},
        {"at": "+2h", "type": "intake_review", "body": {"rating": 9}},
        {"at": "+2d", "type": "stage", "body": {"stage": "Closed Lost", "kind": "lost"}},
        {"at": "+3d", "type": "first_touch", "body": {}},
    ]
    code, lines, stderr = run_cli(write(tmp_path, scenario))
    assert code == 0, stderr
    refused = [
        (line["message"], line["error_type"], line["reason"]) for line in lines if line["kind"] == "message_refused"
    ]
    assert refused[0] == ("intro", "InvalidTransition", "the intro cannot be held before it is scheduled")
    assert refused[1][:2] == ("intake_review", "InvalidValue") and "rating must be 1 to 5" in refused[1][2]
    assert refused[2] == ("first_touch", "HandoffClosed", "the handoff has ended (lost)")
    # At +2d (Sun 15 Feb 15:00) csm_briefed and cs_first_touch fall due: the run's own timers come
    # first at an instant, so both are breached, and then the deal is lost.
    at_two_days = [line for line in lines if line["at"] == "2026-02-15T15:00:00-05:00"]
    breached = [line["sla"] for line in at_two_days if line["kind"] == "sla_breached"]
    assert breached == ["csm_briefed", "cs_first_touch"]
    # The run closes at that instant; the notices resolved as it closed (deal_lost) follow it.
    notices = ("notified", "escalated", "recipient_unresolved")
    rules = [line for line in at_two_days if line["kind"] not in notices]
    assert rules[-1] == {"at": "2026-02-15T15:00:00-05:00", "kind": "closed", "outcome": "lost"}
    assert at_two_days[-1]["kind"] == "notified" and at_two_days[-1]["event"] == "deal_lost"
    assert [line["kind"] for line in at_two_days].index("sla_breached") < [line["kind"] for line in at_two_days].index(
        "closed"
    )


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"deal": {"crm": "hubspot", "deal_id": "1"}}, "closed_at"),
        ({"messages": [{"at": "tomorrow", "type": "intro"}]}, "messages.0.at"),
        ({"messages": [{"at": "+1d", "type": "dance"}]}, "messages.0.type"),
        ({"messages": [{"at": "+1d", "type": "intake_review", "body": {"rating": "four"}}]}, "body.rating"),
        ({"messages": [{"at": "+1d", "type": "intro", "body": {}}]}, "body.action"),
        ({"horizon": "3bd"}, "horizon"),
    ],
)
def test_bad_scenario_exits_2_naming_the_field(tmp_path, capsys, change, named):
    scenario = yaml.safe_load(EXAMPLE.read_text())
    scenario.update(change)
    code, lines, stderr = run_main(capsys, write(tmp_path, scenario))
    assert code == 2 and lines == []
    assert named in stderr


def test_a_file_that_is_not_yaml_exits_2(tmp_path, capsys):
    path = tmp_path / "binary.yaml"
    path.write_bytes(b"\xff\xfe\x00 not text")
    code, lines, stderr = run_main(capsys, path)
    assert code == 2 and lines == [] and "not YAML or JSON" in stderr


@pytest.mark.parametrize("timeout", ["0", "-1", "soon", "inf"])
def test_a_bad_timeout_is_refused(capsys, timeout):
    code, lines, stderr = run_main(capsys, EXAMPLE, "--temporal", "--timeout", timeout)
    assert code == 2 and lines == [] and "--timeout" in stderr


# ---- a message at the instant a timer fires, again and again -------------------------------------

AT_A_TIMER = ROOT / "tests" / "scenarios" / "intro-on-the-deadline.yaml"


def test_the_pure_simulator_prints_the_same_bytes_20_times():
    scenario = load_scenario(str(AT_A_TIMER))
    policy = scenario_policy(scenario, read_policy(None))
    printed = {json.dumps(simulate(scenario, policy)) for _ in range(20)}
    assert len(printed) == 1


@pytest.mark.temporal
def test_temporal_runs_a_message_at_a_timer_instant_20_times_without_a_hang():
    scenario = load_scenario(str(AT_A_TIMER))
    policy = scenario_policy(scenario, read_policy(None))

    async def twenty() -> set[str]:
        # Each run on a server of its own, each bounded: a stall fails here instead of hanging.
        return {json.dumps(await asyncio.wait_for(simulate_on_server(scenario, policy), 60)) for _ in range(20)}

    printed = asyncio.run(twenty())
    assert printed == {json.dumps(simulate(scenario, policy))}


# ---- the test server dies with the command ------------------------------------------------------


def long_scenario(tmp_path: Path) -> Path:
    """Hundreds of refused messages: several seconds of --temporal, all of it with the server up."""
    scenario = yaml.safe_load(EXAMPLE.read_text())
    scenario["messages"] = [
        {"at": f"+{hour}h", "type": "intake_review", "body": {"rating": 9}} for hour in range(1, 400)
    ]
    scenario["horizon"] = "20d"
    return write(tmp_path, scenario, "long.yaml")


def descendants(pid: int) -> dict[int, str]:
    """The processes under `pid`, by pid, with their command lines (Linux /proc)."""
    parents: dict[int, int] = {}
    commands: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            commands[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: dict[int, str] = {}
    frontier = [pid]
    while frontier:
        parent = frontier.pop()
        for child, its_parent in parents.items():
            if its_parent == parent and child not in found:
                found[child] = commands.get(child, "")
                frontier.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


async def server_of(cli: asyncio.subprocess.Process) -> dict[int, str]:
    def started() -> dict[int, str]:
        found = {pid: command for pid, command in descendants(cli.pid).items() if SERVER in command}
        # The guard and, under it, the real server.
        assert len(found) >= 2, found
        return found

    return await assert_eventually(started, timeout=30)


async def simulate_temporal(*args: str, capture: bool = False) -> asyncio.subprocess.Process:
    output = asyncio.subprocess.PIPE if capture else asyncio.subprocess.DEVNULL
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cli.main", "simulate", "--temporal", *args, cwd=ROOT, stdout=output, stderr=output
    )


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process tree from /proc (Linux)")
async def test_sigkill_of_the_command_takes_the_test_server_with_it(tmp_path):
    cli = await simulate_temporal(str(long_scenario(tmp_path)))
    try:
        server = await server_of(cli)
        assert cli.returncode is None, "the simulation ended before it could be killed"
        os.kill(cli.pid, signal.SIGKILL)
        await asyncio.wait_for(cli.wait(), 10)

        def gone() -> None:
            assert [pid for pid in server if alive(pid)] == []

        await assert_eventually(gone, timeout=10)
    finally:
        if cli.returncode is None:
            cli.kill()


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process tree from /proc (Linux)")
async def test_a_stalled_temporal_run_times_out_with_a_clear_message_and_no_server_left(tmp_path):
    cli = await simulate_temporal("--timeout", "2", str(long_scenario(tmp_path)), capture=True)
    try:
        server = await server_of(cli)
        out, err = await asyncio.wait_for(cli.communicate(), 60)
        assert cli.returncode == STALLED
        assert "made no progress within 2 s" in err.decode() and out == b""

        def gone() -> None:
            assert [pid for pid in server if alive(pid)] == []

        await assert_eventually(gone, timeout=10)
    finally:
        if cli.returncode is None:
            cli.kill()
