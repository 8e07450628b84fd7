"""Merging CRM users into the directory: match by e-mail, add owner ids, never remove, report the rest."""

from __future__ import annotations

from datetime import date

import pytest

from domain.directory import DirectoryError, Person, dump_directory, load_directory_text, parse_directory
from domain.directory_check import directory_summary, directory_warnings
from domain.directory_sync import CrmUser, merge_crm_users, person_id_from_email

pytestmark = pytest.mark.unit

BASE = parse_directory(
    {
        "people": [
            {"id": "maria", "name": "Maria Lopez", "email": "Maria.Lopez@example.com", "manager": "dan"},
            {"id": "dan", "name": "Dan Kim", "email": "dan.kim@example.com", "crm_owner_ids": {"hubspot": ["7"]}},
            {"id": "rita", "name": "Rita Osei", "email": "rita@example.com", "timezone": "America/New_York"},
        ],
        "sales_teams": [{"name": "na", "manager": "dan", "vp": "dan", "aes": ["maria"]}],
        "revops": "rita",
    }
)


def user(owner_id: str, email: str | None, name: str = "", **kw) -> CrmUser:
    return CrmUser(crm=kw.pop("crm", "hubspot"), owner_id=owner_id, email=email, name=name, **kw)


def test_a_user_is_matched_by_email_in_any_case_and_gets_the_owner_id():
    merged, report = merge_crm_users(BASE, [user("61234567", "MARIA.LOPEZ@EXAMPLE.COM", "Maria Lopez")])
    assert merged.person("maria").crm_owner_ids == {"hubspot": ["61234567"]}
    assert merged.by_crm_owner("hubspot", "61234567").id == "maria"
    assert report.linked == ["maria: hubspot user 61234567 (Maria Lopez)"] and not report.added
    # What the file says is kept: the name and e-mail as written, the manager.
    assert merged.person("maria").email == "Maria.Lopez@example.com" and merged.person("maria").manager == "dan"


def test_a_second_run_changes_nothing():
    once, _ = merge_crm_users(BASE, [user("61234567", "maria.lopez@example.com"), user("9", "new@example.com")])
    twice, report = merge_crm_users(once, [user("61234567", "maria.lopez@example.com"), user("9", "new@example.com")])
    assert twice == once
    assert not report.changed and report.unchanged == 2


def test_a_new_user_becomes_a_person_with_an_ascii_unique_id():
    users = [
        user("11", "josé.núñez@example.com", "José  Núñez"),
        user("12", "Jose.Nunez@other.example", "José Núñez (EU)"),
        user("13", "rita@elsewhere.example", "Rita Two"),  # "rita" is taken
        user("14", "+++@example.com", ""),  # nothing usable in the local part
    ]
    merged, report = merge_crm_users(BASE, users)
    added = {p.id: p for p in merged.people[3:]}
    assert list(added) == ["jose.nunez", "jose.nunez-2", "rita-2", "person"]
    assert added["jose.nunez"].name == "José Núñez" and added["jose.nunez"].crm_owner_ids == {"hubspot": ["11"]}
    assert added["person"].name == "+++"
    assert len(report.added) == 4
    parse_directory(merged.model_dump(mode="json"))  # every derived id is valid


def test_inactive_and_address_less_users_are_reported_not_added_and_nobody_is_removed():
    users = [
        user("20", "gone@example.com", "Gone User", active=False),
        user("21", None, "No Mail"),
        user("22", "not an address", "Bad Mail"),
        user("7", "dan.kim@example.com", active=False),  # dan left the CRM: he stays in the directory
    ]
    merged, report = merge_crm_users(BASE, users)
    assert [p.id for p in merged.people] == ["maria", "dan", "rita"]
    assert merged.person("dan").crm_owner_ids == {"hubspot": ["7"]}
    assert report.skipped == [
        "hubspot user 20 (Gone User): inactive or archived, not added",
        "hubspot user 21 (No Mail): no usable e-mail address",
        "hubspot user 22 (Bad Mail): no usable e-mail address",
        "hubspot user 7: inactive or archived, not added",
    ]
    assert not report.changed


def test_an_owner_id_held_by_someone_else_is_reported_not_moved():
    merged, report = merge_crm_users(BASE, [user("7", "maria.lopez@example.com")])
    assert merged.person("dan").crm_owner_ids == {"hubspot": ["7"]}
    assert merged.person("maria").crm_owner_ids == {}
    assert report.conflicts == [
        "hubspot user 7: its e-mail maria.lopez@example.com is not dan's, who holds this owner id; left there"
    ]


