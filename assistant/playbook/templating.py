"""Safe templating for playbook arguments: data lookups only, never Python object access.

A template is ``{{ expr }}`` inside a string. ``expr`` is one or more lookups joined by
``||`` (first one that is defined and not null wins)::

    {{ spec.metadata.name }}
    {{ steps.cluster_role.arn }}
    {{ steps.subnets.ids || spec.masters.vpc.existing.subnetIds }}
    {{ item.scaling.max }}

A lookup is a name followed by ``.key`` or ``[index]`` parts, resolved only through dicts
and lists. In a ``||`` chain an alternative is skipped when it is undefined, null, or an
empty string, list or mapping; the last alternative may be one of the literals ``null``,
``false``, ``true``, ``[]`` or ``{}``. There are no attributes, calls, filters or dunders, so a value such as
``{{ ''.__class__ }}`` is a syntax error, never code. A string that is exactly one
template yields the value itself (a list stays a list); a template inside a longer string
is interpolated as text. Values coming *out* of a lookup are never rendered again, so data
in a spec that looks like a template stays inert data.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from assistant.planning.plan import Unknown, is_unknown

_TEMPLATE = re.compile(r"\{\{(.*?)\}\}", re.S)
_NAME = r"[A-Za-z][A-Za-z0-9_-]*"
# ASCII digits, at most 9: \d would take any Unicode digit, and int() refuses past 4300 digits.
_INDEX = r"[0-9]{1,9}"
_LOOKUP = re.compile(rf"^{_NAME}(?:\.{_NAME}|\[{_INDEX}\])*$")
_PART = re.compile(rf"\.({_NAME})|\[({_INDEX})\]")


class TemplateError(Exception):
    """A template that cannot be rendered; ``message`` is user-facing."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class _Undefined:
    pass


UNDEFINED = _Undefined()


def parse_lookup(expr: str) -> list[str | int]:
    """Split ``a.b[0].c`` into ``["a", "b", 0, "c"]``; raise TemplateError on anything else."""
    expr = expr.strip()
    if not _LOOKUP.match(expr):
        shown = expr if len(expr) <= 80 else expr[:80] + "..."
        raise TemplateError(
            f"unsupported template expression {{{{ {shown} }}}}: only lookups like "
            "'spec.metadata.name', 'steps.<id>.<output>' or 'item.name' (optionally joined by ||) are allowed"
        )
    head = re.match(_NAME, expr)
    assert head is not None
    parts: list[str | int] = [head.group(0)]
    for m in _PART.finditer(expr, head.end()):
        parts.append(m.group(1) if m.group(1) is not None else int(m.group(2)))
    return parts


def references(value: Any) -> set[str]:
    """Names of steps that a (possibly nested) templated value refers to via ``steps.<id>``."""
    found: set[str] = set()
    if isinstance(value, str):
        for m in _TEMPLATE.finditer(value):
            for alt in m.group(1).split("||"):
                try:
                    parts = parse_lookup(alt)
                except TemplateError:
                    continue
                if parts[0] == "steps" and len(parts) > 1 and isinstance(parts[1], str):
                    found.add(parts[1])
    elif isinstance(value, dict):
        for v in value.values():
            found |= references(v)
    elif isinstance(value, list):
        for v in value:
            found |= references(v)
    return found


def _resolve(parts: list[str | int], ctx: Mapping[str, Any]) -> Any:
    cur: Any = ctx
    for i, part in enumerate(parts):
        if isinstance(cur, Unknown):
            return Unknown(cur.ref + "".join(f".{p}" if isinstance(p, str) else f"[{p}]" for p in parts[i:]))
        if isinstance(part, int):
            if not isinstance(cur, list) or part >= len(cur):
                return UNDEFINED
            cur = cur[part]
        else:
            if not isinstance(cur, dict) or part not in cur:
                return UNDEFINED
            cur = cur[part]
    return cur


LITERALS: dict[str, Any] = {"null": None, "false": False, "true": True, "[]": [], "{}": {}}


