"""Polling with exponential backoff for resources that take minutes (clusters, node groups).

boto3's EKS waiters poll at a fixed 30 s with no progress callback; we need progress events
and a tunable interval, so this polls the same Describe calls with backoff instead.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from .actions.base import ActionContext


class WaitFailed(Exception):
    """The resource reached a failed state, or the wait timed out or was cancelled."""


def poll_until(
    check: Callable[[], tuple[bool, str]],
    ctx: ActionContext,
    what: str,
    typical_seconds: float,
) -> float:
    """Call ``check`` until it returns ``(True, status)``; report progress; return elapsed seconds.

    ``check`` raises :class:`WaitFailed` for terminal failure states.
    """
    start = time.monotonic()
    delay = ctx.poll_min
    while True:
        done, status = check()
        elapsed = time.monotonic() - start
        if done:
            ctx.progress(f"{what}: {status}", 1.0)
            return elapsed
        if elapsed > ctx.wait_timeout:
            raise WaitFailed(f"{what}: still {status} after {elapsed:.0f}s (timeout {ctx.wait_timeout:.0f}s)")
        if ctx.cancelled():
            raise WaitFailed(f"{what}: cancelled while {status}")
        fraction = min(elapsed / typical_seconds, 0.99) if typical_seconds > 0 else None
        ctx.progress(f"{what}: {status} ({elapsed:.0f}s)", fraction)
        time.sleep(delay)
        delay = min(delay * 1.5, ctx.poll_max)
