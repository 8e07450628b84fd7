"""Why a message was refused; the API maps each type to an HTTP status."""

from enum import StrEnum


class ErrorType(StrEnum):
    INVALID_TRANSITION = "InvalidTransition"  # 409: not allowed where the handoff stands
    INVALID_VALUE = "InvalidValue"  # 422: the values themselves are wrong
    CLOSED = "HandoffClosed"  # 409: the handoff has ended


class Refused(Exception):
    """A message the handoff will not take; nothing changed."""

    def __init__(self, type: ErrorType, message: str) -> None:
        super().__init__(message)
        self.type = type
        self.message = message
