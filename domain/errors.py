"""Why a message was refused; the API maps each type to an HTTP status."""

from enum import StrEnum


class ErrorType(StrEnum):
    INVALID_TRANSITION = "InvalidTransition"  # 409: not allowed in the current phase
    INVALID_VALUE = "InvalidValue"  # 422: the values themselves are wrong
    CLOSED = "HandoffClosed"  # 409: the handoff has ended
