"""The API's /metrics: requests by route template and status, webhook verification failures, starts."""

from __future__ import annotations

import re

import pytest

from tests.api_rig import auth, deal_number, dumps, hubspot_stage, hubspot_v3_headers, running_api

pytestmark = pytest.mark.temporal


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one series in Prometheus text, 0 when absent (a counter never incremented)."""
    want = ",".join(f'{key}="{value}"' for key, value in labels.items())
    pattern = re.compile(rf"^{re.escape(name)}{re.escape('{' + want + '}') if want else ''} (\S+)$", re.MULTILINE)
    found = pattern.search(text)
    return float(found.group(1)) if found else 0.0


async def scrape(api) -> str:
    answer = await api.http.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    return answer.text


async def test_requests_are_counted_by_route_template_and_status_without_auth(rig_factory):
    async with rig_factory() as rig, running_api(rig) as api:
        missing = deal_number()
        first = await api.http.get(f"/v1/handoffs/hubspot/{missing}", headers=auth("operator"))
        second = await api.http.get(f"/v1/handoffs/hubspot/{deal_number()}", headers=auth("operator"))
        assert first.status_code == second.status_code == 404
        text = await scrape(api)  # no Authorization header: /metrics is open to the scraper
        assert sample(text, "baton_http_requests_total", route="/v1/handoffs/{crm}/{deal_id}", status="404") == 2
        # The raw path (with the deal id) never becomes a label value.
        assert str(missing) not in text
        assert sample(text, "baton_http_request_duration_seconds_count", route="/v1/handoffs/{crm}/{deal_id}") == 2
        assert 'baton_http_request_duration_seconds_bucket{route="/v1/handoffs/{crm}/{deal_id}",le="+Inf"} 2' in text


async def test_a_failed_hubspot_signature_counts_a_verification_failure(rig_factory):
    async with rig_factory() as rig, running_api(rig) as api:
        body = dumps([hubspot_stage(deal_number(), "closedwon")])
        refused = await api.http.post("/webhooks/hubspot", content=body, headers=hubspot_v3_headers(body + b" "))
        assert refused.status_code == 401
        text = await scrape(api)
        assert sample(text, "baton_webhook_verification_failures_total", crm="hubspot") == 1
        assert sample(text, "baton_http_requests_total", route="/webhooks/hubspot", status="401") == 1
        assert sample(text, "baton_handoffs_started_total", crm="hubspot") == 0


async def test_a_won_deal_counts_one_handoff_started_and_its_redelivery_none(rig_factory):
    async with rig_factory() as rig, running_api(rig) as api:
        number = deal_number()
        api.track(f"baton-hubspot-{number}")
        body = dumps([hubspot_stage(number, "closedwon")])
        for _ in range(2):
            answer = await api.http.post("/webhooks/hubspot", content=body, headers=hubspot_v3_headers(body))
            assert answer.status_code == 202, answer.text
        text = await scrape(api)
        assert sample(text, "baton_handoffs_started_total", crm="hubspot") == 1
        assert sample(text, "baton_http_requests_total", route="/webhooks/hubspot", status="202") == 2
        assert sample(text, "baton_webhook_verification_failures_total", crm="hubspot") == 0


async def test_counting_starts_overrides_no_dependency(rig_factory):
    """With any dependency override set, FastAPI re-reads every dependency's signature on every request
    (a fifth of the API's CPU under load): the app must leave overrides to tests."""
    async with rig_factory() as rig, running_api(rig) as api:
        assert api.app.dependency_overrides == {}
