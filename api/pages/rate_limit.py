"""Sign-in attempts, limited per client address and per e-mail address (a sliding window in memory).

Per process: each API replica counts its own attempts, which still bounds a guesser by the replica
count. E-mail addresses are kept as digests only.
"""

from __future__ import annotations

import hashlib
import threading
from collections import defaultdict, deque
from datetime import datetime, timedelta


class RateLimiter:
    def __init__(self, limit: int, window: timedelta, max_keys: int = 100_000) -> None:
        self.limit, self.window, self.max_keys = limit, window, max_keys
        self._hits: dict[str, deque[datetime]] = defaultdict(deque)
        self._lock = threading.Lock()

    def retry_after(self, key: str, now: datetime) -> int:
        """0 and the attempt is counted, or the seconds to wait (the attempt is not counted)."""
        key = hashlib.sha256(key.encode()).hexdigest()
        with self._lock:
            if len(self._hits) >= self.max_keys and key not in self._hits:
                self._forget_idle(now)
            hits = self._hits[key]
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return max(1, int((hits[0] + self.window - now).total_seconds()) + 1)
            hits.append(now)
            return 0

    def _forget_idle(self, now: datetime) -> None:
        for key in [k for k, hits in self._hits.items() if not hits or hits[-1] <= now - self.window]:
            del self._hits[key]


class SignInLimits:
    """Links asked for: 10 per client address and 5 per e-mail address in 15 minutes; links opened:
    30 per client address in 15 minutes."""

    def __init__(self) -> None:
        window = timedelta(minutes=15)
        self.by_client = RateLimiter(10, window)
        self.by_address = RateLimiter(5, window)
        self.exchanges = RateLimiter(30, window)
