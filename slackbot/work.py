"""The work behind an ack: a bounded pool, started only once the ack has gone out.

Slack gives an app 3 seconds to acknowledge. Bolt's lazy listeners ran the ack function and
the slow work (planning, AWS reads) on the same executor, so under load an ack queued behind
seconds of planning. Here the ack is computed on the request's own thread, and the work goes
to :class:`WorkPool`:

- **Bounded.** ``workers`` threads and at most ``queue_limit`` jobs waiting. A listener
  reserves a place *before* it acks; when there is none, the ack itself says the bot is busy
  and nothing was done, so nothing is silently dropped and threads never pile up.
- **After the ack.** A listener hands its job to :func:`after_ack`. The HTTP and Socket Mode
  adapters (:mod:`slackbot.serve`) run those jobs once the ack has been sent; dispatched any
  other way, a job runs when it is handed over.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

log = logging.getLogger(__name__)

# Key in the Bolt request context under which an adapter collects the jobs to run after the ack.
AFTER_ACK = "eks_assist_after_ack"

Job = Callable[[], None]

# The work behind acks is planning and AWS reads: CPU-bound Python that holds the GIL. More
# threads than this would not plan faster on a small host, only slow every ack down.
WORK_WORKERS = 4
# Jobs that may wait for a worker; one more is answered "busy". A burst of a hundred commands
# fits, and the last of them still starts within minutes (a response_url lasts 30).
WORK_QUEUE = 200


class Ticket:
    """A reserved place in the pool: :meth:`start` it once, or :meth:`release` it unused."""

    def __init__(self, pool: WorkPool) -> None:
        self._pool = pool
        self._used = False

    def start(self, fn: Callable[..., None], *args: Any) -> None:
        """Run ``fn(*args)`` on the pool (the place is freed when it ends)."""
        if self._used:
            raise RuntimeError("a ticket starts one job")
        self._used = True
        self._pool._submit(fn, args)

    def release(self) -> None:
        """Give the place back without running anything."""
        if not self._used:
            self._used = True
            self._pool._slots.release()


class WorkPool:
    """``workers`` threads and a queue of at most ``queue_limit`` jobs; :meth:`reserve` never blocks."""

    def __init__(self, workers: int, queue_limit: int, name: str = "eks-work") -> None:
        if workers < 1 or queue_limit < 0:
            raise ValueError(f"a work pool needs at least one worker and a queue limit of 0 or more, got {workers}/{queue_limit}")
        self.workers = workers
        self.queue_limit = queue_limit
        self.capacity = workers + queue_limit
        self._slots = threading.BoundedSemaphore(self.capacity)
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
        self._closed = False

    def reserve(self) -> Ticket | None:
        """A place for one job, or None when ``workers`` jobs run and ``queue_limit`` wait already."""
        if self._closed or not self._slots.acquire(blocking=False):
            return None
        return Ticket(self)

    def _submit(self, fn: Callable[..., None], args: tuple[Any, ...]) -> None:
        try:
            self._executor.submit(self._run, fn, args)
        except RuntimeError:  # shut down between reserve and start
            self._slots.release()
            log.warning("the bot is stopping; %s was not started", getattr(fn, "__name__", fn))

    def _run(self, fn: Callable[..., None], args: tuple[Any, ...]) -> None:
        try:
            fn(*args)
        except Exception:  # a worker has nobody to raise to; the job tells its user itself
            log.exception("%s failed", getattr(fn, "__name__", fn))
        finally:
            self._slots.release()

    def close(self) -> None:
        """Take no more work; let what was accepted (running and queued) finish."""
        self._closed = True
        self._executor.shutdown(wait=True)


def after_ack(context: MutableMapping[str, Any], job: Job) -> None:
    """Run ``job`` once the ack has been sent (at once if this dispatch does not defer)."""
    jobs = context.get(AFTER_ACK)
    if jobs is None:
        job()
    else:
        jobs.append(job)


def run_after_ack(jobs: list[Job]) -> None:
    """What the adapters call once the ack is out: start each job (they only hand work to the pool)."""
    for job in jobs:
        try:
            job()
        except Exception:
            log.exception("work after an ack failed to start")
