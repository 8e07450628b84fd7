"""API pieces without a server: settings, the visibility query, summaries, planning, the OpenAPI document."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
import pytest
from pydantic import ValidationError
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from api.app import create_app
from api.deps import caller_roles
from api.ingest_plan import plan, summary
from api.settings import ApiSettings, parse_api_keys
from api.visibility import build_query, decode_token, encode_token, quote
from domain.deal import Deal
from domain.events import DealEvent
from domain.policy import Policy
from domain.scoring import Tier
from domain.state import Phase
from tests.api_rig import api_keys_setting, auth
from workflows import search_attributes as sa

HASH = hashlib.sha256(b"k").hexdigest()


def test_api_keys_parse_roles_and_refuse_bad_entries() -> None:
    assert parse_api_keys(f"{HASH}:ae+cs_lead, ") == {HASH: frozenset({"ae", "cs_lead"})}
    for bad in ("nothex:ae", f"{HASH}", f"{HASH}:boss", f"{HASH}:"):
        with pytest.raises(ValueError) as refused:
            parse_api_keys(bad)
        assert HASH not in str(refused.value)


def test_settings_read_the_environment_and_keep_secrets_secret(monkeypatch) -> None:
    monkeypatch.setenv("BATON_HUBSPOT_CLIENT_SECRET", "s3cret")
    monkeypatch.setenv("BATON_POLICY", "/etc/baton/policy.yaml")
    monkeypatch.setenv("DATABASE_URL", "sqlite:///x.db")
    monkeypatch.setenv("BATON_API_KEYS", f"{HASH}:operator")
    settings = ApiSettings()
    assert settings.task_queue == "baton" and settings.policy_file == "/etc/baton/policy.yaml"
    assert settings.database_url == "sqlite:///x.db"
    assert "s3cret" not in repr(settings) and settings.hubspot_client_secret.get_secret_value() == "s3cret"
    assert caller_roles(settings, "k") == {"operator"} and caller_roles(settings, "other") == frozenset()
    monkeypatch.setenv("BATON_API_KEYS", "garbage")
    with pytest.raises(ValidationError):
        ApiSettings()


def test_visibility_query_is_built_from_search_attributes() -> None:
    assert build_query() == "WorkflowType = 'DealHandoffWorkflow'"
    query = build_query(phase=Phase.INTRO, tier=Tier.GAPS, breached=True, csm="csm-mm-1", ae="maria@example.com")
    assert query == (
        "WorkflowType = 'DealHandoffWorkflow' AND BatonPhase = 'intro' AND BatonTier = 'gaps' AND "
        "BatonCsm = 'csm-mm-1' AND BatonAe = 'maria@example.com' AND BatonSlaBreached = true"
    )


@pytest.mark.parametrize("value", ["x' OR WorkflowType != 'y", "a\\", 'quote"', "", "line\nbreak"])
def test_visibility_values_that_could_escape_their_quotes_are_refused(value: str) -> None:
    with pytest.raises(ValueError):
        quote(value)


def test_page_tokens_round_trip_and_garbage_is_refused() -> None:
    key = b"k" * 32
    assert decode_token(encode_token(b"\x00\xffpage", key), key) == b"\x00\xffpage"
    assert encode_token(None, key) is None and decode_token("", key) is None
    with pytest.raises(ValueError, match="page_token"):
        decode_token(encode_token(b"\x00\xffpage", b"another key"), key)
    with pytest.raises(ValueError):
        decode_token("***", key)


def test_summary_names_account_band_and_approach_never_a_contact() -> None:
    deal = Deal(
        crm="hubspot",
        deal_id="1",
        account="Northwind",
        amount=84000,
        ae="maria@example.com",
        executive_sponsor="Priya Shah",
    )
    assert summary(deal, Policy()) == "Northwind · ACV 50k-100k USD · structured"
    assert summary(Deal(crm="hubspot", deal_id="7"), Policy()) == "hubspot deal 7 · ACV unknown until the CRM fetch"


def test_plan_classifies_defaults_the_close_and_validates_before_anything_starts() -> None:
    at = datetime(2026, 3, 6, 15, tzinfo=UTC)
    planned = plan(
        [
            DealEvent(crm="hubspot", deal_id="1", stage="closedwon", occurred_at=at),
            DealEvent(crm="hubspot", deal_id="2", stage="closedlost"),
        ],
        Policy(),
        learned_at=at,
    )
    assert [(p.kind, p.workflow_id) for p in planned] == [("won", "baton-hubspot-1"), ("lost", "baton-hubspot-2")]
    assert planned[0].deal.closed_at == at and planned[1].deal is None
    bad = DealEvent(crm="hubspot", deal_id="3", stage="closedwon", deal_fields={"currency": "euro"})
    with pytest.raises(ValidationError):
        plan([DealEvent(crm="hubspot", deal_id="1", stage="closedwon"), bad], Policy(), learned_at=at)


@dataclass
class FakeExecution:
    id: str
    typed_search_attributes: TypedSearchAttributes


@dataclass
class FakeListing:
    page: list
    next_page_token: bytes | None = b"next"
    current_page: list | None = None

    async def fetch_next_page(self) -> None:
        self.current_page = self.page


@dataclass
class FakeClient:
    """Stands in for visibility, which the time-skipping server does not implement."""

    queries: list = field(default_factory=list)

    def list_workflows(self, query, *, page_size, next_page_token, rpc_timeout):
        self.queries.append((query, page_size, next_page_token))
        values = [
            (sa.PHASE, "intro"),
            (sa.TIER, "ready"),
            (sa.SCORE, 91.5),
            (sa.CSM, "csm-mm-1"),
            (sa.SLA_BREACHED, False),
        ]
        attrs = TypedSearchAttributes([SearchAttributePair(key, value) for key, value in values])
        return FakeListing([FakeExecution("baton-hubspot-1", attrs)])


async def test_list_handoffs_reads_rows_from_search_attributes(tmp_path) -> None:
    client = FakeClient()
    secret = "page-token-secret"
    settings = ApiSettings(
        api_keys=api_keys_setting(),
        database_url=f"sqlite:///{tmp_path}/x.db",
        policy_file=None,
        session_secret=secret,
    )
    app = create_app(settings=settings, client=client)
    token = encode_token(b"a", secret.encode())
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
            answer = await http.get(
                f"/v1/handoffs?phase=intro&csm=csm-mm-1&page_size=10&page_token={token}", headers=auth("ae")
            )
            assert answer.status_code == 200, answer.text
            assert answer.json() == {
                "handoffs": [
                    {
                        "id": "baton-hubspot-1",
                        "phase": "intro",
                        "tier": "ready",
                        "score": 91.5,
                        "csm": "csm-mm-1",
                        "ae": None,
                        "breached": False,
                    }
                ],
                "next_page_token": encode_token(b"next", secret.encode()),
            }
            assert client.queries == [
                ("WorkflowType = 'DealHandoffWorkflow' AND BatonPhase = 'intro' AND BatonCsm = 'csm-mm-1'", 10, b"a")
            ]
            # A forged token (valid base64, no MAC) is refused before it reaches Temporal.
            for bad in (
                "phase=sideways",
                "tier=great",
                "csm=x'%20OR%201=1",
                "page_size=0",
                "page_token=***",
                "page_token=YQ==",
            ):
                assert (await http.get(f"/v1/handoffs?{bad}", headers=auth("ae"))).status_code == 422, bad
            assert (await http.get("/v1/handoffs", headers=auth("crm"))).status_code == 403


def test_openapi_documents_roles_and_examples_for_every_endpoint() -> None:
    spec = create_app(ApiSettings(api_keys=api_keys_setting())).openapi()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            text = operation.get("description", "")
            assert "Roles:" in text or "Unauthenticated" in text or "not an API key" in text, (method, path)
            body = operation.get("requestBody")
            if body:
                content = next(iter(body["content"].values()))
                assert content.get("examples"), (method, path)


def test_the_hubspot_webhook_documents_all_four_headers_a_delivery_carries() -> None:
    """HubSpot's webhooks API sends the v3 pair and the older v1 pair on one request; the docs show all
    four, and which one Baton verifies."""
    spec = create_app(ApiSettings(api_keys=api_keys_setting())).openapi()
    headers = {p["name"]: p for p in spec["paths"]["/webhooks/hubspot"]["post"]["parameters"] if p["in"] == "header"}
    assert set(headers) >= {
        "X-HubSpot-Signature-v3",
        "X-HubSpot-Request-Timestamp",
        "X-HubSpot-Signature",
        "X-HubSpot-Signature-Version",
    }
    assert "verified" in headers["X-HubSpot-Signature-v3"]["description"]
    assert headers["X-HubSpot-Signature-Version"]["schema"]["examples"] == ["v1"]
    assert all(header["description"] and header["schema"]["examples"] for header in headers.values())
