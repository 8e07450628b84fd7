"""Resolving a notice's places to people: the deal's owner, the directory, cover for people away, and
the RevOps fallback for a place nobody holds."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from domain.directory import load_directory_text
from domain.recipients import Audience, DealPeople, resolve

pytestmark = pytest.mark.unit

# The example a new user copies (Maria's HubSpot owner id is 61234567; Sam's manager is Dan, his
# delegate Maria; Tom is away over the new year with Priya as delegate).
DIRECTORY = load_directory_text((Path(__file__).parents[2] / "examples" / "directory.yaml").read_text())
WORKDAY = date(2026, 12, 2)
HOLIDAYS = date(2026, 12, 28)


def people(**fields: str) -> DealPeople:
    return DealPeople(**{"crm": "hubspot", **fields})


def ids(audience: list[Audience], day: date = WORKDAY, **fields: str) -> list[str]:
    return resolve(audience, people(**fields), DIRECTORY, day).ids


def test_the_ae_is_the_deal_owner_by_crm_owner_id_and_the_ladder_comes_from_the_sales_team():
    found = resolve([Audience.AE, Audience.SALES_MANAGER, Audience.VP_SALES], people(ae="61234567"), DIRECTORY, WORKDAY)
    assert found.ids == ["maria", "dan", "vera"] and found.unresolved == []
    maria = found.recipients[0]
    assert (maria.name, maria.email, maria.slack_id, maria.timezone) == (
        "Maria Lopez",
        "maria.lopez@example.com",
        "U01MARIA",
        "America/New_York",
    )
    assert maria.audience == [Audience.AE]


def test_an_owner_id_is_read_in_its_own_crm_only():
    # 61234567 is Maria's HubSpot id; in Pipedrive she is 13.
    found = resolve([Audience.AE], people(ae="13"), DIRECTORY, WORKDAY)
    assert found.unresolved == [Audience.AE] and found.ids == ["rita"]  # the fallback
    assert resolve([Audience.AE], DealPeople(crm="pipedrive", ae="13"), DIRECTORY, WORKDAY).ids == ["maria"]


def test_a_manager_named_on_the_deal_wins_over_the_directory():
    assert ids([Audience.SALES_MANAGER], ae="61234567", sales_manager="vera.novak@example.com") == ["vera"]
    # An address the directory does not know is still someone to write to.
    assert ids([Audience.SALES_MANAGER], ae="61234567", sales_manager="boss@elsewhere.example") == [
        "boss@elsewhere.example"
    ]


def test_an_ae_outside_any_sales_team_climbs_their_own_managers():
    directory = load_directory_text(
        """
people:
  - {id: ann, name: Ann, email: ann@x.example, crm_owner_ids: {hubspot: ["7"]}, manager: mo}
  - {id: mo, name: Mo, email: mo@x.example, manager: vi}
  - {id: vi, name: Vi, email: vi@x.example}
revops: vi
"""
    )
    found = resolve([Audience.SALES_MANAGER, Audience.VP_SALES], people(ae="7"), directory, WORKDAY)
    assert found.ids == ["mo", "vi"]


def test_one_person_holding_two_places_is_told_once_with_both():
    found = resolve([Audience.CS_LEAD, Audience.CS_MANAGER], people(cs_team="mid-market"), DIRECTORY, WORKDAY)
    assert found.ids == ["lena", "carl"]
    found = resolve([Audience.AE, Audience.AE], people(ae="61234567"), DIRECTORY, WORKDAY)
    assert found.ids == ["maria"] and found.recipients[0].audience == [Audience.AE]


def test_a_person_away_is_covered_by_their_delegate_else_their_manager():
    # Tom (a CSM) is away 21 Dec - 1 Jan with Priya as his delegate.
    found = resolve([Audience.CSM], people(csm="tom"), DIRECTORY, HOLIDAYS)
    assert found.ids == ["priya"] and found.recipients[0].covering_for == "tom"
    assert ids([Audience.CSM], day=WORKDAY, csm="tom") == ["tom"]
    directory = load_directory_text(
        """
people:
  - {id: ann, name: Ann, email: ann@x.example, manager: mo, delegate: bo, out_of_office: [["2026-12-01", "2026-12-31"]]}
  - {id: bo, name: Bo, email: bo@x.example, out_of_office: [["2026-12-01", "2026-12-31"]]}
  - {id: mo, name: Mo, email: mo@x.example}
revops: mo
"""
    )
    # Her delegate is away too: her manager covers.
    found = resolve([Audience.CSM], people(csm="ann"), directory, WORKDAY)
    assert found.ids == ["mo"] and found.recipients[0].covering_for == "ann"


def test_cover_never_loops_and_nobody_free_leaves_the_person_themselves():
    directory = load_directory_text(
        """
people:
  - {id: ann, name: Ann, email: ann@x.example, delegate: bo, out_of_office: [["2026-12-01", "2026-12-31"]]}
  - {id: bo, name: Bo, email: bo@x.example, delegate: ann, out_of_office: [["2026-12-01", "2026-12-31"]]}
revops: ann
"""
    )
    assert resolve([Audience.CSM], people(csm="ann"), directory, WORKDAY).ids == ["ann"]


def test_a_place_nobody_holds_goes_to_revops_and_is_reported():
    found = resolve([Audience.AE, Audience.CSM], people(ae="61234567", csm="nobody-we-know"), DIRECTORY, WORKDAY)
    assert found.ids == ["maria", "rita"]
    assert found.unresolved == [Audience.CSM]
    assert found.recipients[1].audience == [Audience.REVOPS]


def test_with_no_directory_the_deal_addresses_still_reach_people_and_roles_reach_nobody():
    from domain.directory import Directory

    found = resolve(
        [Audience.AE, Audience.SALES_MANAGER, Audience.CS_MANAGER],
        people(ae="ae@example.com", sales_manager="sm@example.com"),
        Directory(),
        WORKDAY,
    )
    assert found.ids == ["ae@example.com", "sm@example.com"]
    assert found.unresolved == [Audience.CS_MANAGER]


def test_partner_professional_services_and_the_recovery_owner():
    found = resolve(
        [Audience.PARTNER_MANAGER, Audience.PROFESSIONAL_SERVICES, Audience.RECOVERY_OWNER],
        people(partner="Northwind Partners", recovery_owner="sam.okafor@example.com"),
        DIRECTORY,
        WORKDAY,
    )
    assert found.ids == ["pam", "pete", "sam"] and found.unresolved == []
    # A partner the directory does not list has no manager to tell.
    found = resolve([Audience.PARTNER_MANAGER], people(partner="Unknown Reseller"), DIRECTORY, WORKDAY)
    assert found.unresolved == [Audience.PARTNER_MANAGER] and found.ids == ["rita"]


def test_the_sales_team_is_its_manager_and_its_aes():
    assert ids([Audience.SALES_TEAM], ae="61234567") == ["dan", "maria", "sam"]


def test_odd_owner_values_resolve_to_nobody_rather_than_fail():
    for odd in ("", "   ", "ü" * 300, "0" * 64, "@", "a@b", "<x@y.example>", "x@y.example\nBcc: z@q.example"):
        found = resolve([Audience.AE], people(ae=odd), DIRECTORY, WORKDAY)
        assert found.unresolved == [Audience.AE] and found.ids == ["rita"], odd
