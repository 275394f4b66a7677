"""YAML loading that remembers where every value came from.

Specs and playbooks are read from PyYAML's parser events, with its *safe* loader's YAML 1.1
resolution and constructors, into plain Python data (dicts, lists, str, int, float, bool,
None) plus a :class:`Locator` that maps a field path such as
``("workers", "nodeGroups", 0, "scaling")`` to its line and column, so that every later error
can say ``file:line:col: path: what is wrong``. There is no node tree: one pass over the events,
with a stack of its own, builds the data and the positions.

Hostile input is refused before it costs anything: files over :data:`MAX_BYTES`
(:data:`SPEC_MAX_BYTES` for specs, which a large platform team's fill with thousands of
mappings), anchors/aliases (a billion-laughs bomb is made of them and no spec needs them),
non-string keys, duplicate keys, and documents nested deeper than :data:`MAX_DEPTH`. There is
no cap on the number of items: the size in bytes bounds the work, and libyaml's C parser (when
PyYAML has it) and that one pass read a 10,000-mapping spec (1.4 MB) in about 0.2 s. Errors
are worded by PyYAML's pure-Python reader, which reads the text again only when it is bad.

PyYAML reads YAML 1.1, where some plain scalars are numbers that nobody meant: ``020`` is
octal 16, ``1:00`` is base 60 (60), ``2_0`` is 20, ``0x1A`` is 26, ``.inf`` is infinity.
Every such plain scalar is refused, located, with what YAML read and what to write instead
(:func:`number_problem`); plain decimals (``20``, ``-3``, ``0.5``, ``1.5e+3``) and anything
quoted are read as written. The opposite case, YAML 1.2 number forms that YAML 1.1 reads as
text (``0o17``, ``1e3``), stays text (a tag value may well be ``1e3``); where a number is
expected, :func:`text_number_hint` says why it is not one.
"""

from __future__ import annotations

import contextlib
import math
import re
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from assistant.errors import InputError, Problem

MAX_BYTES = 1024 * 1024
# A spec of 10,000 fully specified IAM mappings and 200 node groups is about 1.5 MB.
SPEC_MAX_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 64
# libyaml when PyYAML was built with it: the same YAML 1.1 resolution, 10x faster.
FAST_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

PathT = tuple[str | int, ...]

_SURROGATE = re.compile(r"[\ud800-\udfff]")

_STR_TAG = "tag:yaml.org,2002:str"
_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
# Numbers that YAML 1.1 and YAML 1.2 (core schema) both read as written.
_PLAIN_INT = re.compile(r"[-+]?(0|[1-9][0-9]*)")
_PLAIN_FLOAT = re.compile(r"[-+]?([0-9]+\.[0-9]*|\.[0-9]+)([eE][-+][0-9]+)?")
# YAML 1.2 number forms that YAML 1.1 reads as text: octal 0o17, exponents without a dot or a
# sign (1e3, 1.5e3), and decimals with a leading zero (08).
_YAML12_OCTAL = re.compile(r"[-+]?0o[0-7]+")
_YAML12_NUMBER = re.compile(r"[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?")


