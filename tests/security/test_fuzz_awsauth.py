"""Fuzz drill: aws-auth parse → apply_delta → render keeps what is not ours and is idempotent.

Generated ``kube-system/aws-auth`` data holds unmanaged entries (arbitrary roles, users and
accounts, extra keys, unicode) written in many styles: block items dumped or hand-formatted,
flow items, comments above and beside items, blank lines, indented lists, headers and trailers,
whole flow/JSON sections. Some of our own entries are already in it (and in the managed
annotation). One delta adds, changes and removes only ours. Then:

- every unmanaged entry is still there, in order and value-equal, and the text of every
  block-style item is in the output byte for byte;
- our entries are present or absent as asked, and the annotation says so;
- parsing the output gives the same entries; the same delta again changes nothing and renders
  the same text; with no delta the data renders byte for byte as it came.

A second property feeds arbitrary, mostly malformed section text: it parses or raises
:class:`~assistant.identity.awsauth.AwsAuthError`, and when it parses, an edit renders YAML that parses
back to the same entries plus ours.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
import yaml
from hypothesis import example, given
from hypothesis import strategies as st

from assistant.identity import awsauth as aa

from .fuzz_settings import TIMEOUT, Tally, fuzz, run_properties

TALLY = Tally("fuzz: aws-auth round trip", faults="unmanaged entries in odd formatting, flow/JSON sections, malformed sections")

PRINTABLE = st.characters(categories=["L", "N", "P", "S", "Zs"], exclude_characters="\x85\ufeff")
TEXT = st.text(PRINTABLE, max_size=16)
IAM_NAME = st.from_regex(r"[A-Za-z0-9+=,.@_-]{1,20}", fullmatch=True)
ACCOUNT = st.from_regex(r"[0-9]{12}", fullmatch=True)
OURS_ACCOUNT = "999999999999"


@st.composite
def unmanaged_entry(draw: st.DrawFn, section: str) -> Any:
    if section == "mapAccounts":
        return draw(ACCOUNT.filter(lambda a: a != OURS_ACCOUNT) | st.integers(0, 10**12 - 1))
    kind, field_name = ("role", "rolearn") if section == "mapRoles" else ("user", "userarn")
    path = draw(st.sampled_from(["", "team/", "a/b/"]))
    value: dict[str, Any] = {field_name: f"arn:aws:iam::{draw(ACCOUNT)}:{kind}/{path}{draw(IAM_NAME)}"}
    if draw(st.booleans()):
        value["username"] = draw(TEXT | st.just(aa.NODE_USERNAME))
    if draw(st.booleans()):
        value["groups"] = draw(st.lists(TEXT, max_size=3))
    for key in draw(st.lists(st.sampled_from(["note", "x-owner", "ttl", "enabled"]), unique=True, max_size=2)):
        value[key] = draw(TEXT | st.integers() | st.booleans() | st.none())
    keys = draw(st.permutations(list(value)))
    return {k: value[k] for k in keys}


def ours_entry(section: str, i: int, variant: int = 0) -> tuple[str, Any]:
    """Our i-th entry of a section (keys never clash with unmanaged ones), in two variants."""
    if section == "mapAccounts":
        return OURS_ACCOUNT, OURS_ACCOUNT
    kind, field_name = ("role", "rolearn") if section == "mapRoles" else ("user", "userarn")
    arn = f"arn:aws:iam::000000000000:{kind}/eks-assist-ours-{i}"
    return arn, {field_name: arn, "username": f"ours-{i}", "groups": ["deployers"] if variant == 0 else ["deployers", "viewers"]}


COMMENT = TEXT.map(lambda t: "#" + t.rstrip())


@st.composite
def item_text(draw: st.DrawFn, value: Any, indent: str) -> str:
    """One block-style list item for ``value``, in one of several hand or machine styles."""
    style = draw(st.sampled_from(["dump", "dump-sorted", "flow-item", "json-lines"]))
    if style.startswith("dump") or not isinstance(value, dict):
        dumped = yaml.safe_dump(
            [value], default_flow_style=False, sort_keys=style == "dump-sorted", allow_unicode=draw(st.booleans())
        )
    elif style == "flow-item":
        dumped = f"- {json.dumps(value, ensure_ascii=draw(st.booleans()))}\n"
    else:  # keys one per line, values as JSON scalars, lists in flow style
        lines = [f"{json.dumps(k)}: {json.dumps(v)}" for k, v in value.items()] or ["{}"]
        dumped = "- " + "\n  ".join(lines) + "\n"
    lines = dumped.splitlines()
    if draw(st.booleans()) and "#" not in lines[0] and not lines[0].rstrip().endswith(("|", ">", "|-", ">-")):
        lines[0] += "  " + draw(COMMENT)  # a comment beside the item
    above = [indent + c for c in draw(st.lists(COMMENT, max_size=2))]
    return "".join(line + "\n" for line in above + [indent + line for line in lines])


@dataclass
class SectionCase:
    """One generated section: its text, and the text of each unmanaged block item in it."""

    text: str
    block: bool
    unmanaged_items: list[str] = field(default_factory=list)


@st.composite
def section_case(draw: st.DrawFn, section: str, values: list[Any]) -> SectionCase:
    """The section text for ``values`` (unmanaged and ours mixed): block style, or flow/JSON."""
    if values and not draw(st.integers(0, 4)):
        flow = json.dumps(values) if draw(st.booleans()) else yaml.safe_dump(values, default_flow_style=True)
        return SectionCase(flow, block=False)
    indent = draw(st.sampled_from(["", "", "  "]))
    header = draw(st.sampled_from(["", "---\n", "# written by hand\n", "\n"]))
    parts = [header]
    items: list[str] = []
    for value in values:
        text = draw(item_text(value, indent))
        parts.append(text)
        if not _is_ours(section, value):
            items.append(text)
        if draw(st.integers(0, 3)) == 0:
            parts.append("\n")
    parts.append(draw(st.sampled_from(["", "# the end\n", "\n# the end\n"])))
    text = "".join(parts)
    if draw(st.integers(0, 5)) == 0:
        text = text.rstrip("\n")
    return SectionCase(text, block=True, unmanaged_items=items)


def _is_ours(section: str, value: Any) -> bool:
    if section == "mapAccounts":
        return str(value) == OURS_ACCOUNT
    return isinstance(value, dict) and "eks-assist-ours" in str(value.get(aa._KEY_FIELD[section]))


@dataclass
class Case:
    """A whole ConfigMap and the delta to apply."""

    data: dict[str, str]
    annotations: dict[str, str]
    sections: dict[str, SectionCase]
    upserts: dict[str, dict[str, Any]]
    removals: dict[str, list[str]]


@st.composite
def cases(draw: st.DrawFn) -> Case:
    data: dict[str, str] = {"other": draw(TEXT)}
    sections: dict[str, SectionCase] = {}
    managed: list[str] = []
    upserts: dict[str, dict[str, Any]] = {}
    removals: dict[str, list[str]] = {}
    for section in aa.SECTIONS:
        if not draw(st.integers(0, 5)):
            continue  # the section is absent
        values: list[Any] = draw(st.lists(unmanaged_entry(section), max_size=5))
        n_ours = 1 if section == "mapAccounts" else 3
        for i in range(n_ours):
            key, value = ours_entry(section, i)
            present = draw(st.booleans())
            if present:
                values.insert(draw(st.integers(0, len(values))), value)
                managed.append(aa.ref(section, key))
            action = draw(st.sampled_from(["keep", "change", "remove", "none"]))
            if action == "keep":
                upserts.setdefault(section, {})[key] = value
            elif action == "change":
                upserts.setdefault(section, {})[key] = ours_entry(section, i, variant=1)[1]
            elif action == "remove":
                removals.setdefault(section, []).append(key)
        case = draw(section_case(section, values))
        sections[section] = case
        data[section] = case.text
    annotations = {aa.MANAGED_ANNOTATION: json.dumps(sorted(managed))} if managed else {}
    return Case(data, annotations, sections, upserts, removals)


def unmanaged(doc: aa.AwsAuth, section: str) -> list[tuple[str, Any]]:
    return [(e.key, e.value) for e in doc.sections[section].entries if not _is_ours(section, e.value)]


# -- properties ------------------------------------------------------------------------------------


@fuzz(200, offset=720)
@given(cases())
def edits_keep_what_is_not_ours(case: Case) -> None:
    with TALLY.example():
        # Untouched, the data renders exactly as it came.
        assert aa.AwsAuth.parse(case.data, case.annotations).render(case.data) == case.data

        before = aa.AwsAuth.parse(case.data, case.annotations)
        doc = aa.AwsAuth.parse(case.data, case.annotations)
        aa.apply_delta(doc, case.upserts, case.removals)
        out = doc.render(case.data)
        assert out["other"] == case.data["other"]

        again = aa.AwsAuth.parse(out, {aa.MANAGED_ANNOTATION: doc.managed_annotation()})
        for section in aa.SECTIONS:
            assert unmanaged(again, section) == unmanaged(before, section), f"{section}: unmanaged entries changed"
            case_section = case.sections.get(section)
            if case_section is not None and case_section.block:
                for item in case_section.unmanaged_items:
                    # (the section's last line may have had no newline: the drill strips it sometimes)
                    assert item.rstrip("\n") in out[section], f"{section}: item text not kept byte for byte:\n{item}"
            entries = again.entries(section)
            for key, value in case.upserts.get(section, {}).items():
                assert entries.get(key) == value and aa.ref(section, key) in doc.managed
            for key in case.removals.get(section, []):
                assert key not in entries and aa.ref(section, key) not in doc.managed
        assert {s: again.entries(s) for s in aa.SECTIONS} == {s: doc.entries(s) for s in aa.SECTIONS}

        # The same delta again is a no-op, and rendering is stable.
        assert not aa.apply_delta(again, case.upserts, case.removals)
        assert again.render(out) == out
        TALLY.count("block kept" if any(c.block for c in case.sections.values()) else "flow re-rendered")


SECTION_FRAGMENTS = [
    "- ",
    "  - ",
    "rolearn: arn:aws:iam::111122223333:role/x\n",
    "userarn: arn:aws:iam::111122223333:user/u\n",
    "  username: u\n",
    "  groups: [a, b]\n",
    "groups:\n  - a\n",
    "111122223333\n",
    "[",
    "]",
    "{",
    "}",
    ": ",
    "# c\n",
    "\n",
    "&a ",
    "*a",
    "!!binary ",
    "!!bool ",
    "2001-02-30",
    "9" * 5000,
    "---\n",
    "%TAG !e! tag:x,2000:\n",
    "!e!x ",
    "|\n",
    "'",
    '"',
    "\t",
]
SECTION_TEXT = st.lists(st.sampled_from(SECTION_FRAGMENTS) | TEXT, max_size=24).map("".join)


@st.composite
def mutated_section(draw: st.DrawFn) -> str:
    """A generated section's text with fragments inserted, or characters deleted, at random places."""
    section = draw(st.sampled_from(aa.SECTIONS))
    values = draw(st.lists(unmanaged_entry(section), min_size=1, max_size=4))
    text = draw(section_case(section, values)).text
    for _ in range(draw(st.integers(1, 3))):
        pos = draw(st.integers(0, len(text)))
        if draw(st.booleans()):
            text = text[:pos] + draw(st.sampled_from(SECTION_FRAGMENTS) | TEXT) + text[pos:]
        else:
            text = text[:pos] + text[pos + draw(st.integers(1, 8)) :]
    return text


