"""Approach settings no rule reads are removed; a snapshot or file that still carries one loads and
ignores it. The white-glove AE on the first calls and the transition period stay: issue 14 wires them."""

from __future__ import annotations

import pytest

from domain.approach_kinds import Approach
from domain.policy import Policy, dump_policy, load_policy_text, parse_policy

pytestmark = pytest.mark.unit

OLD_AUTOMATED = {"slas": ["csm_briefed", "kickoff"], "intro": "welcome_sequence", "pooled_csm": True}


def test_a_snapshot_with_pooled_csm_still_loads_and_ignores_it():
    policy = Policy.model_validate({"approaches": {"automated": OLD_AUTOMATED}})
    assert [sla.value for sla in policy.approaches[Approach.AUTOMATED].slas] == ["csm_briefed", "kickoff"]
    assert "pooled_csm" not in policy.approaches[Approach.AUTOMATED].model_dump()


def test_a_file_written_by_an_older_policy_show_still_loads():
    text = "approaches:\n  automated:\n    slas: [csm_briefed]\n    intro: welcome_sequence\n    pooled_csm: true\n"
    assert load_policy_text(text).approaches[Approach.AUTOMATED].slas == ["csm_briefed"]


def test_policy_show_no_longer_prints_it_and_unknown_keys_are_still_refused():
    assert "pooled_csm" not in dump_policy(parse_policy(None))
    with pytest.raises(ValueError, match="approaches.automated.pooled"):
        load_policy_text("approaches:\n  automated: {slas: [csm_briefed], intro: welcome_sequence, pooled: 1}\n")


def test_the_settings_issue_14_wires_are_kept():
    white_glove = Policy().approaches[Approach.WHITE_GLOVE]
    assert (white_glove.ae_joins_first_calls, str(white_glove.transition)) == (3, "14d")
