"""A message to people about a handoff, sent by the notify activity through the configured sinks."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class Notification(BaseModel):
    """`key` is unique per intended message, so a retried send can be recognised downstream."""

    key: str
    workflow_id: str
    event: str
    to: list[str] = Field(default_factory=list, description="people (ids or emails) or role names")
    subject: str
    text: str
    details: dict[str, Any] = Field(default_factory=dict)


class Delivery(BaseModel):
    key: str
    sinks: list[str]
