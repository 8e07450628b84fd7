"""The people directory's model: validation that names the bad key, and the lookups the handoff uses."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from domain.approach_kinds import Approach
from domain.directory import DirectoryError, DirectoryRole, load_directory_text, parse_directory

EXAMPLE = Path(__file__).parent.parent / "examples" / "directory.yaml"

pytestmark = pytest.mark.unit


def example():
    return load_directory_text(EXAMPLE.read_text(encoding="utf-8"))


def test_the_example_directory_loads_and_resolves_crm_owners():
    directory = example()
    assert directory.by_crm_owner("hubspot", "61234567").id == "maria"
    assert directory.by_crm_owner("salesforce", "0058c00000AbCdEAAV").id == "maria"
    assert directory.by_crm_owner("generic", "sam.okafor@example.com").id == "sam"
    assert directory.by_crm_owner("hubspot", "999") is None
    assert directory.sales_team_of("sam").manager == "dan"
    assert directory.cs_team_for(Approach.WHITE_GLOVE).name == "enterprise"
    assert directory.by_email("LENA.FISCHER@example.com").id == "lena"


def test_roles_come_from_the_teams():
    directory = example()
    assert directory.roles_of("maria") == {DirectoryRole.AE}
    assert directory.roles_of("dan") == {DirectoryRole.SALES_MANAGER}
    assert directory.roles_of("lena") == {DirectoryRole.CS_LEAD}
    assert directory.roles_of("priya") == {DirectoryRole.CSM}
    assert directory.roles_of("rita") == {DirectoryRole.REVOPS}
    assert directory.roles_of("nobody") == frozenset()


def test_out_of_office_days_are_inclusive():
    tom = example().person("tom")
    assert tom.away_on(date(2026, 12, 21)) and tom.away_on(date(2027, 1, 1))
    assert not tom.away_on(date(2027, 1, 2))


@pytest.mark.parametrize(
    ("data", "names"),
    [
        ({"people": [{"id": "a", "name": "A", "email": "a@x.io"}] * 2}, "ids appear more than once: a"),
        (
            {"people": [{"id": "a", "name": "A", "email": "a@x.io", "manager": "ghost"}], "revops": "a"},
            "a.manager -> ghost",
        ),
        ({"people": [{"id": "a", "name": "A", "email": "a@x.io"}]}, "revops"),
        ({"people": [{"id": "a", "name": "A", "email": "not-an-address"}], "revops": "a"}, "people.0.email"),
        ({"people": [{"id": "A B", "name": "A", "email": "a@x.io"}], "revops": "A B"}, "people.0.id"),
        (
            {"people": [{"id": "a", "name": "A", "email": "a@x.io", "slack_id": "@alice"}], "revops": "a"},
            "people.0.slack_id",
        ),
        (
            {
                "people": [
                    {"id": "a", "name": "A", "email": "a@x.io", "out_of_office": [["2026-02-02", "2026-02-01"]]}
                ],
                "revops": "a",
            },
            "people.0.out_of_office",
        ),
        (
            {
                "people": [
                    {"id": "a", "name": "A", "email": "a@x.io", "crm_owner_ids": {"hubspot": ["7"]}},
                    {"id": "b", "name": "B", "email": "b@x.io", "crm_owner_ids": {"hubspot": ["7"]}},
                ],
                "revops": "a",
            },
            "hubspot owner id '7' belongs to both a and b",
        ),
        ({"cs_teams": [{"name": "t", "approaches": ["gold"], "lead": "a", "manager": "a"}]}, "cs_teams.0.approaches.0"),
        ({"unknown_key": 1}, "unknown_key"),
    ],
)
def test_a_bad_directory_names_the_key(data, names):
    with pytest.raises(DirectoryError) as raised:
        parse_directory(data)
    assert names in str(raised.value)


def test_text_that_is_not_a_mapping_is_refused():
    with pytest.raises(DirectoryError, match="mapping"):
        load_directory_text("- just a list")
    with pytest.raises(DirectoryError, match="not YAML"):
        load_directory_text("people: [")
    assert parse_directory(None).people == []
