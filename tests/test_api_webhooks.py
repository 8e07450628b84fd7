"""CRM webhooks end to end: verified, parsed, and the deal's handoff started once on a real server."""

from __future__ import annotations

import time

import pytest
from temporalio.client import WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from domain.ids import normalise_salesforce_id
from tests.api_rig import (
    PD_PASSWORD,
    PD_USER,
    SF_TOKEN,
    basic,
    cdc_body,
    deal_number,
    dumps,
    hubspot_stage,
    hubspot_v2_headers,
    hubspot_v3_headers,
    outbound_body,
    pipedrive_won,
    running_api,
    sf_id,
)  # fmt: skip
from tests.conftest import assert_eventually
from workflows.handoff import DealHandoffWorkflow

pytestmark = pytest.mark.temporal


async def exists(client, workflow_id: str) -> bool:
    try:
        await client.get_workflow_handle(workflow_id).describe()
    except RPCError as err:
        assert err.status == RPCStatusCode.NOT_FOUND
        return False
    return True


async def test_hubspot_batch_starts_one_handoff_per_won_deal_and_redelivery_starts_none(rig_factory):
    async with rig_factory() as rig, running_api(rig) as api:
        first, second, other = deal_number(), deal_number(), deal_number()
        ids = [f"baton-hubspot-{n}" for n in (first, second, other)]
        api.track(*ids)
        creation = {**hubspot_stage(other, ""), "subscriptionType": "deal.creation", "eventId": 4}
        body = dumps(
            [
                hubspot_stage(first, "closedwon", 1),
                hubspot_stage(second, "closedwon", 2),
                hubspot_stage(other, "appointmentscheduled", 3),
                creation,
            ]
        )

        answer = await api.http.post("/webhooks/hubspot", content=body, headers=hubspot_v3_headers(body))
        assert answer.status_code == 202, answer.text
        assert [o["outcome"] for o in answer.json()] == ["started", "started", "ignored", "ignored"]
        assert answer.json()[0]["workflow_id"] == ids[0]
        runs = [(await rig.client.get_workflow_handle(i).describe()).run_id for i in ids[:2]]
        assert not await exists(rig.client, ids[2])

        again = await api.http.post("/webhooks/hubspot", content=body, headers=hubspot_v3_headers(body))
        assert again.status_code == 202
        assert [o["outcome"] for o in again.json()] == ["duplicate", "duplicate", "ignored", "ignored"]
        assert [(await rig.client.get_workflow_handle(i).describe()).run_id for i in ids[:2]] == runs


@pytest.mark.parametrize("problem", ["bad signature", "stale timestamp", "missing signature", "other secret"])
async def test_hubspot_refuses_unverified_requests_and_starts_nothing(rig_factory, problem):
    async with rig_factory() as rig, running_api(rig) as api:
        number = deal_number()
        body = dumps([hubspot_stage(number, "closedwon")])
        if problem == "bad signature":
            headers = hubspot_v3_headers(body + b" ")
        elif problem == "stale timestamp":
            headers = hubspot_v3_headers(body, at_ms=int(time.time() * 1000) - 301_000)
        elif problem == "other secret":
            headers = hubspot_v3_headers(body, secret="not-the-secret")
        else:
            headers = {"Content-Type": "application/json"}
        answer = await api.http.post("/webhooks/hubspot", content=body, headers=headers)
        assert answer.status_code == 401
        assert answer.json()["detail"] == (
            "missing signature"
            if problem == "missing signature"
            else "stale timestamp"
            if problem == "stale timestamp"
            else "bad signature"
        )
        assert not await exists(rig.client, f"baton-hubspot-{number}")


async def test_hubspot_workflow_webhook_signed_v2(rig_factory):
    async with rig_factory() as rig, running_api(rig) as api:
        number = deal_number()
        api.track(f"baton-hubspot-{number}")
        body = dumps(
            {
                "objectId": number,
                "properties": {
                    "dealstage": {"value": "closedwon", "timestamp": int(time.time() * 1000)},
                    "dealname": {"value": "Northwind Logistics"},
                    "amount": {"value": "84000"},
                },
            }
        )
        answer = await api.http.post("/webhooks/hubspot", content=body, headers=hubspot_v2_headers(body))
        assert answer.status_code == 202, answer.text
        assert [o["outcome"] for o in answer.json()] == ["started"]
        # The time-skipping server drops static summaries; `summary` itself is tested without a server.
        assert await exists(rig.client, f"baton-hubspot-{number}")


