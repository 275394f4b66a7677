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
    _index: dict[str, Entry] | None = field(default=None, init=False, repr=False, compare=False)

    def key_of(self, value: Any) -> str:
        kf = _KEY_FIELD[self.name]
        if kf is None:
            return str(value)
        if not isinstance(value, dict) or not isinstance(value.get(kf), str):
            raise AwsAuthError(f"{self.name}: an entry has no {kf}: {value!r}")
        return str(value[kf])

    def find(self, key: str) -> Entry | None:
        """The first entry with ``key`` (a dict lookup: upserting N entries stays O(N))."""
        return self._by_key().get(key)

    def _by_key(self) -> dict[str, Entry]:
        # Built on first use and kept up to date by upsert/remove; ``entries`` is only
        # assigned by the parser, before any lookup.
        if self._index is None:
            index: dict[str, Entry] = {}
            for e in self.entries:
                index.setdefault(e.key, e)  # a hand-made duplicate: the first one is "the" entry
            self._index = index
        return self._index

    def copy(self) -> Section:
        """A copy whose entries can be edited without touching this one (values are shared, never mutated)."""
        entries = [Entry(e.key, e.value, e.text) for e in self.entries]
        return Section(self.name, entries, self.header, self.trailer, self.indent, self.verbatim, self.dirty)

    def upsert(self, value: Any) -> bool:
        """Add or replace the entry with ``value``'s key; True if anything changed."""
        key = self.key_of(value)
        cur = self.find(key)
        if cur is not None:
            if cur.value == value:
                return False
            cur.value, cur.text = copy.deepcopy(value), None
        else:
            entry = Entry(key, copy.deepcopy(value))
            self.entries.append(entry)
            self._by_key()[key] = entry
        self.dirty = True
        return True

    def remove(self, key: str) -> bool:
        """Drop every entry with ``key`` (a hand-made duplicate too); True if there was one."""
        return self.remove_all([key])

    def remove_all(self, keys: list[str]) -> bool:
        """Drop every entry whose key is in ``keys``, in one pass; True if any was there."""
        gone = set(keys) & self._by_key().keys()
        if not gone:
            return False
        self.entries = [e for e in self.entries if e.key not in gone]
        for key in gone:
            del self._by_key()[key]
        self.dirty = True
        return True

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
    """Split a section's YAML into per-item text blocks; raise AwsAuthError if it is not a list.

    One YAML parse per section: the parse also notes where its tokens were, and the blocks the
    line-based split finds are kept only if those notes prove each one holds exactly one item
    (see :func:`_split_is_exact`). Where they cannot (aliases, directives, '#' lines inside a
    block scalar), each block is parsed on its own and compared, as before: slower, same answer.
    """
    sec = Section(name)
    if text is None or not text.strip():
        # An empty section that is there renders back as it was (not dropped) until we edit it.
        sec.verbatim = text
        return sec
    try:
        parsed = _parse(text)
    except _LOAD_ERRORS as exc:
        raise AwsAuthError(f"{name} is not valid YAML: {_reason(exc)}") from None
    loaded = [] if parsed.value is None else parsed.value
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
    split = _blocks(lines, starts)
    if split is not None:
        bounds, end_all = split
        header, items, trailer = _texts(lines, bounds, end_all)
        values: list[Any] | None = None
        if _split_is_exact(parsed, starts, bounds, end_all, len(lines), indent or ""):
            values = loaded
        else:
            try:
                values = [_load_item(b) for b in items]
            except _LOAD_ERRORS:
                values = None
        if values is not None and values == loaded:
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
    """SafeLoader that stops at :data:`_MAX_DEPTH` levels while composing, and notes token positions.

    PyYAML's composer recurses once per level and its scanner slows down with every open flow
    level: "[[[[..." a few thousand deep took seconds to end in a RecursionError. The notes
    (see :class:`_Layout`) let :func:`parse_section` check its per-item split without parsing
    every item again.
    """

    _depth = 0

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.layout = _Layout()

    def get_token(self) -> Any:
        token = super().get_token()  # type: ignore[no-untyped-call]  # untyped in types-PyYAML
        start, end = token.start_mark, token.end_mark
        kind = type(token)
        if kind is yaml.BlockEntryToken:
            self.layout.entries.append((start.line, start.column))
        elif kind is yaml.AliasToken or kind is yaml.DirectiveToken:
            self.layout.alias_or_directive = True
        # Only a token spanning lines can cover a line that looks like a comment: on its own
        # line, a '#' after indentation always starts a comment. A token ending at column 0
        # ends before that line.
        last = end.line - 1 if end.column == 0 else end.line
        if last > start.line:
            self.layout.multiline.append((start.line, last))
        return token

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        self._depth += 1
        try:
            if self._depth > _MAX_DEPTH:
                raise AwsAuthError(f"nested deeper than {_MAX_DEPTH} levels")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


