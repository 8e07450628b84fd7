"""The handoff page link that notifications carry."""

from __future__ import annotations

import pytest

from infra.page_links import handoff_page_url, handoff_path

pytestmark = pytest.mark.unit


def test_link_uses_the_public_url(monkeypatch):
    monkeypatch.setenv("BATON_PUBLIC_URL", "https://baton.example.com/")
    assert (
        handoff_page_url("salesforce", "006Dn00000AbCdEIAZ")
        == "https://baton.example.com/h/salesforce/006Dn00000AbCdEIAZ"
    )


def test_link_without_a_public_url_is_the_local_api(monkeypatch):
    monkeypatch.delenv("BATON_PUBLIC_URL", raising=False)
    assert handoff_page_url("hubspot", "9876543210") == "http://127.0.0.1:8000/h/hubspot/9876543210"


def test_odd_deal_ids_are_quoted():
    assert handoff_path("acme-crm", "D 1/ü?x") == "/h/acme-crm/D%201%2F%C3%BC%3Fx"
    assert handoff_page_url("hubspot", "1", base_url="https://b.example") == "https://b.example/h/hubspot/1"