def format_path(path: Iterable[str | int]) -> str:
    """Render ``("workers", "nodeGroups", 0, "name")`` as ``workers.nodeGroups[0].name``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


@dataclass
class Locator:
    """Maps field paths to 1-based (line, col) positions in one source file."""

    file: str
    marks: dict[PathT, tuple[int, int]] = field(default_factory=dict)
    key_marks: dict[PathT, tuple[int, int]] = field(default_factory=dict)

    def position(self, path: Iterable[str | int], *, key: bool = False) -> tuple[int | None, int | None]:
        """Best position for ``path``: the exact node, else its nearest located ancestor."""
        p = tuple(path)
        table = self.key_marks if key else self.marks
        while True:
            if p in table:
                return table[p]
            if key and p in self.marks:
                return self.marks[p]
            if not p:
                return (None, None)
            p = p[:-1]

    def problem(self, path: Iterable[str | int], message: str, *, key: bool = False) -> Problem:
        """A :class:`Problem` located at ``path`` in this file."""
        p = tuple(path)
        line, col = self.position(p, key=key)
        return Problem(message, file=self.file, line=line, col=col, path=format_path(p) or None)


def _mark(node: yaml.Node) -> tuple[int, int]:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


def _shown(value: float) -> str:
    return str(int(value)) if value == int(value) and abs(value) < 1e16 else repr(value)


def number_problem(text: str, tag: str, value: Any) -> str | None:
    """Why the plain scalar ``text`` (resolved to ``tag``/``value``) does not mean what it seems; ``None`` if it does.

    The message names what YAML read and what to write instead, e.g. ``020`` -> "read by
    YAML 1.1 as octal 16; write 20 for twenty, or '020' (quoted) for text".
    """
    quoted = f"'{text}' (quoted) for text"
    if tag == _INT_TAG and isinstance(value, int) and not _PLAIN_INT.fullmatch(text):
        bare = text.lstrip("+-")
        if ":" in text:
            kind = "a base-60 (sexagesimal) number"
        elif bare[:2] in ("0x", "0X"):
            kind = "hexadecimal"
        elif bare[:2] in ("0b", "0B"):
            kind = "binary"
        elif "_" in text and not re.fullmatch(r"[-+]?0[0-7_]+", text):
            kind = "a number with its underscores dropped"
        else:
            # Octal: the writer almost always meant the decimal digits, so suggest those.
            sign = "-" if text.startswith("-") else ""
            decimal = sign + (text.replace("_", "").lstrip("+-").lstrip("0") or "0")
            return f"{text} is read by YAML 1.1 as octal, {value}; write {decimal} (no leading zero), or {quoted}"
        return f"{text} is read by YAML 1.1 as {kind}, {value}; write {value}, or {quoted}"
    if tag == _FLOAT_TAG and isinstance(value, float):
        if math.isinf(value) or math.isnan(value):
            what = "not a number (NaN)" if math.isnan(value) else ("minus infinity" if value < 0 else "infinity")
            return f"{text} is read by YAML as {what}; write a finite number, or {quoted}"
        if not _PLAIN_FLOAT.fullmatch(text):
            kind = "a base-60 (sexagesimal) number" if ":" in text else "a number with its underscores dropped"
            return f"{text} is read by YAML 1.1 as {kind}, {_shown(value)}; write {_shown(value)}, or {quoted}"
    return None


def text_number_hint(value: Any) -> str | None:
    """For text given where a number is expected: why YAML read it as text, when it looks like a number."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if _YAML12_OCTAL.fullmatch(text):
        number: float = int(text.replace("0o", ""), 8)
        form = "0o octal is YAML 1.2 only"
    elif _YAML12_NUMBER.fullmatch(text):
        try:
            number = float(text)
        except ValueError:  # pragma: no cover - the pattern only admits what float() reads
            return None
        if not math.isfinite(number):
            return None
        form = "it is a number only in YAML 1.2"
    else:
        return None
    return f"YAML 1.1 reads {text} as text ({form}); write {_shown(number)}"


