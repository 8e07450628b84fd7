"""The report endpoints over HTTP: the figures the store computes, the window, validation and roles.

The read model is seeded with the states tests/test_reports.py works out by hand, so a figure checked
here is one whose arithmetic is already explained there. No Temporal is needed: reports read the store.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from temporalio.client import Client

from api.app import create_app
from api.settings import ApiSettings
from infra.temporal_client import data_converter
from store.engine import make_engine, session_scope
from store.migrate import upgrade
from tests.api_rig import api_keys_setting, auth
from tests.test_reports import record_examples


@pytest_asyncio.fixture
async def http(tmp_path) -> AsyncIterator[httpx.AsyncClient]:
    url = f"sqlite:///{tmp_path}/reports.db"
    upgrade(url)
    engine = make_engine(url)
    with session_scope(engine) as session:
        record_examples(session)
    engine.dispose()
    # Reports never touch Temporal: a client for a closed port shows they do not need it.
    unreachable = await Client.connect("127.0.0.1:1", lazy=True, data_converter=data_converter())
    app = create_app(settings=ApiSettings(database_url=url, api_keys=api_keys_setting()), client=unreachable)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://test") as client,
    ):
        yield client


WINDOW = {"from": "2026-03-01", "to": "2026-05-01"}


async def test_scorecard_figures_by_ae_and_overall(http):
    answer = await http.get("/v1/scorecard", params={**WINDOW, "group_by": "ae"}, headers=auth("cs_lead"))
    assert answer.status_code == 200, answer.text
    card = answer.json()
    assert (card["group_by"], card["start"], card["end"]) == ("ae", "2026-03-01", "2026-05-01")
    overall = card["overall"]
    # The same arithmetic as test_reports.test_scorecard_overall_row: h1..h5 fall in the window.
    assert overall["handoffs"] == 5 and overall["tiers"] == {"ready": 2, "gaps": 2, "blocked": 1}
    assert (overall["completeness"]["value"], overall["completeness"]["met"]) == (86.0, False)
    assert overall["time_to_intro_p90"]["value"] == 5.6
    assert overall["first_touch_nps"] == {"value": 8.33, "n": 3, "target": 8.0, "op": ">=", "met": True}
    assert overall["sla_compliance"]["csm_briefed"] == {"met": 2, "breached": 2, "rate": 50.0}
    assert [row["group"] for row in card["rows"]] == ["ada", "bob", "cy"]
    assert card["rows"][0]["quality_score"]["value"] == 80.0


async def test_scorecard_groups_and_window(http):
    by_month = (
        await http.get("/v1/scorecard", params={**WINDOW, "group_by": "month"}, headers=auth("operator"))
    ).json()
    assert [(row["group"], row["handoffs"]) for row in by_month["rows"]] == [("2026-03", 2), ("2026-04", 3)]
    by_team = (
        await http.get("/v1/scorecard", params={**WINDOW, "group_by": "cs_team"}, headers=auth("operator"))
    ).json()
    assert [row["group"] for row in by_team["rows"]] == ["(none)", "enterprise", "mid-market"]
    # No window: every won handoff up to now (h1..h6, h9..h12; h7 was never won).
    everything = (await http.get("/v1/scorecard", params={"group_by": "segment"}, headers=auth("cs_lead"))).json()
    assert everything["overall"]["handoffs"] == 10 and everything["start"] is None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"group_by": "region"}, "group_by"),
        ({"from": "2026-13-01"}, "from"),
        ({"to": "last week"}, "to"),
        ({"from": "2026-05-01", "to": "2026-03-01"}, "to"),
    ],
)
async def test_scorecard_bad_values_are_422_naming_the_field(http, params, field):
    answer = await http.get("/v1/scorecard", params=params, headers=auth("cs_lead"))
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"][0]["loc"] == ["query", field]


async def test_at_risk_order_limit_and_bounds(http):
    # Real "now" is after every seeded SLA, so all open pending SLAs count as overdue.
    answer = await http.get("/v1/at-risk", headers=auth("cs_lead"))
    assert answer.status_code == 200, answer.text
    ids = [item["workflow_id"].removeprefix("baton-hubspot-") for item in answer.json()]
    assert ids[:2] == ["h2", "h5"]  # breached, oldest breach first
    assert set(ids) == {"h2", "h5", "h9", "h11", "h3", "h12", "h10"}
    assert "tier gaps" in answer.json()[0]["reasons"]
    one = await http.get("/v1/at-risk", params={"limit": 1, "soon_hours": 0}, headers=auth("operator"))
    assert [item["workflow_id"] for item in one.json()] == ["baton-hubspot-h2"]
    for bad in ({"limit": 0}, {"soon_hours": -1}, {"soon_hours": "1e308"}, {"limit": "many"}):
        answer = await http.get("/v1/at-risk", params=bad, headers=auth("cs_lead"))
        assert answer.status_code == 422 and answer.json()["detail"][0]["loc"] == ["query", next(iter(bad))]


async def test_churn_report(http):
    answer = await http.get("/v1/reports/churn", headers=auth("operator"))
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert [(m["account"], m["workflow_id"], m["breaches"]) for m in report["matched"]] == [
        ("Beta Two", "baton-hubspot-h2", 3),
        ("ACME ONE", "baton-hubspot-h1", 0),
    ]
    assert [u["account"] for u in report["unmatched"]] == ["Gamma", "Nobody Inc"]
    assert report["by_tier"][1] == {"tier": "gaps", "handoffs": 3, "churned": 1, "rate": 33.33}


@pytest.mark.parametrize("path", ["/v1/scorecard", "/v1/at-risk", "/v1/reports/churn"])
async def test_roles(http, path):
    assert (await http.get(path)).status_code == 401
    assert (await http.get(path, headers={"Authorization": "Bearer not-a-key"})).status_code == 401
    for role in ("crm", "ae"):
        answer = await http.get(path, headers=auth(role))
        assert answer.status_code == 403 and "cs_lead" in answer.json()["detail"], role
    for role in ("cs_lead", "operator"):
        assert (await http.get(path, headers=auth(role))).status_code == 200, role
