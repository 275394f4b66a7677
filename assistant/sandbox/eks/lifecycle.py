"""Delayed state changes (CREATING → ACTIVE, DELETING → gone, UPDATING → ACTIVE), settled lazily.

Nothing ticks in the background: every request first calls ``advance()``, which runs the
changes whose time has come, in the order they fell due.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from assistant.sandbox.latency import LatencyProfile


class ClusterObserver(Protocol):
    """Told when EKS resources settle, so the Kubernetes side can follow."""

    def cluster_active(self, cluster: Any) -> None:
        """A cluster became ACTIVE: give it an endpoint and a CA."""

    def cluster_version_changed(self, cluster: Any) -> None:
        """A cluster version update finished."""

    def cluster_deleted(self, cluster: Any) -> None:
        """A cluster is gone."""

    def nodegroup_active(self, cluster: Any, nodegroup: Any) -> None:
        """A node group became ACTIVE (after a create or an update)."""

    def nodegroup_deleted(self, cluster: Any, nodegroup: Any) -> None:
        """A node group is gone."""

    def addon_active(self, cluster: Any, addon: Any) -> None:
        """An add-on became ACTIVE (after a create or an update)."""


class Lifecycle:
    """A queue of state changes, each due at a time computed from the latency profile."""

    def __init__(self, profile: LatencyProfile, observer: ClusterObserver, clock: Callable[[], float] = time.monotonic) -> None:
        self.profile = profile
        self.observer = observer
        self._clock = clock
        self._queue: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._lock = threading.RLock()

    def after(self, kind: str, op: str, change: Callable[[], None]) -> float:
        """Run ``change`` once ``profile.duration(kind, op)`` has passed; returns the delay."""
        delay = self.profile.duration(kind, op)
        with self._lock:
            heapq.heappush(self._queue, (self._clock() + delay, next(self._seq), change))
        return delay

    def advance(self) -> int:
        """Apply every change that is due; returns how many ran."""
        ran = 0
        with self._lock:
            now = self._clock()
            while self._queue and self._queue[0][0] <= now:
                _due, _seq, change = heapq.heappop(self._queue)
                change()
                ran += 1
        return ran

    def pending(self) -> int:
        """Changes still waiting for their time."""
        with self._lock:
            return len(self._queue)