def _empty(value: Any) -> bool:
    return value is UNDEFINED or value is None or (isinstance(value, str | list | dict) and len(value) == 0)


def evaluate(expr: str, ctx: Mapping[str, Any]) -> Any:
    """Evaluate one ``a || b`` expression against ``ctx``."""
    alternatives = [a.strip() for a in expr.split("||")]
    # Check every alternative before resolving any: one that is not a lookup is an error even
    # when an earlier alternative is defined (the same template must not pass or fail by data).
    lookups: list[list[str | int] | None] = []
    for i, alt in enumerate(alternatives):
        if alt in LITERALS:
            if i != len(alternatives) - 1:
                raise TemplateError(f"literal '{alt}' may only be the last alternative of '||'")
            lookups.append(None)
        else:
            lookups.append(parse_lookup(alt))
    tried: list[str] = []
    for i, (alt, parts) in enumerate(zip(alternatives, lookups, strict=True)):
        if parts is None:
            value = LITERALS[alt]
            return list(value) if isinstance(value, list) else (dict(value) if isinstance(value, dict) else value)
        value = _resolve(parts, ctx)
        tried.append(alt)
        if _empty(value) and i != len(alternatives) - 1:
            continue
        if value is UNDEFINED:
            continue
        return value
    if len(tried) == 1:
        raise TemplateError(f"undefined template variable '{tried[0]}'{_hint(tried[0], ctx)}")
    raise TemplateError(f"none of {', '.join(repr(t) for t in tried)} is defined")


def _hint(lookup: str, ctx: Mapping[str, Any]) -> str:
    import difflib

    parts = parse_lookup(lookup)
    cur: Any = ctx
    for i, part in enumerate(parts):
        if isinstance(part, str) and isinstance(cur, dict):
            if part not in cur:
                close = difflib.get_close_matches(part, [str(k) for k in cur], n=1)
                where = ".".join(str(p) for p in parts[:i]) or "top level"
                if close:
                    return f" (no '{part}' in {where}; did you mean '{close[0]}'?)"
                known = ", ".join(sorted(str(k) for k in cur)[:12])
                return f" (no '{part}' in {where}; known: {known})" if known else ""
            cur = cur[part]
        elif isinstance(part, int) and isinstance(cur, list):
            if part >= len(cur):
                return f" (index {part} out of range, length {len(cur)})"
            cur = cur[part]
        else:
            return ""
    return ""


def _to_text(value: Any, expr: str) -> str | Unknown:
    if isinstance(value, Unknown):
        return value
    if is_unknown(value):
        # A list or mapping holding a value known only after apply: its text is unknown as a whole.
        return Unknown(expr.strip())
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, sort_keys=True)


def render(value: Any, ctx: Mapping[str, Any]) -> Any:
    """Render templates in ``value`` (recursively through dicts and lists)."""
    if isinstance(value, dict):
        return {k: render(v, ctx) for k, v in value.items()}
    if isinstance(value, list):
        return [render(v, ctx) for v in value]
    if not isinstance(value, str) or "{{" not in value:
        if isinstance(value, str) and "}}" in value and "{{" not in value:
            return value
        return value
    whole = _TEMPLATE.fullmatch(value.strip()) if value.strip().startswith("{{") else None
    if whole and value.strip().count("{{") == 1:
        return evaluate(whole.group(1), ctx)
    pieces: list[str] = []
    unknown_refs: list[str] = []
    pos = 0
    for m in _TEMPLATE.finditer(value):
        pieces.append(value[pos : m.start()])
        text = _to_text(evaluate(m.group(1), ctx), m.group(1))
        if isinstance(text, Unknown):
            unknown_refs.append(text.ref)
            pieces.append(f"<{text.ref}>")
        else:
            pieces.append(text)
        pos = m.end()
    rest = value[pos:]
    if "{{" in rest:
        raise TemplateError(f"unclosed template in {value!r}: '{{{{' without matching '}}}}'")
    pieces.append(rest)
    joined = "".join(pieces)
    if unknown_refs:
        return Unknown(joined)
    return joined