BOMB = "a: &a ['x','x','x','x','x','x','x','x','x','x']\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},"
    f"*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)}]\n"
    for i in range(8)
)


@fuzz(200, offset=721)
@given(st.sampled_from(aa.SECTIONS), st.one_of(SECTION_TEXT, st.text(max_size=60), mutated_section()))
@example("mapAccounts", "- 2001-02-30\n")  # the timestamp constructor raised ValueError
@example("mapAccounts", "- " + "9" * 5000 + "\n")  # int() past its 4300-digit limit raised ValueError
@example("mapAccounts", "[" * 3000)  # the composer recursed into a RecursionError, slowly
@example("mapRoles", "- !!bool maybe\n")  # the bool constructor raised KeyError
@example("mapRoles", "- " + BOMB.replace("\n", "\n  "))  # a billion laughs: comparing it never ended
@example("mapRoles", "- &a [*a]\n")  # a self-referencing list
def malformed_sections(section: str, text: str) -> None:
    with TALLY.example():
        data = {section: text}
        try:
            doc = aa.AwsAuth.parse(data)
        except aa.AwsAuthError as exc:
            assert str(exc).startswith(section)
            TALLY.count("malformed refused")
            return
        before = [(e.key, e.value) for e in doc.sections[section].entries]
        key, value = ours_entry(section, 0)
        aa.apply_delta(doc, {section: {key: value}}, {})
        out = doc.render(data)
        again = aa.AwsAuth.parse(out)
        after = [(e.key, e.value) for e in again.sections[section].entries]
        assert [kv for kv in after if kv[0] != key] == [kv for kv in before if kv[0] != key]
        assert again.entries(section)[key] == value
        TALLY.count("odd section parsed")


