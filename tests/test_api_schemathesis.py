"""Property-based API tests from the OpenAPI schema (schemathesis): no generated input gets a 5xx,
and answers match the schema the API publishes.

Schemathesis' own ASGI transport runs the app in a Starlette TestClient on a thread with its own
event loop and without our lifespan, which would split the app from the Temporal client and worker
living on the test's loop. So schemathesis only generates the cases and checks the answers here;
hypothesis runs in a worker thread and every request is sent on the test's loop through the
in-process httpx ASGI client, exactly as the other API tests send theirs.
"""

from __future__ import annotations

import asyncio
import hashlib

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
)  # fmt: skip

from tests.api_rig import api_keys_setting, running_api
from tests.test_api_handoffs import started_handoff

pytestmark = pytest.mark.temporal

# One key holding every role, so generation reaches each endpoint's handler rather than stopping at 403.
EVERY_ROLE_KEY = "key-schemathesis-all-roles"
EVERY_ROLE = f"{hashlib.sha256(EVERY_ROLE_KEY.encode()).hexdigest()}:crm+ae+cs_lead+operator"
HEADERS = {"Authorization": f"Bearer {EVERY_ROLE_KEY}"}
EXAMPLES = {GenerationMode.POSITIVE: 10, GenerationMode.NEGATIVE: 5}
# Status codes are not checked against the documented ones: webhooks answer 400/401/503 by each CRM's
# conventions, and FastAPI's 422 is implied for every operation with parameters.
LISTING = "GET /v1/handoffs"
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance, response_headers_conformance]


# Only the generation-time check is off: generating from this schema's larger bodies can pass
# hypothesis' one-second budget on a loaded two-core CI machine, which says nothing about the API. Every
# other health check stays on, so a strategy that cannot make valid cases fails loudly.
NEEDED_SUPPRESSIONS = [HealthCheck.too_slow]


def _has_input(operation) -> bool:
    """Whether the operation takes anything a negative case could break (parameters or a body)."""
    return bool(list(operation.iter_parameters())) or bool(operation.body)


def _run_operation(operation, mode: GenerationMode, send, path: dict[str, str] | None = None) -> list[str]:
    """Generate cases for one operation in this (non-event-loop) thread; return the failures seen.
    `path` pins path parameters, so the generated bodies reach a live handoff's update handlers.
    An operation that yields no case is a failure: it would otherwise pass having tested nothing."""
    failures: list[str] = []
    sent = 0

    @settings(
        max_examples=EXAMPLES[mode],
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=NEEDED_SUPPRESSIONS,
    )
    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path))
    def check(case) -> None:
        nonlocal sent
        sent += 1
        kwargs = case.as_transport_kwargs(base_url="http://test", headers=HEADERS)
        response = send(kwargs)
        try:
            if operation.label == LISTING:
                # The time-skipping server has no visibility API (UNIMPLEMENTED, which the API answers
                # as 501, what a Temporal server without it means); the listing's behaviour on a real
                # server is in test_e2e_dev_server.py.
                assert response.status_code < 500 or response.status_code == 501, response.status_code
                case.validate_response(response, checks=[c for c in CHECKS if c is not not_a_server_error])
            else:
                case.validate_response(response, checks=CHECKS)
        except (AssertionError, BaseExceptionGroup) as err:  # collected and reported together below
            failures.append(
                f"{operation.label} [{mode.value}{' on a live handoff' if path else ''}] {case.method} {response.request.url} "
                f"-> {response.status_code} {response.text[:300]}\n{str(err)[:800]}"
            )

    where = f"{operation.label} [{mode.value}{' on a live handoff' if path else ''}]"
    try:
        check()
    except Unsatisfiable:
        # Only a negative case for an operation without parameters or body (/healthz) cannot exist.
        if mode is GenerationMode.POSITIVE or _has_input(operation):
            failures.append(f"{where}: hypothesis could not generate a single case")
        return failures
    if sent == 0:
        failures.append(f"{where}: no case was generated")
    return failures


def _httpx_kwargs(kwargs: dict) -> dict:
    """Schemathesis serialises a case for `requests`; httpx names a few of those arguments differently."""
    kwargs = dict(kwargs)
    for dropped in ("timeout", "verify", "allow_redirects", "cert", "proxies", "stream"):
        kwargs.pop(dropped, None)
    if not kwargs.get("cookies"):
        kwargs.pop("cookies", None)
    if "data" in kwargs and isinstance(kwargs["data"], (bytes, str)):
        kwargs["content"] = kwargs.pop("data")
    return kwargs


async def test_no_generated_input_gets_a_5xx_and_answers_match_the_schema(rig_factory):
    keys = f"{api_keys_setting()},{EVERY_ROLE}"
    async with rig_factory() as rig, running_api(rig, api_keys=keys, update_timeout_seconds=5) as api:
        # A live handoff for a second pass: free generation rarely forms a valid crm and deal id, so
        # without it the update handlers would only ever see 404s and 422s from the path.
        url = await started_handoff(api)
        crm, deal_id = url.split("/")[-2:]
        document = (await api.http.get("/openapi.json")).json()
        schema = schemathesis.openapi.from_dict(document)
        loop = asyncio.get_running_loop()

        def send(kwargs: dict) -> httpx.Response:
            request = api.http.request(**_httpx_kwargs(kwargs))
            return asyncio.run_coroutine_threadsafe(request, loop).result(timeout=60)

        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 18, [op.label for op in operations]
        failures: list[str] = []
        for operation in operations:
            for mode in EXAMPLES:
                failures += await asyncio.to_thread(_run_operation, operation, mode, send)
            if "{deal_id}" in operation.path:
                live = {"crm": crm, "deal_id": deal_id}
                failures += await asyncio.to_thread(_run_operation, operation, GenerationMode.POSITIVE, send, live)
        assert not failures, "\n\n".join(failures)
