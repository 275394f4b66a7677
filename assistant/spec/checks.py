"""Shared pieces of the spec models: the base model, the error helpers validators raise with,
and the field types (subnet and security group IDs) more than one section uses."""

from __future__ import annotations

import difflib
import ipaddress
import re
from collections.abc import Callable, Iterable
from typing import Annotated, Any, NoReturn

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
)
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

NAME_CHARS = re.compile(r"[A-Za-z0-9_-]")
_SUBNET_ID = re.compile(r"subnet-([0-9a-f]{8}|[0-9a-f]{17})")
_SG_ID = re.compile(r"sg-([0-9a-f]{8}|[0-9a-f]{17})")
SubPath = tuple[str | int, ...]


def fail(message: str) -> NoReturn:
    """One problem with the field being validated."""
    # The message travels in ctx, not the template, so braces in user values stay literal.
    raise PydanticCustomError("eks_value", "{detail}", {"detail": message})


class Issues:
    """Collects several problems inside one validator, each at a sub-path of the field/model."""

    def __init__(self) -> None:
        self.items: list[tuple[SubPath, str, bool]] = []

    def add(self, sub: SubPath, message: str, *, key: bool = False) -> None:
        self.items.append((sub, message, key))

    def raise_any(self) -> None:
        if self.items:
            raise PydanticCustomError("eks_issues", "{count} problem(s)", {"issues": list(self.items), "count": len(self.items)})


def fail_at(sub: SubPath, message: str, *, key: bool = False) -> NoReturn:
    """One problem at a sub-path of the model being validated (e.g. ``("scaling", "min")``)."""
    issues = Issues()
    issues.add(sub, message, key=key)
    issues.raise_any()
    raise AssertionError("unreachable")  # pragma: no cover


def did_you_mean(word: str, choices: Iterable[str], cutoff: float = 0.6) -> str | None:
    options = list(choices)

    def norm(text: str) -> str:
        return text.lower().replace("_", "").replace("-", "")

    # Case and separators first: "NoSchedule" means NO_SCHEDULE, whatever difflib thinks.
    for option in options:
        if norm(option) == norm(word):
            return option
    by_norm = {norm(o): o for o in options}
    close = difflib.get_close_matches(norm(word), list(by_norm), n=1, cutoff=cutoff)
    return by_norm[close[0]] if close else None


def duplicates(values: list[Any], label: str, where: str, issues: Issues, render: Callable[[Any], str] = repr) -> None:
    """Report each repeat of a value, naming where it first appeared (``where`` is the field)."""
    for i, j in repeats(values):
        issues.add((i,), f"duplicate {label} {render(values[i])} (also at {where}[{j}])")


def repeats(keys: list[Any]) -> list[tuple[int, int]]:
    """``(i, j)`` for each ``keys[i]`` that already appeared first at ``j``."""
    first: dict[Any, int] = {}
    return [(i, j) for i, key in enumerate(keys) if (j := first.setdefault(key, i)) != i]


def near_duplicates(
    names: list[str], keys: list[Any], where: tuple[str, str, str], why: Callable[[int, str], str], issues: Issues
) -> None:
    """Report each name whose key repeats an earlier one's: an exact repeat, or (``why``) a different
    spelling of the same thing. ``where`` is (the item's field, the noun, the list's field)."""
    field, noun, listed = where
    for i, j in repeats(keys):
        shown = quote(names[i]) if noun.endswith("name") else names[i]
        if names[j] == names[i]:
            issues.add((i, field), f"duplicate {noun} {shown} (also at {listed}[{j}])")
        else:
            issues.add((i, field), f"duplicate {noun} {shown}: {why(j, names[j])}")


def quote(value: str) -> str:
    """``repr(value)``, shortened: a 1 MB name must not become a 1 MB error message."""
    if len(value) <= 120:
        return repr(value)
    return f"{value[:60]!r}…"


def free_text_problem(value: str, what: str, limit: int) -> str | None:
    """Free-form text (usernames, groups, context names, paths) is data, never code, but it must be
    text a person can read: 1-``limit`` characters, no control or invisible formatting characters
    (a newline, a NUL, a right-to-left override), so that what the plan shows is what is written."""
    if not value:
        return f"{what} is empty"
    if len(value) > limit:
        return f"{what} is {len(value)} characters; at most {limit} allowed"
    for i, ch in enumerate(value):
        if not ch.isprintable():
            return f"{what} {quote(value)} contains {ch!r} at position {i + 1}: control and invisible characters are not allowed"
    return None


def check_free_text(value: str, what: str, limit: int) -> None:
    problem = free_text_problem(value, what, limit)
    if problem:
        fail(problem)


def bad_char_hint(value: str, allowed: re.Pattern[str]) -> str:
    for i, ch in enumerate(value):
        if not allowed.fullmatch(ch):
            return f" ({ch!r} at position {i + 1} is not allowed)"
    return ""


def parse_cidr(text: str, what: str) -> ipaddress.IPv4Network:
    """Parse an IPv4 CIDR block, failing the field with a message that says how to fix it."""
    if "/" not in text:
        fail(f"{what} {quote(text)} needs a prefix length, like 10.0.0.0/16")
    try:
        net = ipaddress.ip_network(text, strict=False)
    except ValueError:
        fail(f"{what} {quote(text)} is not a valid IPv4 CIDR block (like 10.0.0.0/16)")
    if not isinstance(net, ipaddress.IPv4Network):
        fail(f"{what} {quote(text)} is IPv6; only IPv4 CIDR blocks are supported here")
    if str(net) != text:
        # Either host bits are set (10.0.0.1/16) or it is spelled oddly (10.0.0.0/016).
        address = text.split("/", 1)[0]
        reason = "has host bits set" if ipaddress.ip_address(address) != net.network_address else "is unusual"
        fail(f"{what} {quote(text)} {reason}; did you mean '{net}'?")
    return net


def version_tuple(version: str) -> tuple[int, int]:
    major, minor = version.split(".")
    return int(major), int(minor)


def _check_subnet_id(value: str) -> str:
    if not _SUBNET_ID.fullmatch(value):
        fail(f"{quote(value)} is not a subnet ID (like subnet-0123456789abcdef0)")
    return value


def _check_sg_id(value: str) -> str:
    if not _SG_ID.fullmatch(value):
        fail(f"{quote(value)} is not a security group ID (like sg-0123456789abcdef0)")
    return value


# Items, keys and values are checked one by one (not by a validator over the whole list or
# dict) so that one bad entry does not hide another: pydantic reports every entry's errors.
SubnetId = Annotated[str, AfterValidator(_check_subnet_id), Field(json_schema_extra={"pattern": "^subnet-[0-9a-f]{8,17}$"})]

SecurityGroupId = Annotated[str, AfterValidator(_check_sg_id), Field(json_schema_extra={"pattern": "^sg-[0-9a-f]{8,17}$"})]


class SpecModel(BaseModel):
    """Base of every spec model: camelCase in YAML, unknown fields refused, immutable, strict."""

    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        frozen=True,
        strict=True,
        # Editors show titles; the YAML key is the useful one, not "Prefixdelegation".
        field_title_generator=lambda name, info: info.alias or to_camel(name),
    )
