"""Polling with exponential backoff for resources that take minutes (clusters, node groups).

boto3's EKS waiters poll at a fixed 30 s with no progress callback; we need progress events
and a tunable interval, so this polls the same Describe calls with backoff instead.

A poll that fails for a passing reason (throttling, a 5xx, the network) is one poll without an
answer, not the end of the wait: botocore's retries give up early once its client-wide retry
quota is drained, which takes only a short burst of errors shared by every step of a run.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from assistant.actions.base import ActionContext

# Error codes AWS uses for throttling and for transient trouble on its side (as botocore's
# standard retry mode counts them), and the HTTP statuses of a server-side failure.
_THROTTLED = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)
_SERVER_ERRORS = frozenset({500, 502, 503, 504})


def transient(exc: BaseException) -> str | None:
    """Why ``exc`` is worth polling again after (an error code or the exception's name), or None."""
    import botocore.exceptions

    if isinstance(exc, botocore.exceptions.ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in _THROTTLED or status in _SERVER_ERRORS:
            return code or f"HTTP {status}"
        return None
    if isinstance(exc, botocore.exceptions.ConnectionError | botocore.exceptions.HTTPClientError):
        return type(exc).__name__
    return None


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
    last = "status not known yet"
    while True:
        try:
            done, status = check()
            last = status
        except Exception as exc:
            reason = transient(exc)
            if reason is None:
                raise
            done, status = False, f"{last}, no answer this time ({reason})"
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
