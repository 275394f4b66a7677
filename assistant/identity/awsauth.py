"""A pure model of ``kube-system/aws-auth``: parse, edit and render its YAML-string sections.

``mapRoles``, ``mapUsers`` and ``mapAccounts`` are YAML documents stored as strings. Other
tools and people edit them by hand, so we keep what we do not touch byte for byte: each
top-level list item is kept as its own text block (with the comments above it), and only
blocks we add or change are re-rendered. A section that is not a block-style list (flow
style or JSON) is re-rendered as a whole; it cannot hold comments anyway.

No Kubernetes or AWS calls here: :mod:`assistant.actions.k8s.aws_auth` does the I/O.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

NODE_USERNAME = "system:node:{{EC2PrivateDNSName}}"
NODE_GROUPS = ["system:bootstrappers", "system:nodes"]
# Where we record which entries eks-assist manages, so that removing a mapping from the spec
# removes only entries we added and never one somebody else wrote.
MANAGED_ANNOTATION = "eks-assist.dev/managed-entries"

SECTIONS = ("mapRoles", "mapUsers", "mapAccounts")
_KEY_FIELD = {"mapRoles": "rolearn", "mapUsers": "userarn", "mapAccounts": None}
_ROLE_ARN = re.compile(r"^(arn:aws[a-z-]*:iam::\d{12}:role/)((?:[^/]+/)*)([^/]+)$")


class AwsAuthError(ValueError):
    """aws-auth content we cannot interpret (e.g. a section that is not a YAML list)."""


def role_without_path(arn: str) -> str:
    """aws-auth matches role ARNs without their IAM path (as EKS writes node roles)."""
    m = _ROLE_ARN.match(arn)
    return f"{m.group(1)}{m.group(3)}" if m else arn


def role_path(arn: str) -> str:
    """The IAM path of a role ARN (``team/`` for ``role/team/x``), '' when none."""
    m = _ROLE_ARN.match(arn)
    return m.group(2) if m else ""


def node_entry(role_arn: str) -> dict[str, Any]:
    """The mapping nodes need to join: their role → ``system:node:...`` in bootstrappers+nodes."""
    return {"rolearn": role_without_path(role_arn), "username": NODE_USERNAME, "groups": list(NODE_GROUPS)}


@dataclass
class Entry:
    """One list item: its key (ARN or account id), its value, and its original text if untouched."""

    key: str
    value: Any
    text: str | None = None


@dataclass
class Section:
    """One of mapRoles/mapUsers/mapAccounts as ordered entries plus surrounding text."""

    name: str
    entries: list[Entry] = field(default_factory=list)
    header: str = ""
    trailer: str = ""
    indent: str = ""
    # Flow/JSON sections cannot keep per-item text; any edit re-renders the whole section.
    verbatim: str | None = None
    dirty: bool = False

    def key_of(self, value: Any) -> str:
        kf = _KEY_FIELD[self.name]
        if kf is None:
            return str(value)
        if not isinstance(value, dict) or not isinstance(value.get(kf), str):
            raise AwsAuthError(f"{self.name}: an entry has no {kf}: {value!r}")
        return str(value[kf])

    def find(self, key: str) -> Entry | None:
        return next((e for e in self.entries if e.key == key), None)

    def upsert(self, value: Any) -> bool:
        """Add or replace the entry with ``value``'s key; True if anything changed."""
        key = self.key_of(value)
        cur = self.find(key)
        if cur is not None:
            if cur.value == value:
                return False
            cur.value, cur.text = copy.deepcopy(value), None
        else:
            self.entries.append(Entry(key, copy.deepcopy(value)))
        self.dirty = True
        return True

    def remove(self, key: str) -> bool:
        before = len(self.entries)
        self.entries = [e for e in self.entries if e.key != key]
        changed = len(self.entries) != before
        self.dirty = self.dirty or changed
        return changed

    def render(self) -> str | None:
        """The section's YAML text; None when it is empty and was absent."""
        if not self.dirty and self.verbatim is not None:
            return self.verbatim
        if not self.entries and not self.header.strip() and not self.trailer.strip():
            return None if self.verbatim is None else "[]\n"
        parts = [self.header]
        for e in self.entries:
            parts.append(e.text if e.text is not None else _render_item(e.value, self.indent))
        parts.append(self.trailer)
        return "".join(parts)


