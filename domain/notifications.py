"""A message to people about a handoff, sent by the notify activity through the configured sinks."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from domain.recipients import Recipient


class Notification(BaseModel):
    """`key` is unique per intended message, so a retried send can be recognised downstream."""

    key: str
    workflow_id: str
    event: str
    to: list[str] = Field(
        default_factory=list, description="people (ids or addresses); role names only in runs from before the directory"
    )
    subject: str
    text: str
    details: dict[str, Any] = Field(default_factory=dict)
    recipients: list[Recipient] = Field(
        default_factory=list, description="the people in `to` with their addresses, Slack ids and time zones"
    )
    crm: str = Field(default="", description="with deal_id: the handoff the notice links to")
    deal_id: str = ""
    zone: str = Field(
        default="", description="IANA zone for due times of people without their own: the policy calendar's"
    )


class Delivery(BaseModel):
    key: str
    sinks: list[str]
