"""A real handoff on a time-skipping server with the codec: what Temporal stores is ciphertext.

The shared `env` fixture uses the plain converter (no keys in the test environment), so these tests
start their own server with the encrypting converter, one per test as conftest does.
"""

from __future__ import annotations

import base64
import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest
import pytest_asyncio
from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload
from temporalio.client import Client, WorkflowHandle, WorkflowHistory
from temporalio.common import RawValue
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from domain.ids import handoff_workflow_id
from domain.policy import Policy
from domain.state import HandoffState
from infra import temporal_binaries
from infra.payload_codec import (
    ENCODING,
    KEY_ID,
    EncryptionCodec,
    PayloadAuthenticationError,
    UnknownKeyError,
)
from infra.search_attribute_setup import register_search_attributes
from infra.temporal_client import data_converter
from tests.conftest import assert_eventually
from tests.handoffs import READY_DOCUMENT, deal
from tests.workers import handoff_worker, new_database
from workflows.handoff import DealHandoffWorkflow, HandoffInput
from workflows.message_names import HandoffQuery

pytestmark = pytest.mark.temporal

OLD_KEY, NEW_KEY, WRONG_KEY = os.urandom(32), os.urandom(32), os.urandom(32)
CONTACTS = [
    contact.model_copy(update={"email": f"{contact.name.lower().replace(' ', '.')}@northwind.example"})
    for contact in READY_DOCUMENT.stakeholders
]
DOCUMENT = READY_DOCUMENT.model_copy(update={"stakeholders": CONTACTS})
# What must never reach Temporal in clear: every contact's name, email and notes, and the free text.
SECRETS = [
    *(value for contact in CONTACTS for value in (contact.name, contact.email, contact.notes)),
    DOCUMENT.goals, DOCUMENT.risks, DOCUMENT.contract_terms,
]  # fmt: skip


@dataclass
class Encrypted:
    env: WorkflowEnvironment
    handle: WorkflowHandle


@pytest_asyncio.fixture
async def encrypted_handoff(tmp_path) -> AsyncIterator[Encrypted]:
    """A handoff started (with a summary, as the API starts one) and run until a CSM is assigned,
    with every payload encrypted under key `k1`."""
    converter = data_converter(EncryptionCodec({"k1": OLD_KEY}))
    assert isinstance(converter.payload_codec, EncryptionCodec)
    server = temporal_binaries.test_server_path()
    env = await WorkflowEnvironment.start_time_skipping(test_server_existing_path=server, data_converter=converter)
    try:
        await register_search_attributes(env.client)
        async with handoff_worker(env.client, new_database(tmp_path)) as worker:
            the_deal = deal(closed_at=await env.get_current_time(), account="Northwind Logistics")
            handle = await env.client.start_workflow(
                DealHandoffWorkflow.run,
                HandoffInput(deal=the_deal, policy=Policy(), document=DOCUMENT),
                id=handoff_workflow_id(the_deal.crm, the_deal.deal_id),
                task_queue=worker.task_queue,
                static_summary=f"Handoff for {CONTACTS[0].name}",
            )

            # Queries only: no message lands on the instant a timer fires.
            async def has_csm():
                state = await handle.query(DealHandoffWorkflow.state)
                assert state.owners.csm
                return state

            state = await assert_eventually(has_csm)
            # With the codec the whole document decodes back, contacts included.
            assert [c.email for c in state.document.stakeholders] == [c.email for c in CONTACTS]
            yield Encrypted(env, handle)
            await handle.terminate("test over")
    finally:
        await env.shutdown()


def _b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


async def _raw_history(encrypted: Encrypted) -> WorkflowHistory:
    """The history as the server stores it, read by a client that holds no keys."""
    plain = Client(
        encrypted.env.client.service_client,
        namespace=encrypted.env.client.namespace,
        data_converter=pydantic_data_converter,
    )
    return await plain.get_workflow_handle(encrypted.handle.id).fetch_history()


def _payloads(message: Message) -> Iterator[Payload]:
    """Every Payload anywhere in a proto (inputs, results, memos, headers, summaries, failures)."""
    if isinstance(message, Payload):
        yield message
        return
    for field, value in message.ListFields():
        if field.type != field.TYPE_MESSAGE:
            continue
        if field.message_type.GetOptions().map_entry:
            values = value.values()
            if field.message_type.fields_by_name["value"].type != field.TYPE_MESSAGE:
                continue
        elif field.is_repeated:
            values = value
        else:
            values = [value]
        for item in values:
            yield from _payloads(item)


