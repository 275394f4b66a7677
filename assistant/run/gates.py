"""Per-service limits on the calls an apply has in flight: ``--parallelism`` as AWS throttles it.

AWS throttles each service's API on its own (EKS does not slow down because EC2 is busy), so
an apply limits each service separately: at most ``limit`` calls to one service at a time,
whichever steps make them. A step holds a place only for the length of one call (botocore's
retries for it included), never while it sleeps between polls, so any number of steps may
wait for their resources at once.

The AWS guard (:mod:`assistant.run.guard`) takes and gives back the places around every
botocore call of an approved apply; the Kubernetes guard does the same for API servers.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator


class ServiceGates:
    """One semaphore of ``limit`` places per service, made on first use, with a record of the peak."""

    def __init__(self, limit: int) -> None:
        self.limit = max(1, limit)
        self._lock = threading.Lock()
        self._gates: dict[str, threading.BoundedSemaphore] = {}
        self._in_flight: dict[str, int] = {}
        self.peak: dict[str, int] = {}
        # The places each thread holds now: a step that ends with a place still taken (a call
        # whose after-call event never came) gives it back, so no later call waits for ever.
        self._held: dict[int, list[str]] = {}

    def _gate(self, service: str) -> threading.BoundedSemaphore:
        with self._lock:
            gate = self._gates.get(service)
            if gate is None:
                gate = self._gates[service] = threading.BoundedSemaphore(self.limit)
            return gate

    def acquire(self, service: str) -> None:
        """Take a place for one call to ``service``, waiting for one to be free.

        A thread holds at most one place per service: calls on one thread never overlap, so a
        place it still holds is one whose release was missed, and the next call reuses it
        rather than wait for it (with ``limit=1``, for ever).
        """
        with self._lock:
            if service in self._held.get(threading.get_ident(), ()):
                return
        self._gate(service).acquire()
        with self._lock:
            count = self._in_flight[service] = self._in_flight.get(service, 0) + 1
            self.peak[service] = max(self.peak.get(service, 0), count)
            self._held.setdefault(threading.get_ident(), []).append(service)

    def release(self, service: str) -> None:
        """Give back a place this thread took for ``service``."""
        with self._lock:
            held = self._held.get(threading.get_ident(), [])
            if service not in held:
                return
            held.remove(service)
            self._in_flight[service] -= 1
        self._gate(service).release()

    def release_held(self) -> None:
        """Give back every place the calling thread still holds (at the end of a step)."""
        with self._lock:
            services = self._held.pop(threading.get_ident(), [])
            for service in services:
                self._in_flight[service] -= 1
        for service in services:
            self._gate(service).release()

    def in_flight(self, service: str) -> int:
        """The calls to ``service`` holding a place now."""
        with self._lock:
            return self._in_flight.get(service, 0)

    @contextlib.contextmanager
    def hold(self, service: str) -> Iterator[None]:
        """A place for one call to ``service`` for the length of the ``with`` block."""
        self.acquire(service)
        try:
            yield
        finally:
            self.release(service)
