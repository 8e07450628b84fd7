"""The notify activity: one notification through every configured sink, resumable across retries."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from temporalio import activity

from activities.notify_sinks import Sink
from domain.notifications import Delivery, Notification

log = logging.getLogger("baton.notify")


class NotifyActivities:
    """Owns the sinks, built once by the worker from its settings (worker.activity_clients).

    Delivery is at-least-once per sink, with retries skipping sinks already done: after each sink
    succeeds the activity heartbeats the names delivered so far, and a retry reads them back from
    `activity.info().heartbeat_details`. The SDK flushes the last heartbeat when an attempt fails, so a
    sink that answered 5xx does not repeat the ones before it. A worker crash between a send and its
    heartbeat reaching the server can still repeat that one message: Slack and SMTP have no idempotency,
    so they stay at-least-once (mail systems may fold the repeat by its stable `Message-ID`). The webhook
    sink sends `Idempotency-Key: <notification key>`, which lets its receiver make it exactly-once.
    """

    def __init__(self, sinks: Sequence[Sink]) -> None:
        names = [s.name for s in sinks]
        if len(set(names)) != len(names):
            # Progress is recorded by name, so two sinks sharing one would skip each other on retry.
            raise ValueError(f"sink names must be unique: {names}")
        self.sinks = list(sinks)

    @activity.defn(name="notify")
    async def notify(self, notification: Notification) -> Delivery:
        delivered = _delivered_before()
        for sink in self.sinks:
            if sink.name in delivered:
                continue
            await sink.send(notification)
            delivered.append(sink.name)
            # A copy: the worker encodes heartbeat details later, and the list keeps growing.
            activity.heartbeat(list(delivered))
        return Delivery(key=notification.key, sinks=delivered)

    async def aclose(self) -> None:
        for sink in self.sinks:
            await sink.aclose()


def _delivered_before() -> list[str]:
    details = activity.info().heartbeat_details
    if details and isinstance(details[0], list):
        return [str(name) for name in details[0]]
    return []