class _Stop(Exception):
    """The first problem found while building: the rest of the stream is still read for worse ones."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


_NEED_KEY: Any = object()  # a mapping's next scalar or collection is a key
_MERGE_TAG = "tag:yaml.org,2002:merge"
_PLAIN_DATA = (str, int, float, bool, type(None))
_DEEP = f"nested deeper than {MAX_DEPTH} levels"


class _Events:
    """Plain data and positions from a parser's events, in one pass with an explicit stack.

    Both of PyYAML's parsers (libyaml's and the pure-Python one) are state machines, so no
    input nests our stack deeper than the data. The checks are those a composer, a resolver and
    a builder walking the node tree made, in the same order: anchors, aliases and nesting past
    :data:`MAX_DEPTH` anywhere in the file first (:func:`_check_tokens` words and places them,
    asked only when an event has an anchor or nests that deep, or when the file is refused
    anyway), then YAML syntax errors (raised by the parser as it goes), then more than one
    document, then the first of: merge keys, keys that are not strings, duplicate keys, unpaired
    surrogates, values no constructor reads, nodes nested past :data:`MAX_DEPTH`; and last, every
    YAML 1.1 number form (:func:`number_problem`).
    """

    def __init__(self, text: str, filename: str, loader: type[yaml.SafeLoader], *, tokens_checked: bool) -> None:
        self.text = text
        self.file = filename
        self.loader = loader
        self.tokens_checked = tokens_checked
        self.loc = Locator(filename)
        self.constructor = yaml.SafeLoader("")  # only used for scalars that are not text
        # (tag, text) -> (value, number problem): each distinct number or boolean is read once.
        self.values: dict[tuple[str, str], tuple[Any, str | None]] = {}
        # YAML 1.1 number forms, collected so that one file reports them all at once.
        self.number_problems: list[Problem] = []

    def load(self) -> tuple[Any, Locator]:
        parser: Any = self.loader(self.text)
        try:
            resolvers = parser.yaml_implicit_resolvers
            self.resolve = parser.resolve
            # A plain scalar is text unless a resolver is registered for its first character;
            # with resolvers for any character (None) or by path, ask the resolver every time.
            self.implicit: dict[Any, Any] | None = None if None in resolvers or parser.yaml_path_resolvers else resolvers
            return self._stream(parser.get_event)
        finally:
            parser.dispose()

    def _stream(self, get: Callable[[], Any]) -> tuple[Any, Locator]:
        get()  # StreamStartEvent
        if get().__class__ is yaml.StreamEndEvent:
            raise InputError(Problem("file has no YAML document (only comments or blank lines)", self.file))
        problem = None
        try:
            data = self._document(get)
        except _Stop as stop:
            problem = stop.problem
            second = self._rest(get, None)
        else:
            get()  # DocumentEndEvent
            event = get()
            second = None if event.__class__ is yaml.StreamEndEvent else self._rest(get, event)
        if second:
            line, col = second
            raise InputError(Problem("expected one YAML document, found more than one (---)", self.file, line, col))
        if problem:
            raise InputError(problem)
        if self.number_problems:
            raise InputError(self.number_problems)
        return data, self.loc

    def _rest(self, get: Callable[[], Any], event: Any) -> tuple[int, int] | None:
        """Read the stream to its end; where a second document starts, if there is one."""
        self._check_tokens()
        documents, second = 1, None
        while True:
            if event is None:
                event = get()
            cls = event.__class__
            if cls is yaml.StreamEndEvent:
                return second
            if cls is yaml.DocumentStartEvent:
                documents += 1
                if documents == 2:
                    second = _mark(get())
            event = None

    def _check_tokens(self) -> None:
        if not self.tokens_checked:
            _check_tokens(self.text, self.file, FAST_LOADER)
            self.tokens_checked = True

    def _refuse_anchor(self, event: Any) -> None:
        self._check_tokens()  # raises, worded and placed as before
        raise InputError(Problem("YAML anchors and aliases (&, *) are not allowed", self.file, *_mark(event)))

    def _document(self, get: Callable[[], Any]) -> Any:
        """The data of the document whose start event was just read, up to its root's last event."""
        loc, marks, key_marks = self.loc, self.loc.marks, self.loc.key_marks
        implicit = self.implicit
        surrogate = _SURROGATE.search
        scalar_event, alias_event = yaml.ScalarEvent, yaml.AliasEvent
        map_start, seq_start = yaml.MappingStartEvent, yaml.SequenceStartEvent
        map_end, seq_end = yaml.MappingEndEvent, yaml.SequenceEndEvent
        need_key = _NEED_KEY

        event = get()
        cls = event.__class__
        if event.anchor is not None or cls is alias_event:
            self._refuse_anchor(event)
        marks[()] = _mark(event)
        if cls is scalar_event:
            return self._scalar(event, ())
        root: Any = {} if cls is map_start else []
        cpath: PathT = ()
        cont, is_map, depth = root, cls is map_start, 0
        key: Any = need_key
        kpath: PathT = ()
        stack: list[tuple[Any, PathT, bool]] = []
        while True:
            event = get()
            cls = event.__class__
            if cls is scalar_event:
                if event.anchor is not None:
                    self._refuse_anchor(event)
                mark = event.start_mark
                value = event.value
                text = event.tag is None and (not event.implicit[0] or (implicit is not None and value[:1] not in implicit))
                if text and not value.isascii() and surrogate(value):
                    text = False
                if is_map:
                    if key is need_key:
                        if not text:
                            value = self._key(event, cpath)
                        if value in cont:
                            raise _Stop(_duplicate(value, self.file, mark, cpath))
                        key = value
                        kpath = (*cpath, value)
                        key_marks[kpath] = (mark.line + 1, mark.column + 1)
                        continue
                    path = kpath
                else:
                    path = (*cpath, len(cont))
                if depth >= MAX_DEPTH:
                    raise _Stop(loc.problem(path, _DEEP))
                marks[path] = (mark.line + 1, mark.column + 1)
                if not text:
                    value = self._scalar(event, path)
                if is_map:
                    cont[key] = value
                    key = need_key
                else:
                    cont.append(value)
            elif cls is map_start or cls is seq_start:
                if event.anchor is not None:
                    self._refuse_anchor(event)
                if depth + 2 > MAX_DEPTH:  # over MAX_DEPTH collections open: the tokens say if too many
                    self._check_tokens()
                if is_map:
                    if key is need_key:
                        key = self._collection_key(event, get, cpath, depth + 2)
                        if key in cont:
                            raise _Stop(_duplicate(key, self.file, event.start_mark, cpath))
                        kpath = (*cpath, key)
                        key_marks[kpath] = _mark(event)
                        continue
                    path = kpath
                else:
                    path = (*cpath, len(cont))
                if depth >= MAX_DEPTH:
                    raise _Stop(loc.problem(path, _DEEP))
                mark = event.start_mark
                marks[path] = (mark.line + 1, mark.column + 1)
                child: Any = {} if cls is map_start else []
                if is_map:
                    cont[key] = child
                    key = need_key
                else:
                    cont.append(child)
                stack.append((cont, cpath, is_map))
                cont, cpath, is_map = child, path, cls is map_start
                depth += 1
            elif cls is map_end or cls is seq_end:
                if not stack:
                    return root
                cont, cpath, is_map = stack.pop()
                depth -= 1
            elif cls is alias_event:
                self._refuse_anchor(event)

    def _tag(self, event: Any) -> str:
        """A scalar event's tag as the composer resolves it (YAML 1.1: plain ``12`` is an int)."""
        tag: str | None = event.tag
        if tag is None or tag == "!":
            return str(self.resolve(yaml.ScalarNode, event.value, event.implicit))
        return tag

    def _node(self, event: Any) -> yaml.Node:
        """The node a composer would make of a node event (a collection's comes back empty)."""
        start: Any = event.start_mark
        if event.__class__ is yaml.ScalarEvent:
            end: Any = event.end_mark
            return yaml.ScalarNode(self._tag(event), event.value, start, end, event.style)
        kind = yaml.MappingNode if event.__class__ is yaml.MappingStartEvent else yaml.SequenceNode
        tag = event.tag
        if tag is None or tag == "!":
            tag = self.resolve(kind, None, event.implicit)
        return kind(tag, [], start, None, event.flow_style)

    def _scalar(self, event: Any, path: PathT) -> Any:
        """A scalar value that may not be text: resolved, read, checked, its number problem noted."""
        tag, text = self._tag(event), str(event.value)
        if tag == _STR_TAG and (text.isascii() or not _SURROGATE.search(text)):
            return text  # "team-1", "namespace": a resolver looked at the first character, no more
        known = self.values.get((tag, text))
        if known is None:
            value = self._construct(self._node(event), path)
            # Timestamps and binary are legal YAML but not data we accept; keep them as text.
            if not isinstance(value, _PLAIN_DATA):
                value = text
            known = self.values[(tag, text)] = (value, number_problem(text, tag, value))
        value, problem = known
        if problem and not event.style:  # plain (None, or "" from libyaml): quoted text is read as written
            self.number_problems.append(Problem(problem, self.file, *_mark(event), format_path(path) or None))
        return value

    def _key(self, event: Any, path: PathT) -> str:
        """A scalar key that may not be text, in the mapping at ``path``."""
        return self._checked_key(self._node(event), path)

    def _checked_key(self, node: yaml.Node, path: PathT) -> str:
        if node.tag == _MERGE_TAG:
            raise _Stop(Problem("YAML merge keys (<<) are not supported", self.file, *_mark(node)))
        key = self._construct(node, path)
        if not isinstance(key, str):
            message = f"mapping keys must be strings, got {type(key).__name__} {key!r}"
            raise _Stop(Problem(message, self.file, *_mark(node), format_path(path) or None))
        return key

    def _collection_key(self, event: Any, get: Callable[[], Any], path: PathT, open_collections: int) -> str:
        """A key that is a mapping or a sequence: composed into nodes (never data), then refused."""
        root = self._node(event)
        if root.tag == _MERGE_TAG:
            self._checked_key(root, path)
        stack: list[tuple[yaml.Node, list[Any]]] = [(root, [])]
        while stack:
            event = get()
            cls = event.__class__
            if cls is yaml.AliasEvent or getattr(event, "anchor", None) is not None:
                self._refuse_anchor(event)
            if cls is yaml.ScalarEvent:
                stack[-1][1].append(self._node(event))
            elif cls is yaml.MappingStartEvent or cls is yaml.SequenceStartEvent:
                if open_collections + len(stack) > MAX_DEPTH:
                    self._check_tokens()
                node = self._node(event)
                stack[-1][1].append(node)
                stack.append((node, []))
            else:  # the end of a collection
                node, items = stack.pop()
                node.end_mark = event.end_mark
                node.value = list(zip(items[::2], items[1::2], strict=True)) if isinstance(node, yaml.MappingNode) else items
        return self._checked_key(root, path)

    def _construct(self, node: yaml.Node, path: PathT) -> Any:
        """A scalar (or key) as Python data; odd scalars become located problems, not crashes."""
        if isinstance(node, yaml.ScalarNode) and node.tag == _STR_TAG:
            value: Any = node.value
        else:
            value = self._construct_other(node, path)
        # A lone surrogate (only an escape like "\ud800" makes one) is not text: it cannot be
        # encoded as UTF-8, so hashing, storing or printing the spec would fail later.
        bad = _SURROGATE.search(value) if isinstance(value, str) and not value.isascii() else None
        if bad:
            message = f"contains an unpaired surrogate \\u{ord(bad.group()):04x}, which is not valid Unicode text"
            raise _Stop(Problem(message, self.file, *_mark(node), format_path(path) or None))
        return value

    def _construct_other(self, node: yaml.Node, path: PathT) -> Any:
        try:
            return self.constructor.construct_object(node, deep=True)
        except yaml.MarkedYAMLError as exc:  # e.g. an unknown tag (!foo) or !!binary that is not base64
            what = exc.problem or exc.context or "cannot read this value"
            raise _Stop(Problem(f"invalid YAML: {what}", self.file, *_mark(node), format_path(path) or None)) from None
        except (yaml.YAMLError, ValueError, LookupError, AttributeError, TypeError, ArithmeticError):
            # PyYAML's scalar constructors raise plain Python errors: a date that does not exist
            # (2001-02-30), an integer past Python's 4300-digit limit, '!!bool maybe', an empty '!!int'.
            if node.tag == "tag:yaml.org,2002:timestamp":
                return node.value  # kept as text, like every other timestamp
            tag = str(node.tag).replace("tag:yaml.org,2002:", "!!")
            too_big = tag == "!!int" and re.fullmatch(r"[-+]?[0-9_]+", str(node.value))
            what = "a number too large to read" if too_big else f"not a valid {tag} value"
            problem = Problem(f"invalid YAML: {_clip(node.value)} is {what}", self.file, *_mark(node), format_path(path) or None)
            raise _Stop(problem) from None


