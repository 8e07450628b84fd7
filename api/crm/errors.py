"""The one error every CRM parser raises for a body it cannot use, so routes answer 400 uniformly."""

from __future__ import annotations


class PayloadError(ValueError):
    """A request body that is not what the CRM documents; `field` is a path such as "[2].objectId"."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