async def test_hubspot_malformed_batch_is_400_naming_the_field_and_starts_nothing(rig_factory):
    async with rig_factory() as rig, running_api(rig) as api:
        number = deal_number()
        body = dumps([hubspot_stage(number, "closedwon"), {**hubspot_stage(1, "closedwon"), "objectId": "abc"}])
        answer = await api.http.post("/webhooks/hubspot", content=body, headers=hubspot_v3_headers(body))
        assert answer.status_code == 400
        assert answer.json()["field"] == "[1].objectId"
        assert not await exists(rig.client, f"baton-hubspot-{number}")
        junk = b"{not json"
        answer = await api.http.post("/webhooks/hubspot", content=junk, headers=hubspot_v3_headers(junk))
        assert (answer.status_code, answer.json()["field"]) == (400, "body")


async def test_salesforce_cdc_needs_the_token_and_keys_the_18_character_id(rig_factory):
    async with rig_factory() as rig, running_api(rig) as api:
        record = sf_id()
        workflow_id = f"baton-salesforce-{normalise_salesforce_id(record)}"
        api.track(workflow_id)
        refused = await api.http.post("/webhooks/salesforce", content=cdc_body(record, "Closed Won"))
        assert refused.status_code == 401
        assert not await exists(rig.client, workflow_id)
        answer = await api.http.post(
            "/webhooks/salesforce", content=cdc_body(record, "Closed Won"), headers={"X-Baton-Token": SF_TOKEN}
        )
        assert answer.status_code == 202, answer.text
        assert answer.json()[0] | {"outcome": "started", "workflow_id": workflow_id} == answer.json()[0]


async def test_salesforce_outbound_message_acks_after_starting_every_notification(rig_factory):
    async with rig_factory() as rig, running_api(rig) as api:
        won, lost = sf_id(), sf_id()
        won_id = f"baton-salesforce-{normalise_salesforce_id(won)}"
        api.track(won_id)
        other = sf_id()
        other_id = f"baton-salesforce-{normalise_salesforce_id(other)}"
        api.track(other_id)
        body = outbound_body((won, "Closed Won"), (lost, "Closed Lost"), (other, "Closed Won"))
        answer = await api.http.post(
            f"/webhooks/salesforce/outbound?token={SF_TOKEN}", content=body, headers={"Content-Type": "text/xml"}
        )
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].startswith("text/xml")
        assert "<Ack>true</Ack>" in answer.text
        assert await exists(rig.client, won_id) and await exists(rig.client, other_id)

        wrong_org = outbound_body((sf_id(), "Closed Won"), org="00D5g000004AbCdEAK")
        refused = await api.http.post(
            "/webhooks/salesforce/outbound", content=wrong_org, headers={"X-Baton-Token": SF_TOKEN}
        )
        assert refused.status_code == 401 and "Ack" not in refused.text


async def test_pipedrive_won_deal_with_basic_auth(rig_factory):
    async with rig_factory() as rig, running_api(rig) as api:
        number = deal_number()
        workflow_id = f"baton-pipedrive-{number}"
        api.track(workflow_id)
        refused = await api.http.post("/webhooks/pipedrive", content=pipedrive_won(number))
        assert refused.status_code == 401
        wrong = await api.http.post(
            "/webhooks/pipedrive", content=pipedrive_won(number), headers=basic(PD_USER, "nope")
        )
        assert wrong.status_code == 401
        assert not await exists(rig.client, workflow_id)
        answer = await api.http.post(
            "/webhooks/pipedrive", content=pipedrive_won(number), headers=basic(PD_USER, PD_PASSWORD)
        )
        assert answer.status_code == 202, answer.text
        assert [o["outcome"] for o in answer.json()] == ["started"]
        assert await exists(rig.client, workflow_id)