def _render_item(value: Any, indent: str) -> str:
    text = yaml.safe_dump([value], default_flow_style=False, sort_keys=False)
    return "".join(indent + line + "\n" for line in text.splitlines())


_ITEM_START = re.compile(r"^(\s*)-(\s|$)")


def parse_section(name: str, text: str | None) -> Section:
    """Split a section's YAML into per-item text blocks; raise AwsAuthError if it is not a list."""
    sec = Section(name)
    if text is None or not text.strip():
        # An empty section that is there renders back as it was (not dropped) until we edit it.
        sec.verbatim = text
        return sec
    try:
        loaded = _load(text)
    except _LOAD_ERRORS as exc:
        raise AwsAuthError(f"{name} is not valid YAML: {_reason(exc)}") from None
    if loaded is None:
        loaded = []
    if not isinstance(loaded, list):
        raise AwsAuthError(f"{name} must be a YAML list, got {type(loaded).__name__}")
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    starts: list[int] = []
    indent: str | None = None
    for i, line in enumerate(lines):
        m = _ITEM_START.match(line)
        if m and (indent is None or m.group(1) == indent):
            indent = m.group(1) if indent is None else indent
            starts.append(i)
    blocks = _blocks(lines, starts)
    if blocks is not None:
        header, items, trailer = blocks
        try:
            values = [_load_item(b) for b in items]
        except _LOAD_ERRORS:
            values = None
        if values == loaded:
            sec.header, sec.trailer, sec.indent = header, trailer, indent or ""
            sec.entries = [Entry(sec.key_of(v), v, b) for v, b in zip(values, items, strict=True)]
            sec.verbatim = text
            return sec
    # Flow style, JSON, or anything we cannot split safely: keep the data, re-render on edit.
    sec.entries = [Entry(sec.key_of(v), v) for v in loaded]
    sec.verbatim = text
    return sec


# PyYAML's constructors raise plain Python errors on odd scalars (a date that does not exist,
# an integer past Python's 4300-digit limit, '!!bool maybe', an empty '!!int'), and its
# composer recurses once per nesting level: all of these are sections we cannot read, not crashes.
_LOAD_ERRORS = (yaml.YAMLError, ValueError, LookupError, AttributeError, TypeError, ArithmeticError, RecursionError)
_MAX_NODES = 100_000  # values in one section once aliases are expanded; real ones have hundreds
_MAX_DEPTH = 32  # an entry is at most a mapping of lists of strings


