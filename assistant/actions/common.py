"""Argument types and small helpers shared by actions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, TypeVar

from ..plan import Op, Unknown

State = Literal["present", "absent"]
# Values that may come from another step's outputs and so be unknown at plan time.
Str = str | Unknown
StrList = list[str] | Unknown
T = TypeVar("T")


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
) -> Any:
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