@dataclass
class _Layout:
    """Where the scanner saw things, as (line, column) marks: all a per-item split needs to know."""

    entries: list[tuple[int, int]] = field(default_factory=list)  # every "-" of a block list
    multiline: list[tuple[int, int]] = field(default_factory=list)  # first and last line of tokens spanning lines
    alias_or_directive: bool = False


@dataclass
class _Parsed:
    """One document: its value, its root node and where its tokens were."""

    value: Any
    root: yaml.Node | None
    layout: _Layout


def _reason(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    text = str(exc)
    return text if len(text) <= 300 else text[:300] + "..."


def _parse(text: str) -> _Parsed:
    """``yaml.safe_load`` (one parse), refusing documents that expand too far or nest too deep."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return _Parsed(None, None, loader.layout)
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
        return _Parsed(loader.construct_document(node), node, loader.layout)
    finally:
        loader.dispose()


def _load(text: str) -> Any:
    return _parse(text).value


def _load_item(block: str) -> Any:
    value = _load(block)
    if not isinstance(value, list) or len(value) != 1:
        raise yaml.YAMLError("not a single list item")
    return value[0]


def _split_is_exact(parsed: _Parsed, starts: list[int], bounds: list[int], end_all: int, n_lines: int, indent: str) -> bool:
    """Whether the tokens prove each line-split block is exactly one item, as parsing it alone would.

    Proven when the root is a block list whose entries ("-" at the item indent) sit on exactly
    the ``starts`` lines, no token reaches into the comment lines the split moves to the next
    item or to the trailer (a block scalar can hold '#' lines), and there is no alias (it may
    point into another block) or directive (it sits in the header), so each block alone means
    what it meant in place. False only means "not proven": the caller then parses the blocks
    one by one and compares, as it always did.
    """
    root, layout = parsed.root, parsed.layout
    if not isinstance(root, yaml.SequenceNode) or root.flow_style or layout.alias_or_directive:
        return False
    column = len(indent)
    if [line for line, col in layout.entries if col == column] != starts:
        return False
    # The lines the split treats as comments, as a running count, so each span is one check.
    free = [0] * (n_lines + 1)
    for i, b in enumerate(bounds):
        for line in range(b, starts[i]):
            free[line + 1] = 1
    for line in range(end_all, n_lines):
        free[line + 1] = 1
    for line in range(n_lines):
        free[line + 1] += free[line]
    return all(free[min(last, n_lines - 1) + 1] == free[first] for first, last in layout.multiline if first < n_lines)


def _blocks(lines: list[str], starts: list[int]) -> tuple[list[int], int] | None:
    """Where each item block begins (with the comment lines just above it), and where the trailer begins."""
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
    end_all = len(lines)
    # Trailing comments after the last item stay at the end.
    while end_all > starts[-1] + 1 and is_comment(lines[end_all - 1]):
        end_all -= 1
    return bounds, end_all


def _texts(lines: list[str], bounds: list[int], end_all: int) -> tuple[str, list[str], str]:
    """Header, item blocks and trailer as text."""
    items: list[str] = []
    for i, b in enumerate(bounds):
        end = bounds[i + 1] if i + 1 < len(bounds) else end_all
        items.append("".join(lines[b:end]))
    return "".join(lines[: bounds[0]]), items, "".join(lines[end_all:])


@dataclass
class AwsAuth:
    """The three aws-auth sections plus the set of entries eks-assist manages."""

    sections: dict[str, Section]
    managed: set[str] = field(default_factory=set)

    @classmethod
    def parse(
        cls, data: dict[str, str] | None, annotations: dict[str, str] | None = None, cache: SectionCache | None = None
    ) -> AwsAuth:
        """The model of a ConfigMap's ``data`` and annotations; ``cache`` skips sections seen unchanged."""
        data = data or {}
        sections = {
            name: cache.parse(name, data.get(name)) if cache is not None else parse_section(name, data.get(name))
            for name in SECTIONS
        }
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


class SectionCache:
    """The last parse of each section, so a retry re-parses only the sections that changed.

    After a 409 the fresh ConfigMap usually differs in one section; the others come back as
    the same text, and their parse is reused. Each call hands out a copy, since edits mutate
    the section. Only the latest text per section is kept.
    """

    def __init__(self) -> None:
        self._last: dict[str, tuple[str | None, Section]] = {}

    def parse(self, name: str, text: str | None) -> Section:
        """Like :func:`parse_section`, from the cache when ``text`` is what it was last time."""
        hit = self._last.get(name)
        if hit is None or hit[0] != text:
            hit = (text, parse_section(name, text))
            self._last[name] = hit
        return hit[1].copy()


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
        changed |= doc.sections[section].remove_all(keys)
        for key in keys:
            if ref(section, key) in doc.managed:
                doc.managed.discard(ref(section, key))
                changed = True
    return changed