class _Loader(yaml.SafeLoader):
    """SafeLoader that stops at :data:`_MAX_DEPTH` levels while composing.

    PyYAML's composer recurses once per level and its scanner slows down with every open flow
    level: "[[[[..." a few thousand deep took seconds to end in a RecursionError.
    """

    _depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        self._depth += 1
        try:
            if self._depth > _MAX_DEPTH:
                raise AwsAuthError(f"nested deeper than {_MAX_DEPTH} levels")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _reason(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    text = str(exc)
    return text if len(text) <= 300 else text[:300] + "..."


def _load(text: str) -> Any:
    """``yaml.safe_load``, refusing documents that expand too far or nest too deep."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        # Aliases share nodes, so a few lines can stand for a billion values (or a cycle):
        # count the values as if expanded, and stop early, before anything walks them.
        seen = 0
        stack: list[tuple[yaml.Node, int]] = [(node, 1)]
        while stack:
            current, depth = stack.pop()
            seen += 1
            if seen > _MAX_NODES:
                raise AwsAuthError(f"more than {_MAX_NODES} values once YAML aliases are expanded")
            if depth > _MAX_DEPTH:
                raise AwsAuthError(f"nested deeper than {_MAX_DEPTH} levels")
            if isinstance(current, yaml.SequenceNode):
                stack.extend((child, depth + 1) for child in current.value)
            elif isinstance(current, yaml.MappingNode):
                stack.extend((child, depth + 1) for pair in current.value for child in pair)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _load_item(block: str) -> Any:
    value = _load(block)
    if not isinstance(value, list) or len(value) != 1:
        raise yaml.YAMLError("not a single list item")
    return value[0]


def _blocks(lines: list[str], starts: list[int]) -> tuple[str, list[str], str] | None:
    """Header, item blocks (each with the comment lines just above it) and trailer."""
    if not starts:
        return None

    def is_comment(line: str) -> bool:
        return not line.strip() or line.lstrip().startswith("#")

    # Comment lines directly above an item belong to that item; they move with it.
    bounds: list[int] = []
    for i, s in enumerate(starts):
        prev = starts[i - 1] if i else -1
        b = s
        while b - 1 > prev and lines[b - 1].strip() and is_comment(lines[b - 1]):
            b -= 1
        bounds.append(b)
    header = "".join(lines[: bounds[0]])
    items: list[str] = []
    end_all = len(lines)
    # Trailing comments after the last item stay at the end.
    while end_all > starts[-1] + 1 and is_comment(lines[end_all - 1]):
        end_all -= 1
    for i, b in enumerate(bounds):
        end = bounds[i + 1] if i + 1 < len(bounds) else end_all
        items.append("".join(lines[b:end]))
    return header, items, "".join(lines[end_all:])


@dataclass
class AwsAuth:
    """The three aws-auth sections plus the set of entries eks-assist manages."""

    sections: dict[str, Section]
    managed: set[str] = field(default_factory=set)

    @classmethod
    def parse(cls, data: dict[str, str] | None, annotations: dict[str, str] | None = None) -> AwsAuth:
        data = data or {}
        sections = {name: parse_section(name, data.get(name)) for name in SECTIONS}
        managed: set[str] = set()
        raw = (annotations or {}).get(MANAGED_ANNOTATION)
        if raw:
            try:
                loaded = json.loads(raw)
            except (ValueError, RecursionError):  # somebody else's edit; deep nesting recurses
                loaded = []
            managed = {str(x) for x in loaded} if isinstance(loaded, list) else set()
        return cls(sections, managed)

    def entries(self, name: str) -> dict[str, Any]:
        """``{key: value}`` of one section, in order."""
        return {e.key: e.value for e in self.sections[name].entries}

    def render(self, data: dict[str, str] | None = None) -> dict[str, str]:
        """The ConfigMap ``data``: our sections merged into ``data``'s other keys (kept as is)."""
        out = dict(data or {})
        for name, sec in self.sections.items():
            text = sec.render()
            if text is None:
                out.pop(name, None)
            else:
                out[name] = text
        return out

    def managed_annotation(self) -> str:
        return json.dumps(sorted(self.managed))


def ref(section: str, key: str) -> str:
    """How a managed entry is named in the annotation: ``mapRoles:<arn>``."""
    return f"{section}:{key}"


def split_ref(value: str) -> tuple[str, str]:
    section, _, key = value.partition(":")
    return section, key


def apply_delta(doc: AwsAuth, upserts: dict[str, dict[str, Any]], removals: dict[str, list[str]]) -> bool:
    """Apply only our changes to ``doc`` (a fresh read); True if anything changed.

    ``upserts`` is ``{section: {key: value}}``; ``removals`` is ``{section: [key]}``. Entries
    we do not name are never touched, which is what makes a retry after a conflict safe.
    """
    changed = False
    for section, values in upserts.items():
        for key, value in values.items():
            changed |= doc.sections[section].upsert(value)
            if ref(section, key) not in doc.managed:
                doc.managed.add(ref(section, key))
                changed = True
    for section, keys in removals.items():
        for key in keys:
            changed |= doc.sections[section].remove(key)
            if ref(section, key) in doc.managed:
                doc.managed.discard(ref(section, key))
                changed = True
    return changed
