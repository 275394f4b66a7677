"""Fuzz drill: templating renders a value or raises TemplateError, resolves data only, keeps values inert.

Four properties, run in one test so that the drill records its figure once:

- arbitrary template strings (and lists/mappings of them) against arbitrary contexts: the
  result is a value or a :class:`~assistant.playbook.templating.TemplateError`, and the context is
  not changed;
- lookups (with ``||`` chains and literals) resolve exactly as a plain walk through dicts and
  lists would, even where a key is also a Python attribute or method name (``keys``, ``pop``,
  ``upper``, ``format``): no attribute access, no call;
- expressions with anything beyond lookups (calls, subscripts with quotes, operators, dunders,
  filters) are refused as unsupported;
- values are inserted inert: a context value that itself contains ``{{ ... }}`` comes out
  exactly as it went in, whole or interpolated.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from assistant.planning.plan import Unknown, is_unknown
from assistant.playbook.templating import LITERALS, TemplateError, render

from .fuzz_settings import TIMEOUT, Tally, fuzz, run_properties

TALLY = Tally("fuzz: templating", faults="arbitrary templates and contexts, attribute-like names, code-like expressions")

# Python attribute and method names of str/dict/list as data keys: a lookup must find the data.
ATTRS = ["keys", "items", "values", "get", "pop", "clear", "update", "copy", "upper", "format", "join", "split", "append"]
NAMES = st.one_of(
    st.sampled_from(["spec", "steps", "item", "tags", "a", "b", "x-y", "n_1", *ATTRS]),
    st.from_regex(r"[A-Za-z][A-Za-z0-9_-]{0,6}", fullmatch=True),
)

TEMPLATE_LIKE = st.sampled_from(
    ["{{ spec.metadata.name }}", "{{ a }}-{{ b }}", "{{ ''.__class__ }}", "{{", "}}", "{{ a || null }}"]
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=12),
    TEMPLATE_LIKE,
    st.from_regex(r"[a-z]{1,5}", fullmatch=True).map(lambda r: Unknown(f"steps.{r}.id")),
)
CONTEXT_VALUES = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(NAMES, inner, max_size=4), max_leaves=16
)
CONTEXTS = st.dictionaries(NAMES, CONTEXT_VALUES, max_size=5)

FRAGMENTS = [
    "{{",
    "}}",
    "{{ ",
    " }}",
    "||",
    " || ",
    ".",
    "[0]",
    "[1]",
    "[",
    "]",
    "spec",
    "a",
    "b",
    "item",
    "keys",
    "pop",
    "__class__",
    "()",
    "'",
    '"',
    "|",
    "+",
    "null",
    "[]",
    "{}",
    "true",
    "false",
    "\n",
    "{",
    "}",
    "é",
    "[99999999999999999999]",
]
TEMPLATES = st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=4), max_size=16).map("".join)


class _Undefined:
    pass


UNDEFINED = _Undefined()


def walk(parts: list[str | int], ctx: dict[str, Any]) -> Any:
    """The reference: a walk through dicts and lists only; an Unknown absorbs the rest of the path."""
    cur: Any = ctx
    for i, part in enumerate(parts):
        if isinstance(cur, Unknown):
            return Unknown(cur.ref + "".join(f".{p}" if isinstance(p, str) else f"[{p}]" for p in parts[i:]))
        if isinstance(part, int):
            if not isinstance(cur, list) or part >= len(cur):
                return UNDEFINED
        elif not isinstance(cur, dict) or part not in cur:
            return UNDEFINED
        cur = cur[part]
    return cur


def spelled(parts: list[str | int]) -> str:
    return str(parts[0]) + "".join(f".{p}" if isinstance(p, str) else f"[{p}]" for p in parts[1:])


def expected(chain: list[list[str | int] | str], ctx: dict[str, Any]) -> Any:
    """The documented meaning of ``a || b || literal``: UNDEFINED when nothing is defined."""
    for i, alt in enumerate(chain):
        last = i == len(chain) - 1
        if isinstance(alt, str):
            return LITERALS[alt]
        value = walk(alt, ctx)
        if value is UNDEFINED:
            continue
        if not last and (value is None or (isinstance(value, str | list | dict) and not value)):
            continue
        return value
    return UNDEFINED


def as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, sort_keys=True)


@st.composite
def lookups(draw: st.DrawFn, ctx: dict[str, Any]) -> list[str | int]:
    """A lookup that mostly follows ``ctx`` (so it resolves), sometimes strays off it."""
    parts: list[str | int] = []
    cur: Any = ctx
    for _ in range(draw(st.integers(1, 5))):
        if isinstance(cur, dict) and cur and draw(st.integers(0, 4)):
            key = draw(st.sampled_from(sorted(cur)))
        elif isinstance(cur, list) and cur and draw(st.integers(0, 4)):
            key = draw(st.integers(0, len(cur) - 1))
        else:
            key = draw(NAMES | st.integers(0, 3)) if parts else draw(NAMES)
        parts.append(key)
        cur = cur[key] if isinstance(cur, dict | list) and _has(cur, key) else None
    return parts


def _has(cur: dict[str, Any] | list[Any], key: str | int) -> bool:
    if isinstance(cur, dict):
        return key in cur
    return isinstance(key, int) and key < len(cur)


# -- properties ------------------------------------------------------------------------------------


@fuzz(200, offset=710)
@given(
    st.one_of(TEMPLATES, st.lists(TEMPLATES, max_size=3), st.dictionaries(st.text(max_size=4), TEMPLATES, max_size=3)), CONTEXTS
)
@example("{{ a[" + "9" * 5000 + "] }}", {"a": []})  # int() past its 4300-digit limit raised ValueError
@example("x-{{ a }}", {"a": [Unknown("steps.s.ids")]})  # json.dumps of a list holding an Unknown raised TypeError
def arbitrary_templates(template: Any, ctx: dict[str, Any]) -> None:
    with TALLY.example():
        before = copy.deepcopy(ctx)
        try:
            render(template, ctx)
        except TemplateError as exc:
            assert exc.message and isinstance(exc.message, str)
            TALLY.count("template error")
        else:
            TALLY.count("rendered")
        assert ctx == before, "rendering changed its context"


@fuzz(200, offset=711)
@given(st.data())
def lookups_walk_data_only(data: st.DataObject) -> None:
    with TALLY.example():
        ctx = data.draw(CONTEXTS)
        chain: list[list[str | int] | str] = data.draw(st.lists(lookups(ctx), min_size=1, max_size=3))
        if data.draw(st.booleans()):
            chain.append(data.draw(st.sampled_from(sorted(LITERALS))))
        expr = " || ".join(a if isinstance(a, str) else spelled(a) for a in chain)
        want = expected(chain, ctx)
        before = copy.deepcopy(ctx)
        for template in (f"{{{{ {expr} }}}}", f"<{{{{ {expr} }}}}>"):
            try:
                got = render(template, ctx)
            except TemplateError:
                assert want is UNDEFINED, f"{template} refused, but the data holds {want!r}"
                continue
            assert want is not UNDEFINED, f"{template} rendered {got!r} from data that does not hold it"
            if template.startswith("<"):
                if is_unknown(want):
                    assert isinstance(got, Unknown)
                else:
                    assert got == f"<{as_text(want)}>"
            else:
                assert got == want and type(got) is type(want)
        assert ctx == before
        TALLY.count("lookup defined" if want is not UNDEFINED else "lookup undefined")


CODE = st.sampled_from(
    [
        "()",
        "(1)",
        ".__class__",
        "._x",
        "['a']",
        '["a"]',
        "[a]",
        "[-1]",
        "[0:1]",
        " + 1",
        " * 2",
        "|upper",
        " | attr('x')",
        " if a else b",
        ", b",
        ":x",
        " == 1",
        "!r",
        "@x",
        ";import os",
        "\\x",
        "`id`",
        "$x",
        "%s",
        "?",
        "~",
        "&",
        "^",
        "#",
        "<x>",
        "=1",
        " not x",
        "[٣]",
    ]
)


@fuzz(150, offset=712)
@given(st.data())
def code_is_refused(data: st.DataObject) -> None:
    with TALLY.example():
        ctx = data.draw(CONTEXTS)
        head = spelled(data.draw(lookups(ctx)))
        expr = data.draw(
            st.sampled_from([head + data.draw(CODE), data.draw(CODE).lstrip(" .") + head, f"{head} || {head}{data.draw(CODE)}"])
        )
        with pytest.raises(TemplateError, match="unsupported template expression"):
            render(f"{{{{ {expr} }}}}", ctx)
        TALLY.count("code refused")


@fuzz(100, offset=713)
@given(st.text(max_size=10), TEMPLATE_LIKE, st.text(max_size=10), st.text(max_size=10))
def values_are_inert(prefix: str, evil: str, before: str, after: str) -> None:
    with TALLY.example():
        value = f"{prefix}{evil}{prefix}"
        ctx = {"item": {"evil": value}, "spec": {"metadata": {"name": "SHOULD-NOT-APPEAR"}}, "a": "A", "b": "B"}
        assert render("{{ item.evil }}", ctx) == value
        assert render("{{ nothing || item.evil }}", ctx) == value
        literal = (before + after).replace("{", "").replace("}", "")  # a lone brace next to {{ would merge with it
        rendered = render(f"{literal[:3]}{{{{ item.evil }}}}{literal[3:]}", ctx)
        if literal.strip():
            assert rendered == f"{literal[:3]}{value}{literal[3:]}"
        else:  # only whitespace around it: still exactly one template, so the value itself
            assert rendered == value
        assert render(["{{ item.evil }}", {"k": "{{ item }}"}], ctx) == [value, {"k": {"evil": value}}]
        TALLY.count("inert")


@pytest.mark.slow
@TIMEOUT
def test_fuzz_templating() -> None:
    """Templates render or raise TemplateError; lookups walk data only; code is refused; values stay inert."""
    run_properties(TALLY, [arbitrary_templates, lookups_walk_data_only, code_is_refused, values_are_inert])


# -- regressions found by this drill ------------------------------------------------------------


def test_a_huge_or_non_ascii_index_is_unsupported_not_a_crash() -> None:
    for index in ("9" * 5000, "٣", "1234567890"):
        with pytest.raises(TemplateError, match="unsupported template expression") as exc:
            render(f"{{{{ a[{index}] }}}}", {"a": [1, 2, 3, 4]})
        assert len(exc.value.message) < 300  # the expression is clipped in the message
    assert render("{{ a[3] }}", {"a": [1, 2, 3, 4]}) == 4


def test_code_in_a_later_alternative_is_refused_even_when_an_earlier_one_is_defined() -> None:
    ctx = {"spec": {"name": "demo"}}
    for template in ("{{ spec.name || spec.__class__ }}", "{{ spec.name || null || spec.name }}", "{{ spec.name || x() }}"):
        with pytest.raises(TemplateError):
            render(template, ctx)
    assert render("{{ spec.name || null }}", ctx) == "demo"


def test_a_container_holding_an_unknown_interpolates_as_unknown() -> None:
    ctx = {"steps": {"subnets": {"ids": Unknown("steps.subnets.ids"), "azs": ["a", "b"]}}}
    value = render("subnets: {{ steps.subnets }}", ctx)
    assert value == Unknown("subnets: <steps.subnets>")
    assert render("azs: {{ steps.subnets.azs }}", ctx) == 'azs: ["a", "b"]'
