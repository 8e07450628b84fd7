"""`baton backtest`: two policies over the same recorded handoffs, from a file or the read model."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from cli.backtest_files import read_deals
from cli.errors import UsageError
from cli.main import main
from domain.backtest.recorded import DealRecord, recorded
from domain.backtest.replay import replay
from domain.policy import Policy
from domain.state import ChildKind
from store import repository
from store.engine import make_engine, session_scope
from store.migrate import upgrade

ROOT = Path(__file__).parent.parent

# Closed Monday 2 March 2026, 10:00 in New York. Its document scores 82.4 (risks and scope generic,
# no contract terms: (3+3+3+1+1+2+0+1)/17): gaps at the default 85, ready at the candidate's 80. The
# intro is scheduled on Wednesday at 12:00: inside the default 3bd (Thursday 10:00), two hours after
# the candidate's 2bd (Wednesday 10:00).
DEAL = {
    "deal": {
        "crm": "hubspot",
        "deal_id": "501",
        "account": "Initech",
        "acv": 50_000,
        "created_at": "2026-01-02T15:00:00+00:00",
        "closed_at": "2026-03-02T15:00:00+00:00",
        "sales_manager": "sm@example.com",
    },
    "statuses": {
        "goals": 1,
        "stakeholders": 1,
        "success_criteria": 1,
        "risks": 0.5,
        "scope": 0.5,
        "sales_conversations": 1,
        "contract_terms": 0,
        "communication_preferences": 1,
    },
    "submitted": True,
    "messages": [
        {"at": "2026-03-03T15:00:00+00:00", "type": "intake_review", "body": {"rating": 4}},
        {"at": "2026-03-03T16:00:00+00:00", "type": "first_touch", "body": {}},
        {"at": "2026-03-04T17:00:00+00:00", "type": "intro", "body": {"action": "scheduled"}},
    ],
}
CANDIDATE = {
    "name": "faster-intro",
    "scoring": {"ready_at": 80},
    "slas": {"intro_scheduled": {"due": "2bd", "escalations": [{"at": "2bd", "to": "sales_manager"}]}},
}
# Wednesday 15:00 in New York: the candidate's breach and escalation have happened, nothing later has.
UNTIL = "2026-03-04T20:00:00+00:00"


def backtest(*args: str | Path) -> tuple[int, str, str]:
    """`baton backtest` in this process (it runs no server; a process of its own costs ~2 s to start)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(["backtest", *map(str, args)])
        except SystemExit as exit_:  # argparse refuses a bad option this way
            code = int(exit_.code or 0)
    return code, out.getvalue(), err.getvalue()


def backtest_process(*args: str | Path) -> tuple[int, str, str]:
    """The command as a user runs it, in its own process."""
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "backtest", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode, done.stdout, done.stderr


@pytest.fixture
def files(tmp_path) -> tuple[Path, Path]:
    deals = tmp_path / "deals.jsonl"
    deals.write_text(json.dumps(DEAL) + "\n", encoding="utf-8")
    candidate = tmp_path / "candidate.yaml"
    candidate.write_text(yaml.safe_dump(CANDIDATE), encoding="utf-8")
    return deals, candidate


def test_a_faster_intro_and_a_lower_ready_bar_side_by_side(files):
    deals, candidate = files
    code, out, err = backtest("--file", deals, "--candidate", candidate, "--until", UNTIL, "--json")
    assert code == 0, err
    found = json.loads(out)
    old, new, change = found["current"], found["candidate"], found["change"]
    assert (old["tiers"]["gaps"], new["tiers"]["ready"]) == (1, 1)
    # Gaps start the AE follow-up (24h, due Tuesday 10:00), missed and escalated; ready starts none.
    assert old["slas"]["ae_follow_up"]["breached"] == 1 and "ae_follow_up" not in new["slas"]
    # The intro, scheduled two hours after the candidate's due, is breached and escalated there only.
    assert (old["slas"]["intro_scheduled"]["breached"], new["slas"]["intro_scheduled"]["breached"]) == (0, 1)
    assert new["slas"]["intro_scheduled"]["escalations"] == {"sales_manager": 1}
    assert change["slas"]["intro_scheduled"]["breached"] == 1 and change["slas"]["ae_follow_up"]["breached"] == -1
    assert (old["breaches"], new["breaches"], change["breaches"]) == (1, 1, 0)
    # Rated 4, intro scheduled and accepted, but contract_terms is empty: the document is not complete,
    # so the commission is held under both (policies made now require a complete document).
    assert (old["commission_released"], new["commission_released"]) == (0, 0)
    assert found["replayed"] == {"handoffs": 1, "skipped_without_facts": 0, "until": UNTIL}


