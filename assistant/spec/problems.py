"""Turn pydantic validation errors into located, plain-language :class:`Problem` s."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from assistant.errors import Problem
from assistant.spec.source import Locator, PathT, format_path, text_number_hint

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
    """The plain wording of an unknown field: the closest valid name, or all of them sorted."""
    close = difflib.get_close_matches(key, candidates, n=1, cutoff=0.6)
    if close:
        return f"unknown field '{key}'; did you mean '{close[0]}'?"
    return f"unknown field '{key}'; valid fields: {', '.join(sorted(candidates))}"


def strip_error_prefix(message: str) -> str:
    """A validator's own message without the "Value error, " pydantic puts before it."""
    for prefix in ("Value error, ", "Assertion failed, "):
        if message.startswith(prefix):
            message = message[len(prefix) :]
    return message


class Wording:
    """How one kind of document words and places its problems.

    This base is the plain wording of playbooks, approval policies and action arguments; the
    cluster spec subclasses it (:class:`assistant.spec.messages.SpecWording`) for its sharper
    messages. One mapper, :func:`problems_from`, walks the errors for both.
    """

    #: A problem with a key (an unknown or missing field, a bad mapping key) points at the key
    #: and names the mapping that holds it, rather than naming the key's own path.
    keys_name_their_mapping: bool = False
    #: Drop repeated problems and list them in the order the file reads.
    in_file_order: bool = False

    def unknown_field(self, name: str, candidates: list[str]) -> str:
        """The message for a field the model does not have; ``candidates`` are the valid ones."""
        return unknown_field_message(name, candidates)

    def message(self, err: ErrorDetails, loc: PathT, locator: Locator) -> str:
        """The message for one pydantic error at ``loc`` (relative to the validated model)."""
        etype = err["type"]
        if etype in _TYPE_WORDS:
            msg = _TYPE_WORDS[etype]
            if etype != "missing":
                msg += f", got {describe_value(err.get('input'))}"
                hint = text_number_hint(err.get("input")) if etype.startswith(("int", "float")) else None
                msg += f": {hint}" if hint else ""
            return msg
        if etype in ("literal_error", "enum"):
            expected = err.get("ctx", {}).get("expected", "")
            return f"must be one of {expected}, got {describe_value(err.get('input'))}"
        return strip_error_prefix(err["msg"])


PLAIN = Wording()


def problems_from(
    exc: ValidationError, locator: Locator, model: type[BaseModel], base: PathT = (), wording: Wording = PLAIN
) -> list[Problem]:
    """Map every error in ``exc`` to a located :class:`Problem` worded by ``wording``.

    ``base`` is where the validated data sits in the file (a playbook step's ``with``).
    Validators may raise ``eks_issues`` (several problems at sub-paths of the field) and have
    each placed on its own.
    """

    def at(path: PathT, message: str, *, key: bool = False) -> Problem:
        full = (*base, *path)
        line, col = locator.position(full, key=key)
        shown = full[:-1] if key and full and wording.keys_name_their_mapping else full
        return Problem(message, file=locator.file, line=line, col=col, path=format_path(shown) or None)

    out: list[Problem] = []
    for err in exc.errors(include_url=False):
        # pydantic puts validator names ("function-after[...]") into loc for union members; they are no field.
        loc: PathT = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        kind = err["type"]
        if kind == "eks_issues":
            for sub, message, key in err["ctx"]["issues"]:
                out.append(at((*loc, *sub), message, key=key))
        elif kind == "extra_forbidden":
            owner = _model_at(model, loc[:-1])
            out.append(at(loc, wording.unknown_field(str(loc[-1]), field_names(owner) if owner else []), key=True))
        elif wording.keys_name_their_mapping and kind == "missing":
            out.append(at(loc, wording.message(err, loc, locator), key=True))
        elif wording.keys_name_their_mapping and loc and loc[-1] == "[key]":
            # pydantic's marker for an error in a mapping key: point at the key itself.
            out.append(at(loc[:-1], wording.message(err, loc[:-1], locator), key=True))
        else:
            out.append(at(loc, wording.message(err, loc, locator)))
    if wording.in_file_order:
        unique = list(dict.fromkeys(out))
        return sorted(unique, key=lambda p: (p.line is None, p.line or 0, p.col or 0))
    return out
