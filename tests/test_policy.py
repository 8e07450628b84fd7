"""The policy file: defaults from the seeds, and errors that name the bad key."""

import pytest

from cli.main import main
from domain.approach_kinds import Approach
from domain.document import CORE_FIELDS, FieldName
from domain.policy import Policy, PolicyError, dump_policy, load_policy_text, parse_policy
from domain.roles import Role, SlaName
from infra.policy_file import read_policy

pytestmark = pytest.mark.unit


def test_defaults_are_the_seeds_numbers():
    policy = Policy()
    assert sum(policy.scoring.weights[name] for name in CORE_FIELDS) == 17
    assert policy.scoring.weights[FieldName.PARTNER_CONTEXT] == 2  # partner-mediated deals only
    assert (policy.scoring.ready_at, policy.scoring.gaps_at) == (85, 60)
    assert str(policy.scoring.rapid_close_cycle) == "14d"
    assert (policy.acv.structured_from, policy.acv.white_glove_from) == (25_000, 100_000)
    assert str(policy.sla(SlaName.CSM_BRIEFED, Approach.STRUCTURED).due) == "48h"
    assert str(policy.sla(SlaName.CSM_BRIEFED, Approach.PARTNER_MEDIATED).due) == "72h"
    assert str(policy.slas[SlaName.CS_FIRST_TOUCH].due) == "48h"
    intro = policy.slas[SlaName.INTRO_SCHEDULED]
    assert str(intro.due) == "3bd"
    assert [(str(step.at), step.to) for step in intro.escalations] == [
        ("3bd", Role.SALES_MANAGER),
        ("5bd", Role.VP_SALES),
    ]
    assert str(policy.slas[SlaName.INTRO_HELD].due) == "5bd"
    assert str(policy.slas[SlaName.KICKOFF].due) == "10d"
    assert str(policy.kickoff_after_intro) == "5bd"
    assert str(policy.slas[SlaName.AE_FOLLOW_UP].due) == "24h"
    assert str(policy.slas[SlaName.RECOVERY_OWNER].due) == "7d"
    assert str(policy.slas[SlaName.IMPL_OWNER_CONTACT].due) == "14d"
    assert str(policy.slas[SlaName.POST_CHECK].due) == "30d"
    assert str(policy.slas[SlaName.PARTNER_CHECK].due) == "30d"
    assert policy.onboarding.trigger == "hybrid" and str(policy.onboarding.after) == "30d"


def test_partial_file_keeps_other_defaults():
    policy = load_policy_text("scoring:\n  ready_at: 90\nslas:\n  cs_first_touch: {due: 24h}\n")
    assert policy.scoring.ready_at == 90
    assert policy.scoring.gaps_at == 60
    assert str(policy.slas[SlaName.CS_FIRST_TOUCH].due) == "24h"
    assert str(policy.slas[SlaName.CSM_BRIEFED].due) == "48h"


def test_round_trip_through_show():
    policy = parse_policy(None)
    assert load_policy_text(dump_policy(policy)) == policy


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("scoring:\n  ready_at: 50\n", "scoring: Value error, gaps_at must be below ready_at"),
        ("scoring:\n  weights: {goals: 3}\n", "scoring.weights"),
        ("scoring:\n  ready_at: 120\n", "scoring.ready_at"),
        ("slas:\n  kickoff: {due: 10x}\n", "slas.kickoff.due"),
        ("slas:\n  not_an_sla: {due: 1d}\n", "slas.not_an_sla"),
        ("calendar:\n  timezone: Mars/Olympus\n", "calendar.timezone"),
        ("acv:\n  structured_from: 200000\n", "acv"),
        ("unknown_section: 1\n", "unknown_section"),
        ("onboarding:\n  trigger: whenever\n", "onboarding.trigger"),
        ("- a\n- b\n", "top level"),
        ("scoring: [\n", "not YAML"),
    ],
)
def test_bad_values_name_the_key(text, key):
    with pytest.raises(PolicyError) as err:
        load_policy_text(text)
    assert key in str(err.value)


def test_stage_kinds():
    policy = load_policy_text("stages:\n  pre_close:\n    salesforce: [Negotiation, Commit]\n")
    assert policy.stage_kind("hubspot", "closedwon") == "won"
    assert policy.stage_kind("salesforce", "Closed Lost") == "lost"
    assert policy.stage_kind("salesforce", "Commit") == "pre_close"
    assert policy.stage_kind("hubspot", "Commit") == "other"
    assert policy.stage_kind("acme-crm", "closed_won") == "won"


def test_cli_check_and_show(tmp_path, capsys):
    good = tmp_path / "policy.yaml"
    good.write_text("name: emea\ncalendar:\n  timezone: Europe/Berlin\n")
    assert main(["policy", "check", str(good)]) == 0
    assert "valid policy 'emea'" in capsys.readouterr().out
    assert main(["policy", "show", "--policy", str(good)]) == 0
    shown = capsys.readouterr().out
    assert "timezone: Europe/Berlin" in shown and "ready_at: 85.0" in shown

    bad = tmp_path / "bad.yaml"
    bad.write_text("slas:\n  kickoff: {due: soon}\n")
    assert main(["policy", "check", str(bad)]) == 2
    assert "slas.kickoff.due" in capsys.readouterr().err
    assert main(["policy", "check", str(tmp_path / "missing.yaml")]) == 2


def test_setting_one_key_of_an_sla_keeps_its_other_defaults():
    policy = load_policy_text("slas:\n  csm_briefed: {due: 20s}\n  intro_scheduled: {due: 2bd}\n")
    assert str(policy.slas[SlaName.CSM_BRIEFED].due) == "20s"
    assert policy.slas[SlaName.CSM_BRIEFED].on_breach is Role.CS_MANAGER
    assert [step.to for step in policy.slas[SlaName.INTRO_SCHEDULED].escalations] == [Role.SALES_MANAGER, Role.VP_SALES]


OLD_TEAMS = """\
name: legacy
teams:
  - name: mid-market
    approaches: [structured]
    csms: [{id: csm-1, out_of_office: [["2026-03-09", "2026-03-13"]]}]
"""


def test_a_policy_with_teams_still_loads_and_warns_that_they_moved_to_the_directory(tmp_path, capsys, caplog):
    path = tmp_path / "policy.yaml"
    path.write_text(OLD_TEAMS)
    assert main(["policy", "check", str(path)]) == 0
    out = capsys.readouterr()
    assert "valid policy 'legacy'" in out.out
    assert out.err.startswith("warning: teams: deprecated in the policy:") and "people directory" in out.err
    # The processes that read it (the API at start, every command) log it once.
    with caplog.at_level("WARNING", logger="baton.policy"):
        policy = read_policy(path)
    assert policy.teams[0].csms[0].id == "csm-1"
    assert [r.getMessage() for r in caplog.records] == [f"policy {path}: " + out.err.removeprefix("warning: ").strip()]


def test_a_policy_without_teams_warns_about_nothing(tmp_path, capsys, caplog):
    path = tmp_path / "policy.yaml"
    path.write_text("name: plain\n")
    assert main(["policy", "check", str(path)]) == 0
    assert capsys.readouterr().err == ""
    with caplog.at_level("WARNING", logger="baton.policy"):
        read_policy(path)
    assert caplog.records == []
