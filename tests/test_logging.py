"""JSON logs: one object a line, the handoff's ids on the lines about it, and never a secret or a contact."""

from __future__ import annotations

import io
import json
import logging

import pytest

from infra.baton_settings import BatonSettings
from infra.log_format import configure_logging, configure_logging_from_settings
from tests.api_rig import HUBSPOT_SECRET, KEYS, auth, deal_number, dumps, hubspot_stage, hubspot_v3_headers, running_api
from tests.conftest import assert_eventually
from tests.handoffs import READY_DOCUMENT

pytestmark = pytest.mark.temporal


@pytest.fixture
def captured():
    stream = io.StringIO()
    root = logging.getLogger()
    level = root.level
    handler = configure_logging(json=True, level="INFO", stream=stream)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


async def test_a_webhook_to_handoff_run_logs_ids_but_no_secret_or_contact(rig_factory, captured):
    async with rig_factory() as rig, running_api(rig) as api:
        number = deal_number()
        workflow_id = f"baton-hubspot-{number}"
        api.track(workflow_id)
        body = dumps([hubspot_stage(number, "closedwon")])
        refused = await api.http.post("/webhooks/hubspot", content=body, headers=hubspot_v3_headers(body + b"x"))
        assert refused.status_code == 401
        answer = await api.http.post("/webhooks/hubspot", content=body, headers=hubspot_v3_headers(body))
        assert answer.status_code == 202, answer.text
        document = READY_DOCUMENT.model_dump(mode="json")
        patch = {"fields": document, "submit": True}

        async def accepted():
            sent = await api.http.patch(f"/v1/handoffs/hubspot/{number}/document", json=patch, headers=auth("ae"))
            assert sent.status_code == 200, sent.text

        await assert_eventually(accepted, timeout=20)
        await assert_eventually(lambda: _assert_notified(rig, workflow_id), timeout=20)
        state = await api.http.get(f"/v1/handoffs/hubspot/{number}", headers=auth("operator"))
        assert state.status_code == 200

    lines = [json.loads(line) for line in captured.getvalue().splitlines() if line.strip()]
    assert lines, "nothing was logged"
    text = captured.getvalue()
    forbidden = [HUBSPOT_SECRET, *KEYS.values()] + [c.name for c in READY_DOCUMENT.stakeholders]
    for secret in forbidden:
        assert secret not in text, f"{secret!r} reached the log"
    about = [line for line in lines if line.get("workflow_id") == workflow_id]
    assert about, "no line names the handoff"
    assert all(line.get("crm") == "hubspot" and line.get("deal_id") == str(number) for line in about)


def _assert_notified(rig, workflow_id: str) -> None:
    assert any(n.workflow_id == workflow_id for n in rig.sink.sent)


def test_text_is_the_default_and_nothing_is_configured_without_the_variable(monkeypatch):
    monkeypatch.delenv("BATON_LOG_FORMAT", raising=False)
    assert configure_logging_from_settings(BatonSettings()) is None
    monkeypatch.setenv("BATON_LOG_FORMAT", "Text")
    handler = configure_logging_from_settings(BatonSettings())
    try:
        assert handler is not None and not isinstance(handler.formatter, type(None))
        record = logging.LogRecord("baton.x", logging.INFO, __file__, 1, "hello %s", ("there",), None)
        record.workflow_id = "baton-hubspot-1"
        assert handler.format(record).endswith("hello there [workflow_id=baton-hubspot-1]")
    finally:
        logging.getLogger().removeHandler(handler)
