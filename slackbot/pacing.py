"""Keep the bot under Slack's posting rate: about one message per second per channel.

``chat.postMessage`` is limited to roughly 1/s per channel; bursts beyond that earn HTTP 429.
Every post and edit the bot makes in a channel first waits for its slot here, so progress
updates from concurrent steps never burst. (A 429 that happens anyway is retried by slack_sdk's
``RateLimitErrorRetryHandler`` after ``Retry-After``.)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class ChannelPacer:
    """Hands out per-channel time slots at least ``interval`` seconds apart; thread-safe."""

    def __init__(
        self,
        interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = interval
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next: dict[str, float] = {}

    def reserve(self, channel: str) -> float:
        """Book the next slot in ``channel``; returns how long the caller must wait for it."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._next.get(channel, now))
            self._next[channel] = slot + self.interval
            return slot - now

    def wait(self, channel: str) -> None:
        """Block until this caller's slot in ``channel`` comes up."""
        delay = self.reserve(channel)
        if delay > 0:
            self._sleep(delay)