async def test_lost_ends_a_pre_close_run_and_a_later_win_starts_a_new_one(rig_factory, tmp_path):
    policy = tmp_path / "policy.yaml"
    policy.write_text("stages:\n  pre_close:\n    hubspot: [contractsent]\n")
    async with rig_factory() as rig, running_api(rig, policy_file=str(policy)) as api:
        number = deal_number()
        workflow_id = f"baton-hubspot-{number}"
        api.track(workflow_id)

        async def post(stage: str, event_id: int) -> str:
            body = dumps([hubspot_stage(number, stage, event_id)])
            answer = await api.http.post("/webhooks/hubspot", content=body, headers=hubspot_v3_headers(body))
            assert answer.status_code == 202, answer.text
            return answer.json()[0]["outcome"]

        assert await post("contractsent", 1) == "started"
        handle = rig.client.get_workflow_handle(workflow_id)
        first_run = (await handle.describe()).run_id
        assert await post("closedlost", 2) == "ended"

        async def closed():
            assert (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED

        await assert_eventually(closed)
        assert await post("closedlost", 3) == "ignored"
        assert await post("closedwon", 4) == "started"
        assert (await handle.describe()).run_id != first_run


async def test_lost_without_a_run_and_other_stages_start_nothing(rig_factory):
    async with rig_factory() as rig, running_api(rig) as api:
        number = deal_number()
        body = dumps([hubspot_stage(number, "closedlost", 1), hubspot_stage(number, "qualifiedtobuy", 2)])
        answer = await api.http.post("/webhooks/hubspot", content=body, headers=hubspot_v3_headers(body))
        assert answer.status_code == 202
        assert [(o["kind"], o["outcome"]) for o in answer.json()] == [("lost", "ignored"), ("other", "ignored")]
        assert not await exists(rig.client, f"baton-hubspot-{number}")


async def test_a_win_advances_a_running_pre_close_run(rig_factory, tmp_path):
    policy = tmp_path / "policy.yaml"
    policy.write_text("stages:\n  pre_close:\n    hubspot: [contractsent]\n")
    async with rig_factory() as rig, running_api(rig, policy_file=str(policy)) as api:
        number = deal_number()
        workflow_id = f"baton-hubspot-{number}"
        api.track(workflow_id)
        early = dumps([hubspot_stage(number, "contractsent", 1)])
        answer = await api.http.post("/webhooks/hubspot", content=early, headers=hubspot_v3_headers(early))
        assert answer.json()[0]["outcome"] == "started"
        handle = rig.client.get_workflow_handle(workflow_id)
        run = (await handle.describe()).run_id
        won = dumps([hubspot_stage(number, "closedwon", 2)])
        answer = await api.http.post("/webhooks/hubspot", content=won, headers=hubspot_v3_headers(won))
        assert answer.json()[0]["outcome"] == "advanced"
        assert (await handle.describe()).run_id == run

        async def won_phase():
            state = await api.http.get(f"/v1/handoffs/hubspot/{number}", headers={"Authorization": "Bearer key-op-1"})
            assert state.json()["facts"]["won_at"] and state.json()["phase"] != "pre_close"

        await assert_eventually(won_phase)


async def test_a_hubspot_win_reaching_a_pre_close_run_carries_the_mapped_document_properties(rig_factory, tmp_path):
    """A HubSpot workflow webhook with the team's document properties, for a deal whose handoff started
    before the close: the fields reach the running handoff (they were dropped), unsubmitted."""
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "stages:\n  pre_close:\n    hubspot: [contractsent]\n"
        "crm_fields:\n  hubspot:\n    document: {goals: handoff_goals}\n"
    )
    goals = "Cut onboarding time from 30 to 10 days by the end of Q3."
    async with rig_factory() as rig, running_api(rig, policy_file=str(policy)) as api:
        number = deal_number()
        api.track(f"baton-hubspot-{number}")

        async def post(stage: str, **extra: dict) -> str:
            stamp = int(time.time() * 1000)
            body = dumps(
                {
                    "objectId": number,
                    "properties": {
                        "dealstage": {"value": stage, "timestamp": stamp},
                        "dealname": {"value": "Grünwald Logistik"},
                        "amount": {"value": "150000"},
                        **extra,
                    },
                }
            )
            answer = await api.http.post("/webhooks/hubspot", content=body, headers=hubspot_v2_headers(body))
            assert answer.status_code == 202, answer.text
            return answer.json()[0]["outcome"]

        assert await post("contractsent") == "started"
        handle = rig.client.get_workflow_handle(f"baton-hubspot-{number}")

        async def pre_close():
            assert (await handle.query(DealHandoffWorkflow.state)).phase.value == "pre_close"

        await assert_eventually(pre_close)
        assert await post("closedwon", handoff_goals={"value": goals}) == "advanced"

        async def won_with_goals():
            state = await handle.query(DealHandoffWorkflow.state)
            assert state.facts.won_at is not None and state.document.goals == goals
            return state

        state = await assert_eventually(won_with_goals)
        assert state.facts.submitted_at is None
