"""One place that turns failures into HTTP answers, so no route hides one behind a 200."""

from __future__ import annotations

import traceback
from collections.abc import Awaitable, Callable
from typing import TypeVar, cast

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from starlette.types import HTTPExceptionHandler
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.crm import PayloadError, SignatureError
from domain.errors import ErrorType

UPDATE_STATUS = {
    ErrorType.INVALID_TRANSITION.value: 409,
    ErrorType.CLOSED.value: 409,
    ErrorType.INVALID_VALUE.value: 422,
}
# A CRM retries on 503; Retry-After keeps the retries from arriving as one burst.
RETRY_AFTER = {"Retry-After": "30"}


class TemporalUnavailable(Exception):
    """Temporal (or every worker) did not answer in time: the caller should retry."""


# What each Temporal RPC status means for the caller. A status missing here is Temporal's own failure.
_RPC_ANSWERS: dict[RPCStatusCode, tuple[int, str]] = {
    RPCStatusCode.NOT_FOUND: (404, "no such handoff"),
    # A request Temporal refuses as malformed (a forged page token, a query it cannot run) will be
    # refused again: the caller must change it.
    RPCStatusCode.INVALID_ARGUMENT: (400, "Temporal refused the request as invalid"),
    RPCStatusCode.OUT_OF_RANGE: (400, "Temporal refused the request as out of range"),
    RPCStatusCode.ALREADY_EXISTS: (409, "it already exists"),
    RPCStatusCode.FAILED_PRECONDITION: (409, "not possible where the handoff stands"),
    RPCStatusCode.RESOURCE_EXHAUSTED: (429, "Temporal is rate limiting; retry later"),
    RPCStatusCode.UNAVAILABLE: (503, "Temporal is unreachable; retry later"),
    RPCStatusCode.DEADLINE_EXCEEDED: (503, "Temporal did not answer in time; retry later"),
    RPCStatusCode.CANCELLED: (503, "the call to Temporal was cancelled; retry later"),
    RPCStatusCode.ABORTED: (503, "the call to Temporal was aborted; retry later"),
    # A Temporal server without the feature (the time-skipping test server has no visibility API).
    RPCStatusCode.UNIMPLEMENTED: (501, "this Temporal server does not support the request"),
    # Baton's own credentials or Temporal's server: nothing the caller can fix or retry away soon.
    RPCStatusCode.UNAUTHENTICATED: (502, "Temporal refused Baton's credentials"),
    RPCStatusCode.PERMISSION_DENIED: (502, "Temporal refused Baton's credentials"),
}
_RETRYABLE = {429, 503}


def _from_temporal_bridge(err: BaseException) -> bool:
    """The SDK's native layer raises a plain RuntimeError (no type of its own) when a lazily connected
    client cannot connect; the frame that raised it says it came from there."""
    frames = traceback.extract_tb(err.__traceback__)
    return bool(frames) and "temporalio" in frames[-1].filename.replace("\\", "/").split("/")


def is_unreachable(err: BaseException) -> bool:
    """Classified by type and origin, never by message text."""
    if isinstance(err, TemporalUnavailable):
        return True
    if isinstance(err, RPCError):
        return _RPC_ANSWERS.get(err.status, (0, ""))[0] == 503
    return type(err) is RuntimeError and _from_temporal_bridge(err)


def unavailable(detail: str = "Temporal is unreachable; retry later") -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=503, headers=RETRY_AFTER)


async def _update_failed(_: Request, err: WorkflowUpdateFailedError) -> JSONResponse:
    cause = err.cause
    if isinstance(cause, ApplicationError) and cause.type in UPDATE_STATUS:
        return JSONResponse({"detail": cause.message, "type": cause.type}, status_code=UPDATE_STATUS[cause.type])
    # Not a refusal the workflow chose: a bug in a handler, which the caller cannot fix.
    return JSONResponse({"detail": "the handoff could not apply the message"}, status_code=500)


async def _rpc_error(_: Request, err: RPCError) -> JSONResponse:
    status, detail = _RPC_ANSWERS.get(err.status, (502, "Temporal failed the request"))
    return JSONResponse({"detail": detail}, status_code=status, headers=RETRY_AFTER if status in _RETRYABLE else None)


async def _runtime_error(request: Request, err: RuntimeError) -> JSONResponse:
    if is_unreachable(err):
        return unavailable()
    raise err


async def _temporal_unavailable(_: Request, err: TemporalUnavailable) -> JSONResponse:
    return unavailable(str(err) or "Temporal did not answer in time; retry later")


async def _payload_error(_: Request, err: PayloadError) -> JSONResponse:
    return JSONResponse({"detail": err.message, "field": err.field}, status_code=400)


async def _signature_error(_: Request, err: SignatureError) -> JSONResponse:
    return JSONResponse({"detail": err.reason}, status_code=401)


async def _validation_error(_: Request, err: ValidationError) -> JSONResponse:
    # The input is left out: it may hold a customer's data or a credential.
    errors = err.errors(include_url=False, include_context=False, include_input=False)
    return JSONResponse({"detail": errors}, status_code=422)


async def _request_validation_error(_: Request, err: RequestValidationError) -> JSONResponse:
    """FastAPI's own handler echoes each bad input back: a NaN there cannot be written as JSON (a 500),
    and the input may be a contact's data. The field and the reason are enough."""
    errors = [{"type": e.get("type"), "loc": list(e.get("loc", ())), "msg": e.get("msg")} for e in err.errors()]
    return JSONResponse({"detail": errors}, status_code=422)


E = TypeVar("E", bound=Exception)


def _handle(app: FastAPI, error: type[E], handler: Callable[[Request, E], Awaitable[Response]]) -> None:
    """Register `handler` for `error`. Starlette types every handler as taking any Exception, but only
    ever calls one with an instance of the class it was registered for, which this signature checks."""
    app.add_exception_handler(error, cast(HTTPExceptionHandler, handler))


def install(app: FastAPI) -> None:
    _handle(app, WorkflowUpdateFailedError, _update_failed)
    _handle(app, RPCError, _rpc_error)
    _handle(app, RuntimeError, _runtime_error)
    _handle(app, TemporalUnavailable, _temporal_unavailable)
    _handle(app, PayloadError, _payload_error)
    _handle(app, SignatureError, _signature_error)
    _handle(app, ValidationError, _validation_error)
    _handle(app, RequestValidationError, _request_validation_error)