def test_salesforce_managers_and_time_zones_fill_what_is_empty_only():
    sf = "0058c00000AbCdEAAV", "0058c00000MgRxYAAR", "0058c00000NwHiRAAR"
    users = [
        user(sf[0], "maria.lopez@example.com", crm="salesforce", timezone="Europe/Berlin", manager_owner_id=sf[2]),
        user(sf[1], "rita@example.com", crm="salesforce", timezone="Europe/Paris", manager_owner_id=sf[1]),
        user(sf[2], "nina@example.com", "Nina Hill", crm="salesforce", timezone="GMT+5", manager_owner_id=sf[1]),
        user("0058c00000ZzZzZAAR", "zed@example.com", crm="salesforce", manager_owner_id="005000000000000AAA"),
    ]
    merged, report = merge_crm_users(BASE, users)
    nina = merged.person("nina")
    assert nina.manager == "rita" and nina.timezone is None  # GMT+5 is no IANA zone
    assert merged.person("zed").manager is None  # the manager is not a user Baton read
    assert merged.person("rita").manager is None and merged.person("rita").timezone == "America/New_York"
    maria = merged.person("maria")
    assert maria.timezone == "Europe/Berlin" and maria.manager == "dan"
    assert "maria: manager is dan here and nina in salesforce; kept dan" in report.conflicts
    assert "nina: manager rita (from salesforce)" in report.updated


def test_a_directory_without_people_merges_but_needs_its_revops_named():
    merged, report = merge_crm_users(parse_directory(None), [user("1", "a@example.com", "A")])
    assert [p.id for p in merged.people] == ["a"]
    with pytest.raises(DirectoryError, match="revops"):
        parse_directory(merged.model_dump(mode="json"))


def test_the_dump_loads_back_to_the_same_directory():
    merged, _ = merge_crm_users(BASE, [user("5", "émile@example.com", "Émile Zola")])
    assert load_directory_text(dump_directory(merged)) == merged
    assert "Émile Zola" in dump_directory(merged)  # written as text, not escaped


@pytest.mark.parametrize(
    ("email", "taken", "expected"),
    [
        ("First.Last@x.io", set(), "first.last"),
        ("o'brien@x.io", set(), "o-brien"),
        ("__x__@x.io", {"x"}, "x-2"),
        ("a" * 80 + "@x.io", set(), "a" * 60),
        ("李@x.io", {"person"}, "person-2"),
    ],
)
def test_person_ids_from_emails(email, taken, expected):
    assert person_id_from_email(email, taken) == expected


def test_unknown_time_zones_are_refused_naming_the_key():
    with pytest.raises(DirectoryError, match=r"people\.0\.timezone: .*IANA"):
        parse_directory({"people": [{"id": "a", "name": "A", "email": "a@x.io", "timezone": "EST5"}], "revops": "a"})
    with pytest.raises(DirectoryError, match=r"people\.0\.timezone"):
        parse_directory({"people": [{"id": "a", "name": "A", "email": "a@x.io", "timezone": "../x"}], "revops": "a"})


def test_check_warns_about_what_bites_later():
    directory = parse_directory(
        {
            "people": [
                {"id": "ae", "name": "Lone AE", "email": "ae@x.io", "crm_owner_ids": {"pipedrive": ["3"]}},
                {"id": "away", "name": "Away", "email": "away@x.io", "out_of_office": [["2026-03-09", "2026-03-13"]]},
                {"id": "cover", "name": "Away", "email": "c@x.io", "out_of_office": [["2026-03-09", "2026-03-09"]]},
                {"id": "lead", "name": "Lead", "email": "lead@x.io", "manager": "lead"},
            ],
            "cs_teams": [{"name": "empty", "approaches": ["structured"], "lead": "lead", "manager": "lead"}],
            "revops": "lead",
        }
    )
    cover = directory.person("cover")
    assert isinstance(cover, Person)
    warnings = directory_warnings(directory, date(2026, 3, 9))
    assert warnings[:4] == [
        "people.ae: owns pipedrive records but is in no sales team "
        "(add to sales_teams.*.aes, or escalations about their deals reach only revops)",
        "people.away: out of office today with neither delegate nor manager (their notices go to revops)",
        "people.cover: out of office today with neither delegate nor manager (their notices go to revops)",
        "cs_teams.empty.csms: no CSM seat (its handoffs get no CSM by rule)",
    ]
    assert "cs_teams: no team serves white_glove handoffs (they get no CSM by rule)" in warnings
    # The next week nobody is away.
    assert not any("out of office" in w for w in directory_warnings(directory, date(2026, 3, 16)))
    assert directory_summary(directory) == "4 people, 0 sales teams, 1 CS teams, 0 partners, fallback lead"
