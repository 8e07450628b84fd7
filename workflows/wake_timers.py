"""Waiting for a condition or an instant, with timers that are never cancelled.

`workflow.wait_condition(..., timeout=...)` cancels its timer when the condition wins. A timer that
fired on the server while the workflow task cancelling it was in flight makes that cancel invalid:
the Java test server then refuses the whole task completion ("invalid history builder state for
action", sdk-java issues 2606 and 3088) and the run stalls, which is how `baton simulate` hung when a
message landed on a deadline. Leaving the timer to fire costs one idle wake-up; cancelling it can
cost the run. A run started before this change keeps waiting the old way (`workflow.patched`), so
its history replays command for command.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

from temporalio import workflow

# The patch id recorded in new histories; runs without it replay the cancelling wait.
TIMERS_NEVER_CANCELLED = "timers-never-cancelled"


class WakeTimers:
    """One durable timer per instant a run must wake at: started once, left to fire, shared by every
    wait for that instant (a run woken by a message waits again for the same instant on the same timer)."""

    def __init__(self) -> None:
        self._by_instant: dict[datetime, asyncio.Task[None]] = {}

    def at(self, instant: datetime, summary: str) -> asyncio.Task[None]:
        self._by_instant = {when: timer for when, timer in self._by_instant.items() if not timer.done()}
        timer = self._by_instant.get(instant)
        if timer is None:
            delay = max((instant - workflow.now()).total_seconds(), 0.0)
            timer = asyncio.create_task(workflow.sleep(delay, summary=summary))
            self._by_instant[instant] = timer
        return timer

    async def wait(self, condition: Callable[[], bool], until: datetime | None, summary: str) -> bool:
        """Until `condition` holds (True) or the instant comes (False); `until=None` waits on the condition alone."""
        if until is None:
            await workflow.wait_condition(condition)
            return True
        if until <= workflow.now():
            return condition()
        timer = self.at(until, summary)
        await workflow.wait_condition(lambda: condition() or timer.done())
        return condition()
