"""/v1/events, repeated wins after the handoff, health checks and an unreachable Temporal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from temporalio import activity
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, DescribeWorkflowInput, Interceptor, OutboundInterceptor, StartWorkflowInput

from domain.state import Facts, HandoffState, Outcome, Phase
from infra.temporal_client import data_converter
from store.engine import session_scope
from store.repository import FIRST_TOUCH_NPS, record_state
from store.tables import RatingRow
from tests.api_rig import (
    SF_TOKEN,
    auth,
    cdc_body,
    deal_number,
    dumps,
    hubspot_stage,
    hubspot_v3_headers,
    outbound_body,
    running_api,
    sf_id,
)
from tests.handoffs import deal
from tests.test_api_webhooks import exists

pytestmark = pytest.mark.temporal


def deal_event(deal_id: str, stage: str = "closed_won", **extra) -> dict:
    now = datetime.now(UTC)
    return {"type": "deal", "source": "acme-crm", "stage": stage, "deal": {
        "id": deal_id, "account": "Northwind Logistics", "amount": 84000, "currency": "EUR",
        "created_at": (now - timedelta(days=40)).isoformat(), "closed_at": now.isoformat(), "ae": "maria@example.com",
    }, **extra}  # fmt: skip


async def test_generic_deal_event_starts_the_handoff_for_the_crm_role_only(rig_factory):
    async with rig_factory() as rig, running_api(rig) as api:
        deal_id = f"D-{deal_number()}"
        workflow_id = f"baton-acme-crm-{deal_id}"
        api.track(workflow_id)
        assert (await api.http.post("/v1/events", json=deal_event(deal_id))).status_code == 401
        assert (
            await api.http.post("/v1/events", json=deal_event(deal_id), headers={"Authorization": "Bearer nope"})
        ).status_code == 401
        assert (await api.http.post("/v1/events", json=deal_event(deal_id), headers=auth("ae"))).status_code == 403
        assert not await exists(rig.client, workflow_id)

        answer = await api.http.post("/v1/events", json=deal_event(deal_id), headers=auth("crm"))
        assert answer.status_code == 202, answer.text
        assert answer.json() == [
            {"workflow_id": workflow_id, "deal_id": deal_id, "stage": "closed_won", "kind": "won", "outcome": "started"}
        ]


async def test_generic_event_validation_is_422_naming_the_field(rig_factory):
    async with rig_factory() as rig, running_api(rig) as api:
        body = deal_event("D-1", unknown_field=1)
        answer = await api.http.post("/v1/events", json=body, headers=auth("crm"))
        assert answer.status_code == 422
        assert any(error["loc"][-1] == "unknown_field" for error in answer.json()["detail"])
        bad_nps = {"type": "survey", "deal_id": "D-1", "nps": 11}
        answer = await api.http.post("/v1/events", json=bad_nps, headers=auth("crm"))
        assert answer.status_code == 422 and answer.json()["detail"][0]["loc"][-1] == "nps"


async def test_churn_and_survey_are_recorded(rig_factory):
    async with rig_factory() as rig, running_api(rig) as api:
        churn = {
            "type": "churn",
            "source": "acme-crm",
            "account": f"Acct {deal_number()}",
            "churned_on": "2026-11-01",
            "reason": "Consolidated onto the parent's platform.",
        }
        first = await api.http.post("/v1/events", json=churn, headers=auth("crm"))
        again = await api.http.post("/v1/events", json=churn, headers=auth("crm"))
        assert (first.status_code, first.json()[0]["outcome"]) == (202, "recorded")
        assert again.json()[0]["outcome"] == "duplicate"

        number = deal_number()
        workflow_id = f"baton-hubspot-{number}"
        survey = {"type": "survey", "source": "hubspot", "deal_id": str(number), "nps": 9}

        def rating():
            with session_scope(rig.store.engine) as session:
                return session.scalar(
                    select(RatingRow.value).where(
                        RatingRow.workflow_id == workflow_id, RatingRow.kind == FIRST_TOUCH_NPS
                    )
                )

        # An answer about a deal that never had a handoff rates nothing: refused, and nothing is kept.
        unknown = await api.http.post("/v1/events", json=survey, headers=auth("crm"))
        assert unknown.status_code == 404 and unknown.json()["detail"][0]["loc"] == ["body", "deal_id"]
        assert rating() is None

        with session_scope(rig.store.engine, write=True) as session:
            record_state(
                session,
                HandoffState(
                    workflow_id=workflow_id,
                    deal=deal(crm="hubspot", deal_id=str(number)),
                    policy_name="default",
                    phase=Phase.INTRO,
                ),
            )
        answer = await api.http.post("/v1/events", json=survey, headers=auth("crm"))
        assert answer.json() == [{"type": "survey", "outcome": "recorded", "workflow_id": workflow_id}]
        assert rating() == 9


async def test_a_win_after_the_handoff_is_already_handed_off_and_starts_nothing(rig_factory):
    async with rig_factory() as rig, running_api(rig) as api:
        number = deal_number()
        now = datetime.now(UTC)
        # Only the store remembers this handoff, as after Temporal's retention has dropped the run.
        state = HandoffState(
            workflow_id=f"baton-hubspot-{number}",
            deal=deal(crm="hubspot", deal_id=str(number)),
            policy_name="default",
            phase=Phase.CLOSED,
            outcome=Outcome.HANDED_OFF,
            facts=Facts(won_at=now - timedelta(days=40), ended_at=now),
        )
        with session_scope(rig.store.engine, write=True) as session:
            record_state(session, state)
        body = dumps([hubspot_stage(number, "closedwon")])
        answer = await api.http.post("/webhooks/hubspot", content=body, headers=hubspot_v3_headers(body))
        assert answer.status_code == 202
        assert answer.json()[0]["outcome"] == "already_handed_off"
        assert not await exists(rig.client, f"baton-hubspot-{number}")


async def test_health_and_readiness(rig_factory):
    async with rig_factory() as rig, running_api(rig) as api:
        assert (await api.http.get("/healthz")).json() == {"status": "ok"}
        ready = await api.http.get("/readyz")
        assert ready.status_code == 200 and ready.json()["temporal"] == "serving"


async def test_temporal_unreachable_is_503_and_nothing_is_acknowledged(rig_factory):
    unreachable = await Client.connect("127.0.0.1:1", lazy=True, data_converter=data_converter())
    async with rig_factory() as rig, running_api(rig, client=unreachable) as api:
        assert (await api.http.get("/healthz")).status_code == 200
        assert (await api.http.get("/readyz")).status_code == 503
        body = dumps([hubspot_stage(deal_number(), "closedwon")])
        answer = await api.http.post("/webhooks/hubspot", content=body, headers=hubspot_v3_headers(body))
        assert answer.status_code == 503 and answer.headers["retry-after"]
        outbound = await api.http.post(
            "/webhooks/salesforce/outbound",
            content=outbound_body((sf_id(), "Closed Won")),
            headers={"X-Baton-Token": SF_TOKEN},
        )
        assert outbound.status_code == 503 and "Ack" not in outbound.text
        cdc = await api.http.post(
            "/webhooks/salesforce", content=cdc_body(sf_id(), "Closed Won"), headers={"X-Baton-Token": SF_TOKEN}
        )
        assert cdc.status_code == 503
        state = await api.http.get("/v1/handoffs/hubspot/1", headers=auth("operator"))
        assert state.status_code == 503


class CountingCalls(Interceptor):
    """Counts the API client's starts (plain or with a signal) and describes."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        calls = self.calls

        class Outbound(OutboundInterceptor):
            async def start_workflow(self, input: StartWorkflowInput):
                calls.append("signal_with_start" if input.start_signal else "start")
                return await super().start_workflow(input)

            async def describe_workflow(self, input: DescribeWorkflowInput):
                calls.append("describe")
                return await super().describe_workflow(input)

        return Outbound(next)