def test_the_table_names_both_policies(files):
    deals, candidate = files
    # Once as a user runs it, in a process of its own; the other tests call the same command in process.
    code, out, err = backtest_process("--file", deals, "--candidate", candidate, "--until", UNTIL)
    assert code == 0, err
    assert "current (default)" in out and "candidate (faster-intro)" in out
    assert any(
        line.split()[:2] == ["intro_scheduled:", "breached"] and line.split()[-1] == "+1" for line in out.splitlines()
    )


def test_a_csv_of_the_same_deal_gives_the_same_figures(files, tmp_path):
    deals, candidate = files
    path = tmp_path / "deals.csv"
    with path.open("w", newline="", encoding="utf-8") as file:
        columns = [*DEAL["deal"], *(f"status.{name}" for name in DEAL["statuses"]), "submitted", "messages"]
        writer = csv.DictWriter(file, fieldnames=columns)
        writer.writeheader()
        writer.writerow(
            {
                **DEAL["deal"],
                **{f"status.{name}": status for name, status in DEAL["statuses"].items()},
                "submitted": "true",
                "messages": json.dumps(DEAL["messages"]),
            }
        )
    from_csv = backtest("--file", path, "--candidate", candidate, "--until", UNTIL, "--json")
    from_jsonl = backtest("--file", deals, "--candidate", candidate, "--until", UNTIL, "--json")
    assert from_csv[0] == 0, from_csv[2]
    assert json.loads(from_csv[1]) == json.loads(from_jsonl[1])


@pytest.mark.parametrize(
    ("line", "named"),
    [
        ("{not json", "deals.jsonl:1: not JSON"),
        (json.dumps({**DEAL, "statuses": {"goals": 0.7}}), "deals.jsonl:1: statuses"),
        (json.dumps({**DEAL, "deal": {**DEAL["deal"], "closed_at": None}}), "deals.jsonl:1: deal.closed_at"),
        (json.dumps({**DEAL, "messages": [{"at": "+1d", "type": "intro", "body": {"action": "held"}}]}), "messages"),
        (
            json.dumps(
                {**DEAL, "messages": [{"at": "2026-03-03T15:00:00Z", "type": "intake_review", "body": {"rating": "x"}}]}
            ),
            "body.rating",
        ),
    ],
)
def test_a_bad_line_is_refused_with_its_number_and_field(tmp_path, line, named):
    path = tmp_path / "deals.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(UsageError) as err:
        read_deals(str(path))
    assert named in str(err.value)


def test_bad_arguments_exit_2(files):
    deals, candidate = files
    assert backtest("--file", deals, "--candidate", candidate, "--until", "tomorrow")[0] == 2
    assert backtest("--from", "2026-03-01", "--candidate", candidate)[0] == 2  # no --to
    code, _, err = backtest("--file", deals, "--candidate", candidate, "--to", "2026-04-01")
    assert code == 2 and "--to goes with --from" in err


def test_from_the_read_model_as_from_its_file(files, tmp_path):
    """Record the handoff as the workflow would, then backtest the period it closed in."""
    deals, candidate = files
    [deal] = read_deals(str(deals))
    policy = Policy()
    [state] = replay([deal], policy, until=deal.start.replace(day=20))
    url = f"sqlite:///{tmp_path}/baton.db"
    upgrade(url)
    engine = make_engine(url)
    with session_scope(engine, write=True) as session:
        repository.record_state(session, state)
    engine.dispose()
    check = state.children.get(ChildKind.POST_CHECK)
    assert check is None  # a short replay: the 30-day check has not started
    again = recorded(DealRecord.of(state.deal, deal.deal.closed_at), state.timeline, deal.start)
    assert [message.type for message in again.timed()] == [message.type for message in deal.timed()]
    from_store = backtest(
        "--from", "2026-03-01", "--to", "2026-03-03", "--url", url, "--candidate", candidate, "--until", UNTIL, "--json"
    )
    from_file = backtest("--file", deals, "--candidate", candidate, "--until", UNTIL, "--json")
    assert from_store[0] == 0, from_store[2]
    assert json.loads(from_store[1]) == json.loads(from_file[1])
    assert backtest("--from", "2025-01-01", "--to", "2025-02-01", "--url", url, "--candidate", candidate)[0] == 2


def test_a_complete_document_releases_the_commission_under_both(tmp_path, files):
    _, candidate = files
    complete = {**DEAL, "statuses": {**DEAL["statuses"], "contract_terms": 0.5}}
    deals = tmp_path / "complete.jsonl"
    deals.write_text(json.dumps(complete) + "\n", encoding="utf-8")
    code, out, err = backtest("--file", deals, "--candidate", candidate, "--until", UNTIL, "--json")
    assert code == 0, err
    found = json.loads(out)
    # Every field populated (two generic), rated 4, intro scheduled.
    assert (found["current"]["commission_released"], found["candidate"]["commission_released"]) == (1, 1)