def _duplicate(key: str, filename: str, mark: Any, path: PathT) -> Problem:
    return Problem(f"duplicate key {key!r}", filename, mark.line + 1, mark.column + 1, format_path(path) or None)


def _clip(text: Any, limit: int = 40) -> str:
    text = str(text)
    return repr(text if len(text) <= limit else text[:limit] + "...")


_OPEN = yaml.BlockSequenceStartToken | yaml.BlockMappingStartToken | yaml.FlowSequenceStartToken | yaml.FlowMappingStartToken
_CLOSE = yaml.BlockEndToken | yaml.FlowSequenceEndToken | yaml.FlowMappingEndToken


def _check_tokens(text: str, filename: str, loader: type[yaml.SafeLoader]) -> None:
    """Refuse anchors/aliases, and nesting too deep, anywhere in the file: the first in the text."""
    # Token depth never exceeds the data's depth (an indentless "- " list has no token of its
    # own), so this refuses nothing the builder would take; it only runs when the events show
    # an anchor, an alias or deep nesting, or when the file is refused anyway.
    depth = 0
    for token in yaml.scan(text, Loader=loader):
        if isinstance(token, yaml.AliasToken | yaml.AnchorToken):
            line, col = _mark(token)  # type: ignore[arg-type]
            raise InputError(Problem("YAML anchors and aliases (&, *) are not allowed", filename, line, col))
        if isinstance(token, _OPEN):
            depth += 1
            if depth > MAX_DEPTH:
                line, col = _mark(token)  # type: ignore[arg-type]
                raise InputError(Problem(f"nested deeper than {MAX_DEPTH} levels", filename, line, col))
        elif isinstance(token, _CLOSE):
            depth -= 1


