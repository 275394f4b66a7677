"""Label and field selectors, parsed the way kube-apiserver reads them from a query string."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from assistant.sandbox.k8s.errors import bad_request

Predicate = Callable[[dict[str, Any]], bool]

_SET_RE = re.compile(r"^\s*(!?)\s*([^\s!=(),]+)\s*(?:(in|notin)\s*\(([^)]*)\))?\s*$")
_EQ_RE = re.compile(r"^\s*([^\s!=(),]+)\s*(==|=|!=)\s*([^\s!=(),]*)\s*$")


def _split_requirements(selector: str) -> list[str]:
    """Split on commas that are not inside ``in (a,b)`` value sets."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in selector:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [p for p in parts if p.strip()]


def _label_requirement(text: str) -> Callable[[Mapping[str, str]], bool]:
    eq = _EQ_RE.match(text)
    if eq:
        key, op, value = eq.groups()
        if op == "!=":
            return lambda labels: labels.get(key) != value
        return lambda labels: labels.get(key) == value
    match = _SET_RE.match(text)
    if not match:
        raise bad_request(f"unable to parse requirement: {text.strip()!r}")
    negate, key, op, values_text = match.groups()
    if op:
        if negate:
            raise bad_request(f"unable to parse requirement: {text.strip()!r}")
        values = {v.strip() for v in values_text.split(",") if v.strip()}
        if op == "in":
            return lambda labels: labels.get(key) in values
        return lambda labels: labels.get(key) not in values
    if negate:
        return lambda labels: key not in labels
    return lambda labels: key in labels


def label_selector(selector: str | None) -> Predicate:
    """A predicate over objects for ``labelSelector`` (=, ==, !=, in, notin, exists, !exists)."""
    if not selector:
        return lambda _obj: True
    requirements = [_label_requirement(part) for part in _split_requirements(selector)]

    def matches(obj: dict[str, Any]) -> bool:
        labels = obj.get("metadata", {}).get("labels") or {}
        return all(req(labels) for req in requirements)

    return matches


def _field_value(obj: dict[str, Any], path: str) -> str:
    value: Any = obj
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def field_selector(selector: str | None) -> Predicate:
    """A predicate for ``fieldSelector`` such as ``metadata.name=x`` or ``spec.nodeName!=y``."""
    if not selector:
        return lambda _obj: True
    checks: list[tuple[str, bool, str]] = []
    for part in _split_requirements(selector):
        eq = _EQ_RE.match(part)
        if not eq:
            raise bad_request(f"invalid field selector: {part.strip()!r}")
        path, op, value = eq.groups()
        checks.append((path, op == "!=", value))

    def matches(obj: dict[str, Any]) -> bool:
        return all((_field_value(obj, path) == value) != negate for path, negate, value in checks)

    return matches
