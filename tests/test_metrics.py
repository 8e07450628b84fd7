"""The API's /metrics: requests by route template and status, webhook verification failures, starts."""

from __future__ import annotations

import base64

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.api_rig import auth, deal_number, dumps, hubspot_stage, hubspot_v3_headers, running_api

pytestmark = pytest.mark.temporal


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one series in Prometheus text. A missing series fails the test: a counter the API
    declares exists at 0 before it counts anything, so absence means a renamed metric or label."""
    families = {family.name: family for family in text_string_to_metric_families(text)}
    for family in families.values():
        for found in family.samples:
            if found.name == name and found.labels == labels:
                return found.value
    present = [f"{s.name}{s.labels}" for f in families.values() for s in f.samples if s.name.startswith(name)]
    raise AssertionError(f"no series {name}{labels} in /metrics; present: {present}")


def test_a_missing_series_fails_rather_than_reading_as_zero():
    text = '# TYPE baton_handoffs_started_total counter\nbaton_handoffs_started_total{crm="hubspot"} 0.0\n'
    assert sample(text, "baton_handoffs_started_total", crm="hubspot") == 0
    with pytest.raises(AssertionError, match="no series"):
        sample(text, "baton_handoffs_started_total", crm="salesforce")
    with pytest.raises(AssertionError, match="no series"):
        sample(text, "baton_handoffs_started", crm="hubspot")


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
        handoff = "/v1/handoffs/{crm}/{deal_id}"
        assert sample(text, "baton_http_request_duration_seconds_bucket", route=handoff, le="+Inf") == 2
        assert sample(text, "baton_http_request_duration_seconds_bucket", route=handoff, le="30.0") == 2


async def test_a_failed_hubspot_signature_counts_a_verification_failure(rig_factory):
    async with rig_factory() as rig, running_api(rig) as api:
        body = dumps([hubspot_stage(deal_number(), "closedwon")])
        refused = await api.http.post("/webhooks/hubspot", content=body, headers=hubspot_v3_headers(body + b" "))
        assert refused.status_code == 401
        text = await scrape(api)
        assert sample(text, "baton_webhook_verification_failures_total", crm="hubspot") == 1
        assert sample(text, "baton_http_requests_total", route="/webhooks/hubspot", status="401") == 1
        assert sample(text, "baton_handoffs_started_total", crm="hubspot") == 0
        assert sample(text, "baton_webhook_verification_failures_total", crm="pipedrive") == 0


async def test_a_refused_pipedrive_login_counts_under_pipedrive(rig_factory):
    async with rig_factory() as rig, running_api(rig) as api:
        wrong = {"Authorization": "Basic " + base64.b64encode(b"baton:not-the-password").decode()}
        refused = await api.http.post("/webhooks/pipedrive", json={"meta": {}}, headers=wrong)
        assert refused.status_code == 401
        text = await scrape(api)
        assert sample(text, "baton_webhook_verification_failures_total", crm="pipedrive") == 1
        assert sample(text, "baton_webhook_verification_failures_total", crm="hubspot") == 0


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