def _load(text: str, filename: str) -> tuple[Any, Locator]:
    try:
        return _Events(text, filename, FAST_LOADER, tokens_checked=False).load()
    except yaml.YAMLError:
        pass
    # Bad YAML: PyYAML's own reader says what is wrong in the words and places users know. The
    # tokens first, as libyaml's and then PyYAML's scanner read them, as the data may not be reached.
    with contextlib.suppress(yaml.YAMLError):
        _check_tokens(text, filename, FAST_LOADER)
    _check_tokens(text, filename, yaml.SafeLoader)
    return _Events(text, filename, yaml.SafeLoader, tokens_checked=True).load()


def loads(text: str, filename: str = "<string>", max_bytes: int = MAX_BYTES) -> tuple[Any, Locator]:
    """Parse one YAML document into plain data and a :class:`Locator`; text over ``max_bytes`` is refused."""
    if len(text.encode("utf-8", errors="replace")) > max_bytes:
        raise InputError(Problem(f"file is larger than {max_bytes // 1024} KiB; refusing to parse it", filename))
    if not text.strip():
        raise InputError(Problem("file is empty", filename))
    try:
        return _load(text, filename)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        col = mark.column + 1 if mark else None
        what = exc.problem or exc.context or "malformed YAML"
        raise InputError(Problem(f"invalid YAML: {what}", filename, line, col)) from None
    except yaml.reader.ReaderError as exc:
        # Not a MarkedYAMLError: it carries an offset into the text, not a line and column.
        before = text[: exc.position]
        line, col = before.count("\n") + 1, exc.position - (before.rfind("\n") + 1) + 1
        what = (
            f"the character {chr(exc.character)!r} (U+{exc.character:04X})" if isinstance(exc.character, int) else "a character"
        )
        raise InputError(Problem(f"invalid YAML: {what} is not allowed in YAML text", filename, line, col)) from None
    except yaml.YAMLError as exc:
        raise InputError(Problem(f"invalid YAML: {exc}", filename)) from None


