"""Argument types and small helpers shared by actions."""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from assistant.planning.plan import Op, Unknown

from .. import tags as owntags

if TYPE_CHECKING:
    # base imports this module, so the class is imported where it is built, at call time.
    from .base import Planned

State = Literal["present", "absent"]
# Values that may come from another step's outputs and so be unknown at plan time.
Str = str | Unknown
StrList = list[str] | Unknown
T = TypeVar("T")
U = TypeVar("U")

# Calls one step makes at once for per-entry work (reads of 1,000 access entries). botocore's
# standard retry mode backs off when AWS throttles; AwsContext keeps 10 connections per client.
PER_ENTRY_WORKERS = 8


def owner(cluster: str, ctx: Any) -> owntags.Owner:
    """The owner identity of ``cluster`` in the context's region and account (see :mod:`assistant.tags`)."""
    return owntags.Owner.of(cluster, ctx.region, ctx.account)


# The spec field every eks-assist resource name derives from: a clash of ownership is fixed there.
NAME_FIELD = ("metadata", "name")


def refuse_other_owner(what: str, tags: dict[str, str] | None, mine: owntags.Owner) -> None:
    """Refuse to adopt ``what``: eks-assist tagged it for another cluster (raises a located SpecFieldError).

    Adopting it would tie two clusters to one resource, and destroying either would delete
    what the other still runs on.
    """
    from ..errors import SpecFieldError

    raise SpecFieldError(
        NAME_FIELD,
        f"{what} already exists and eks-assist created it for {owntags.recorded_owner(tags)}, not for {mine}; "
        "refusing to adopt it, since destroying either cluster would delete what the other still uses. "
        "Choose another metadata.name, or delete that resource if nothing uses it any more",
    )


def left_alone(tags: dict[str, str] | None, mine: owntags.Owner, scope: owntags.Scope = "regional") -> str:
    """The plan note for a resource teardown keeps because its tags do not prove it is ``mine``."""
    kind = owntags.owner_of(tags, mine, scope=scope)
    if kind is owntags.Ownership.LEGACY:
        return (
            f"left alone: an older eks-assist created it for a cluster named {mine.cluster} without recording the "
            "region, so it may be in use by the cluster of that name in another region; delete it yourself once "
            "no cluster uses it"
        )
    if kind is owntags.Ownership.OTHER:
        return f"left alone: it belongs to {owntags.recorded_owner(tags)}"
    return "left alone: it was not created by eks-assist"


def error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore ClientError, else ''."""
    resp = getattr(exc, "response", None)
    if isinstance(resp, dict):
        return str(resp.get("Error", {}).get("Code", ""))
    return ""


def or_none(call: Callable[[], T], *not_found: str) -> T | None:
    """``call()``, or None when AWS answers one of the ``not_found`` codes (default ResourceNotFoundException)."""
    try:
        return call()
    except Exception as exc:
        if error_code(exc) in (not_found or ("ResourceNotFoundException",)):
            return None
        raise


def sorted_list(values: Any) -> Any:
    """Sort a list of strings for stable comparisons; pass unknowns through."""
    if isinstance(values, list) and all(isinstance(v, str) for v in values):
        return sorted(values)
    return values


def user_tags(tags: dict[str, str] | None) -> dict[str, str]:
    """Tags minus the ones AWS adds by itself."""
    return {k: v for k, v in (tags or {}).items() if not k.startswith("aws:")}


def compare(
    resource: str,
    before: dict[str, Any],
    after: dict[str, Any],
    immutable: tuple[str, ...],
    what: str,
    outputs: dict[str, Any],
) -> Planned:
    """No-op, update, or replace (when an ``immutable`` field differs) for an existing resource."""
    from .base import Planned

    diff = [k for k in after if after[k] != before.get(k)]
    if not diff:
        return Planned(Op.NOOP, resource, outputs=outputs)
    replace = [k for k in diff if k in immutable]
    if replace:
        reason = f"{', '.join(replace)} cannot change on an existing {what}"
        return Planned(Op.REPLACE, resource, before=before, after=after, reason=reason, outputs=outputs)
    return Planned(Op.UPDATE, resource, before=before, after=after, reason=f"{', '.join(diff)} differ", outputs=outputs)


def parallel_map(fn: Callable[[T], U], items: Sequence[T], workers: int | None = None) -> list[U]:
    """``[fn(item) for item in items]`` on up to ``workers`` (default PER_ENTRY_WORKERS) threads, in order.

    Each call runs in a copy of the caller's context, so the plan-is-read-only guard, an
    approved apply's scope and a plan's read cache follow it. The first error is raised once
    the calls already running have ended; calls not yet started are dropped.
    """
    workers = PER_ENTRY_WORKERS if workers is None else workers
    if workers <= 1 or len(items) <= 1:
        return [fn(item) for item in items]
    pool = ThreadPoolExecutor(max_workers=min(workers, len(items)), thread_name_prefix="eks-assist-entry")
    try:
        futures = [pool.submit(contextvars.copy_context().run, fn, item) for item in items]
        return [f.result() for f in futures]
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