@pytest.mark.slow
@TIMEOUT
def test_fuzz_awsauth_round_trip() -> None:
    """Edits keep unmanaged entries (byte for byte where block style) and are idempotent; bad sections raise AwsAuthError."""
    run_properties(TALLY, [edits_keep_what_is_not_ours, malformed_sections])


# -- regressions found by this drill ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        pytest.param("- 2001-02-30\n", "day is out of range", id="impossible-date"),
        pytest.param("- " + "9" * 5000 + "\n", "Exceeds the limit", id="5000-digit-int"),
        pytest.param("[" * 1_000_000, "nested deeper than 32 levels", id="deep-flow"),
        pytest.param("- !!bool maybe\n", "maybe", id="bad-bool"),
        pytest.param("- " + BOMB.replace("\n", "\n  "), "once YAML aliases are expanded", id="billion-laughs"),
        pytest.param("- &a [*a]\n", "nested deeper than 32 levels", id="self-reference"),
        pytest.param("- " + "[" * 40 + "]" * 40 + "\n", "nested deeper than 32 levels", id="deep-closed"),
    ],
)
def test_unreadable_sections_are_aws_auth_errors(text: str, reason: str) -> None:
    with pytest.raises(aa.AwsAuthError, match=r"^mapAccounts is not valid YAML: ") as exc:
        aa.AwsAuth.parse({"mapAccounts": text})
    assert reason in str(exc.value)


def test_a_deeply_nested_managed_annotation_is_ignored() -> None:
    doc = aa.AwsAuth.parse({}, {aa.MANAGED_ANNOTATION: "[" * 100_000 + "]" * 100_000})
    assert doc.managed == set()


def test_an_empty_section_that_is_there_stays_there() -> None:
    data = {"mapRoles": "- rolearn: arn:aws:iam::111122223333:role/a\n", "mapUsers": "", "mapAccounts": "\n"}
    assert aa.AwsAuth.parse(data).render(data) == data
    doc = aa.AwsAuth.parse(data)
    key, value = ours_entry("mapRoles", 0)
    assert aa.apply_delta(doc, {"mapRoles": {key: value}}, {})
    out = doc.render(data)
    assert out["mapUsers"] == "" and out["mapAccounts"] == "\n"