def load_file(path: str | Path, max_bytes: int = MAX_BYTES) -> tuple[Any, Locator]:
    """Read and parse a YAML file, refusing oversized (over ``max_bytes``) or unreadable files with a clear error."""
    p = Path(path)
    name = str(path)
    if not name:
        raise InputError(Problem("no file name given (the path is empty)"))
    try:
        st = p.stat()
    except FileNotFoundError:
        raise InputError(Problem("no such file", name)) from None
    except OSError as exc:
        raise InputError(Problem(f"cannot read file: {exc.strerror}", name)) from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(Problem("is a directory, expected a YAML file", name))
    if not stat.S_ISREG(st.st_mode):
        # /dev/zero reports size 0 and never ends; a FIFO blocks until someone writes.
        raise InputError(Problem("is not a regular file (a device, pipe or socket), expected a YAML file", name))
    if st.st_size > max_bytes:
        raise InputError(Problem(f"file is {st.st_size} bytes, larger than {max_bytes // 1024} KiB; refusing to parse it", name))
    try:
        with p.open("rb") as fh:
            raw = fh.read(max_bytes + 1)  # bounded even if the file grows after the stat
        if len(raw) > max_bytes:
            raise InputError(Problem(f"file is larger than {max_bytes // 1024} KiB; refusing to parse it", name))
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(Problem(f"file is not UTF-8 text (byte {exc.start})", name)) from None
    except OSError as exc:
        raise InputError(Problem(f"cannot read file: {exc.strerror}", name)) from None
    return loads(text, name, max_bytes)