@activity.defn(name="store_record")
def store_record_nothing(state: HandoffState) -> int:
    """The read model never hears of the run, so a redelivery must find it through Temporal."""
    return 0


async def test_a_deal_seen_for_the_first_time_is_started_in_one_call_and_a_redelivery_signals_the_run(rig_factory):
    counting = CountingCalls()
    async with rig_factory(activities_override=[store_record_nothing]) as rig:
        client = Client(**{**rig.client.config(), "interceptors": [counting]})
        async with running_api(rig, client=client) as api:
            number = deal_number()
            body = dumps([hubspot_stage(number, "closedwon")])
            first = await api.http.post("/webhooks/hubspot", content=body, headers=hubspot_v3_headers(body))
            assert first.json()[0]["outcome"] == "started"
            assert counting.calls == ["start"]  # no describe, no signal: the input carries the event

            counting.calls.clear()
            again = await api.http.post("/webhooks/hubspot", content=body, headers=hubspot_v3_headers(body))
            assert again.json()[0]["outcome"] == "duplicate"
            assert counting.calls == ["start", "describe", "signal_with_start"]
            history = [
                event.event_type
                async for event in client.get_workflow_handle(f"baton-hubspot-{number}").fetch_history_events()
            ]
            assert history.count(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED) == 1
