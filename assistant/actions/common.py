"""Argument types and small helpers shared by actions."""

from __future__ import annotations

from typing import Any, Literal

from ..plan import Unknown

State = Literal["present", "absent"]
# Values that may come from another step's outputs and so be unknown at plan time.
Str = str | Unknown
StrList = list[str] | Unknown


def error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore ClientError, else ''."""
    resp = getattr(exc, "response", None)
    if isinstance(resp, dict):
        return str(resp.get("Error", {}).get("Code", ""))
    return ""


def sorted_list(values: Any) -> Any:
    """Sort a list of strings for stable comparisons; pass unknowns through."""
    if isinstance(values, list) and all(isinstance(v, str) for v in values):
        return sorted(values)
    return values


def user_tags(tags: dict[str, str] | None) -> dict[str, str]:
    """Tags minus the ones AWS adds by itself."""
    return {k: v for k, v in (tags or {}).items() if not k.startswith("aws:")}
