"""A per-chat sliding-window rate limit, so one chat cannot flood Rasa.

Over the limit, the carer is told once per burst (not once per message) to slow down;
messages that are refused do not count, so the chat opens again a window after the burst.
"""

from __future__ import annotations

import enum
import time
from collections import deque
from collections.abc import Callable, Hashable


class Verdict(enum.Enum):
    ALLOW = "allow"
    NOTIFY = "notify"  # refused; tell the carer
    DROP = "drop"  # refused; the carer has already been told


class RateLimiter:
    """At most ``limit`` events per ``window`` seconds for each key."""

    def __init__(
        self, limit: int, window: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._hits: dict[Hashable, deque[float]] = {}
        self._notified: set[Hashable] = set()

    def hit(self, key: Hashable) -> Verdict:
        now = self._clock()
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) < self.limit:
            hits.append(now)
            self._notified.discard(key)
            self._prune(now)
            return Verdict.ALLOW
        if key in self._notified:
            return Verdict.DROP
        self._notified.add(key)
        return Verdict.NOTIFY

    def _prune(self, now: float) -> None:
        """Forget quiet chats now and then, so memory stays bounded by recent chats."""
        if len(self._hits) < 10_000:
            return
        for key in [k for k, v in self._hits.items() if not v or v[-1] <= now - self.window]:
            del self._hits[key]
            self._notified.discard(key)
