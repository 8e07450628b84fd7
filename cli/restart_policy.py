"""When `baton run` restarts a child that exited on its own, and when it gives up.

Pure: times are plain seconds from a monotonic clock, passed in, so every rule is tested without a
process or a wait (tests/test_restart_policy.py).

- The wait before a restart starts at 1 s and doubles with each crash in a row, up to 30 s: a child
  that dies at once is not restarted in a tight loop, one that crashed once comes back quickly.
- A child that ran for a crash window (60 s) before it exited starts a new streak at 1 s.
- The fifth crash of one child within any 60 s gives up: something is wrong that restarting will not
  mend (a port taken, a bad setting), and the operator should see the message rather than a loop.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RestartPolicy:
    first_wait: float = 1.0
    longest_wait: float = 30.0
    crash_limit: int = 5
    crash_window: float = 60.0


@dataclass(frozen=True)
class Restart:
    wait: float


@dataclass(frozen=True)
class GiveUp:
    crashes: int
    window: float


@dataclass
class CrashRecord:
    """One child's crashes: feed it each exit, it answers with the wait before the restart or GiveUp."""

    policy: RestartPolicy = field(default_factory=RestartPolicy)
    streak: int = 0
    recent: deque[float] = field(default_factory=deque)

    def exited(self, started_at: float, exited_at: float) -> Restart | GiveUp:
        if exited_at - started_at >= self.policy.crash_window:
            self.streak = 0
        self.streak += 1
        self.recent.append(exited_at)
        while self.recent and self.recent[0] <= exited_at - self.policy.crash_window:
            self.recent.popleft()
        if len(self.recent) >= self.policy.crash_limit:
            return GiveUp(crashes=len(self.recent), window=self.policy.crash_window)
        wait = self.policy.first_wait * 2 ** (self.streak - 1)
        return Restart(wait=min(wait, self.policy.longest_wait))
