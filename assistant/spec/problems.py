"""Turn pydantic validation errors into located, plain-language :class:`Problem` s."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ValidationError

from assistant.errors import Problem
from assistant.spec.source import Locator, PathT, text_number_hint

_TYPE_WORDS = {
    "string_type": "expected a string",
    "int_type": "expected a whole number",
    "int_parsing": "expected a whole number",
    "int_from_float": "expected a whole number",
    "float_type": "expected a number",
    "float_parsing": "expected a number",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "list_type": "expected a list",
    "dict_type": "expected a mapping",
    "model_type": "expected a mapping",
    "model_attributes_type": "expected a mapping",
    "missing": "required field is missing",
}


def describe_value(value: Any) -> str:
    """``value`` in plain words, for "expected X, got Y"."""
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, bool):
        return f"the boolean {'true' if value else 'false'}"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, str):
        shown = value if len(value) <= 60 else value[:57] + "..."
        return f"the text {shown!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def field_names(model: type[BaseModel]) -> list[str]:
    """The names a model accepts in YAML (aliases where set)."""
    return [f.alias or name for name, f in model.model_fields.items()]


def _model_at(model: type[BaseModel], loc: Iterable[str | int]) -> type[BaseModel] | None:
    """Walk ``loc`` through nested model fields to find the model that owns the last key."""
    import typing

    cur: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(cur, type) and issubclass(cur, BaseModel)):
            return None
        by_alias = {(f.alias or n): f for n, f in cur.model_fields.items()}
        f = by_alias.get(str(part))
        if f is None:
            return None
        ann = f.annotation
        # unwrap Optional / list / dict to find a nested model
        stack = [ann]
        nxt = None
        while stack:
            t = stack.pop()
            if isinstance(t, type) and issubclass(t, BaseModel):
                nxt = t
                break
            stack.extend(typing.get_args(t))
        cur = nxt
    return cur if isinstance(cur, type) and issubclass(cur, BaseModel) else None


def unknown_field_message(key: str, candidates: list[str]) -> str:
    close = difflib.get_close_matches(key, candidates, n=1, cutoff=0.6)
    if close:
        return f"unknown field '{key}'; did you mean '{close[0]}'?"
    return f"unknown field '{key}'; valid fields: {', '.join(sorted(candidates))}"


def problems_from(exc: ValidationError, locator: Locator, model: type[BaseModel], base: PathT = ()) -> list[Problem]:
    """Map every error in ``exc`` to a located Problem with a human message."""
    out: list[Problem] = []
    for err in exc.errors(include_url=False):
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        # pydantic inserts union-member tags such as "list[str]" into loc; drop non-field parts
        path: PathT = (*base, *loc)
        etype = err["type"]
        if etype == "extra_forbidden":
            owner = _model_at(model, loc[:-1])
            cands = field_names(owner) if owner else []
            out.append(locator.problem(path, unknown_field_message(str(loc[-1]), cands), key=True))
            continue
        if etype in _TYPE_WORDS:
            msg = _TYPE_WORDS[etype]
            if etype != "missing":
                msg += f", got {describe_value(err.get('input'))}"
                hint = text_number_hint(err.get("input")) if etype.startswith(("int", "float")) else None
                msg += f": {hint}" if hint else ""
            out.append(locator.problem(path, msg))
            continue
        if etype in ("literal_error", "enum"):
            expected = err.get("ctx", {}).get("expected", "")
            out.append(locator.problem(path, f"must be one of {expected}, got {describe_value(err.get('input'))}"))
            continue
        msg = err["msg"]
        for prefix in ("Value error, ", "Assertion failed, "):
            if msg.startswith(prefix):
                msg = msg[len(prefix) :]
        out.append(locator.problem(path, msg))
    return out
