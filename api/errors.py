"""One place that turns failures into HTTP answers, so no route hides one behind a 200."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar, cast

from fastapi import FastAPI, Request
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


def is_unreachable(err: BaseException) -> bool:
    """A lazily connected client reports a refused connection as RuntimeError, not RPCError."""
    return isinstance(err, TemporalUnavailable) or (
        isinstance(err, RuntimeError) and str(err).startswith("Failed client connect")
    )


def unavailable(detail: str = "Temporal is unreachable; retry later") -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=503, headers=RETRY_AFTER)


async def _update_failed(_: Request, err: WorkflowUpdateFailedError) -> JSONResponse:
    cause = err.cause
    if isinstance(cause, ApplicationError) and cause.type in UPDATE_STATUS:
        return JSONResponse({"detail": cause.message, "type": cause.type}, status_code=UPDATE_STATUS[cause.type])
    # Not a refusal the workflow chose: a bug in a handler, which the caller cannot fix.
    return JSONResponse({"detail": "the handoff could not apply the message"}, status_code=500)


async def _rpc_error(_: Request, err: RPCError) -> JSONResponse:
    if err.status == RPCStatusCode.NOT_FOUND:
        return JSONResponse({"detail": "no such handoff"}, status_code=404)
    return unavailable()


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