async def test_history_holds_no_contact_data_in_clear(encrypted_handoff):
    history = await _raw_history(encrypted_handoff)
    raw = b"".join(event.SerializeToString() for event in history.events)
    assert raw
    for secret in SECRETS:
        assert secret.encode() not in raw, f"{secret!r} is in the stored history in clear"

    payloads = [p for event in history.events for p in _payloads(event)]
    encrypted = [p for p in payloads if p.metadata.get("encoding") == ENCODING]
    assert encrypted and all(p.metadata[KEY_ID] == b"k1" for p in encrypted)
    # The start input (the document) is among the encrypted payloads.
    started = history.events[0].workflow_execution_started_event_attributes
    assert all(p.metadata.get("encoding") == ENCODING for p in started.input.payloads)
    # The workflow's summary goes through the converter, so the codec encrypted it too.
    summary = history.events[0].user_metadata.summary
    assert summary.metadata.get("encoding") == ENCODING
    # A client without the keys cannot read the state either: it gets ciphertext it cannot parse.
    plain = Client(
        encrypted_handoff.env.client.service_client,
        namespace=encrypted_handoff.env.client.namespace,
        data_converter=pydantic_data_converter,
    )
    with pytest.raises(KeyError, match="Unknown payload encoding binary/encrypted"):
        await plain.get_workflow_handle(encrypted_handoff.handle.id).query(DealHandoffWorkflow.state)


async def test_history_from_an_old_key_decodes_after_rotation_and_fails_without_it(encrypted_handoff):
    history = await _raw_history(encrypted_handoff)
    payloads = [p for event in history.events for p in _payloads(event)]
    encrypted = [p for p in payloads if p.metadata.get("encoding") == ENCODING]

    rotated = EncryptionCodec({"k2": NEW_KEY, "k1": OLD_KEY}, active_key_id="k2")
    decoded = await rotated.decode(payloads)
    clear = b"".join(p.SerializeToString() for p in decoded)
    assert all(secret.encode() in clear for secret in SECRETS)
    assert not any(p.metadata.get("encoding") == ENCODING for p in decoded)
    # New writes after the rotation use the new key.
    [fresh] = await rotated.encode([decoded[0]])
    assert fresh.metadata[KEY_ID] == b"k2"

    with pytest.raises(PayloadAuthenticationError, match="'k1'"):
        await EncryptionCodec({"k1": WRONG_KEY}).decode(encrypted)
    with pytest.raises(UnknownKeyError, match="'k1'"):
        await EncryptionCodec({"k2": NEW_KEY}).decode(encrypted)


async def test_the_state_read_gets_the_decrypted_json_of_the_state(encrypted_handoff):
    # The API answers a state read with the query's payload as it comes back from the client's codec
    # (api/routes/handoffs.py): with every payload encrypted, that is the state's JSON in clear.
    handle = encrypted_handoff.handle
    raw = await handle.query(HandoffQuery.STATE, result_type=RawValue)
    assert raw.payload.metadata["encoding"] == b"json/plain"
    state = await handle.query(DealHandoffWorkflow.state)
    assert HandoffState.model_validate_json(raw.payload.data) == state
    assert CONTACTS[0].email.encode() in raw.payload.data


async def test_local_activity_results_are_encrypted(encrypted_handoff):
    # The deal fetch, the CSM choice and each notice's recipients run as local activities: their
    # results live in markers, and the fetched deal (account, people) and the people a notice reaches
    # must be as unreadable there as in an activity's result.
    history = await _raw_history(encrypted_handoff)
    markers = [
        event.marker_recorded_event_attributes
        for event in history.events
        if event.marker_recorded_event_attributes.marker_name == "core_local_activity"
    ]
    # The fetch, the choice, and a resolve for each of the start's notices.
    assert len(markers) >= 3
    results = [p for marker in markers for p in marker.details["result"].payloads]
    assert results and all(p.metadata.get("encoding") == ENCODING for p in results)
    assert not any(
        b"Northwind Logistics" in p.SerializeToString() for marker in markers for p in marker.details["result"].payloads
    )
