"""How the spec words pydantic's errors (:class:`SpecWording`, for :func:`~assistant.spec.problems.problems_from`)."""

from __future__ import annotations

import re
from typing import Any

from pydantic_core import ErrorDetails

from assistant.spec.checks import (
    did_you_mean,
    quote,
)
from assistant.spec.problems import Wording, describe_value, strip_error_prefix
from assistant.spec.source import Locator, PathT, text_number_hint

_EXPECTED = {
    "string_type": "a string",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "float_type": "a number",
}

_CHOICE_NOUN = {
    "logging": "log type",
    "amiType": "AMI type",
    "capacityType": "capacity type",
    "effect": "taint effect",
    "authenticationMode": "authentication mode",
    "scope": "scope",
    "via": "mapping method",
    "kind": "kind",
    "exec": "exec plugin",
}


def _raw_token(locator: Locator, path: tuple[str | int, ...], source: str | None) -> str | None:
    """The scalar exactly as written in the source, e.g. ``1.30`` that YAML read as 1.3."""
    if not source or tuple(path) not in locator.marks:
        return None
    line, col = locator.marks[tuple(path)]
    lines = source.splitlines()
    if not 1 <= line <= len(lines):
        return None
    match = re.match(r"[^\s,\]\}#]+", lines[line - 1][col - 1 :])
    return match.group(0) if match else None


def _yaml_rendering(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


class SpecWording(Wording):
    """The cluster spec's wording: choices named by what they are, YAML's readings of numbers
    explained from the text as written, unknown fields matched ignoring case and separators."""

    keys_name_their_mapping = True
    in_file_order = True

    def __init__(self, source: str | None = None) -> None:
        # The file text, when there is one: it shows how a scalar was written (1.30, not 1.3).
        self.source = source

    def unknown_field(self, name: str, candidates: list[str]) -> str:
        close = did_you_mean(name, candidates)
        if close:
            return f"unknown field {quote(name)}; did you mean {close!r}?"
        return f"unknown field {quote(name)} (valid fields: {', '.join(candidates)})"

    def message(self, err: ErrorDetails, loc: PathT, locator: Locator) -> str:
        kind: str = err["type"]
        value = err.get("input")
        ctx = err.get("ctx") or {}
        field = next((p for p in reversed(loc) if isinstance(p, str)), "")

        if kind == "missing":
            return f"missing required field {loc[-1]!r}"
        if kind == "literal_error":
            choices = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
            if len(choices) == 1:
                return f"must be {choices[0]!r}, got {describe_value(value)}"
            listed = ", ".join(choices)
            if isinstance(value, str):
                noun = _CHOICE_NOUN.get(field, "value")
                close = did_you_mean(value, choices)
                if close:
                    return f"unknown {noun} {quote(value)}; did you mean {close!r}?"
                return f"unknown {noun} {quote(value)} (one of: {listed})"
            return f"expected one of: {listed}; got {describe_value(value)}"
        if kind == "string_type" and isinstance(value, int | float | bool):
            raw = _raw_token(locator, loc, self.source) or _yaml_rendering(value)
            read_as = f" (YAML reads {raw} as {_yaml_rendering(value)})" if raw != _yaml_rendering(value) else ""
            if field == "version" and len(loc) == 2 and loc[0] == "masters":
                lost = f": YAML reads {raw} as the number {_yaml_rendering(value)}" if read_as else ""
                return f'Kubernetes version must be a quoted string{lost}; write "{raw}"'
            return f'expected a string, got {describe_value(value)}{read_as}; quote it: "{raw}"'
        if kind in _EXPECTED:
            hint = text_number_hint(value) if kind.startswith(("int", "float")) else None
            return f"expected {_EXPECTED[kind]}, got {describe_value(value)}" + (f": {hint}" if hint else "")
        if kind == "greater_than_equal":
            return f"must be at least {ctx.get('ge')}, got {describe_value(value)}"
        if kind == "less_than_equal":
            return f"must be at most {ctx.get('le')}, got {describe_value(value)}"
        if kind == "too_short":
            return f"needs at least {ctx.get('min_length')} item(s), got {ctx.get('actual_length')}"
        if kind == "too_long":
            return f"allows at most {ctx.get('max_length')} item(s), got {ctx.get('actual_length')}"
        if kind == "eks_value":
            return str(ctx.get("detail", err["msg"]))
        return strip_error_prefix(str(err["msg"]))
