"""YAML loading that remembers where every value came from.

Specs and playbooks are parsed with PyYAML's *safe* composer into plain Python data
(dicts, lists, str, int, float, bool, None) plus a :class:`Locator` that maps a field
path such as ``("workers", "nodeGroups", 0, "scaling")`` to its line and column, so
that every later error can say ``file:line:col: path: what is wrong``.

Hostile input is refused before it costs anything: files over :data:`MAX_BYTES`
(:data:`SPEC_MAX_BYTES` for specs, which a large platform team's fill with thousands of
mappings), anchors/aliases (a billion-laughs bomb is made of them and no spec needs them),
non-string keys, duplicate keys, and documents nested deeper than :data:`MAX_DEPTH`. There is
no cap on the number of items: the size in bytes bounds the work, and libyaml's C scanner and
composer (when PyYAML has them) read a 10,000-mapping spec in a fraction of a second. Errors
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

import math
import re
import stat
from collections.abc import Iterable
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


class _Builder:
    """Turns a composed node tree into plain data, recording positions as it goes."""

    def __init__(self, locator: Locator) -> None:
        self.loc = locator
        self.constructor = yaml.SafeLoader("")  # only used for scalar resolution
        # YAML 1.1 number forms, collected so that one file reports them all at once.
        self.number_problems: list[Problem] = []

    def build(self, node: yaml.Node, path: PathT, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise InputError(self.loc.problem(path, f"nested deeper than {MAX_DEPTH} levels"))
        self.loc.marks[path] = _mark(node)
        if isinstance(node, yaml.MappingNode):
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    raise InputError(Problem("YAML merge keys (<<) are not supported", self.loc.file, *_mark(key_node)))
                key = self._construct(key_node, path)
                if not isinstance(key, str):
                    line, col = _mark(key_node)
                    raise InputError(
                        Problem(
                            f"mapping keys must be strings, got {type(key).__name__} {key!r}",
                            self.loc.file,
                            line,
                            col,
                            format_path(path) or None,
                        )
                    )
                if key in out:
                    line, col = _mark(key_node)
                    raise InputError(Problem(f"duplicate key {key!r}", self.loc.file, line, col, format_path(path) or None))
                self.loc.key_marks[(*path, key)] = _mark(key_node)
                out[key] = self.build(value_node, (*path, key), depth + 1)
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        value = self._construct(node, path)
        # Timestamps and binary are legal YAML but not data we accept; keep them as text.
        if not isinstance(value, str | int | float | bool | type(None)):
            value = node.value
        if (
            isinstance(node, yaml.ScalarNode) and not node.style
        ):  # plain (None, or "" from libyaml): quoted text is read as written
            problem = number_problem(str(node.value), str(node.tag), value)
            if problem:
                self.number_problems.append(Problem(problem, self.loc.file, *_mark(node), format_path(path) or None))
        return value

    def _construct(self, node: yaml.Node, path: PathT) -> Any:
        """A scalar (or key) as Python data; odd scalars become located problems, not crashes."""
        if isinstance(node, yaml.ScalarNode) and node.tag == _STR_TAG:
            # Most of a spec is text, which needs no constructor: this is the loader's hot path.
            value: Any = node.value
        else:
            value = self._construct_other(node, path)
        # A lone surrogate (only an escape like "\ud800" makes one) is not text: it cannot be
        # encoded as UTF-8, so hashing, storing or printing the spec would fail later.
        bad = _SURROGATE.search(value) if isinstance(value, str) and not value.isascii() else None
        if bad:
            message = f"contains an unpaired surrogate \\u{ord(bad.group()):04x}, which is not valid Unicode text"
            raise InputError(Problem(message, self.loc.file, *_mark(node), format_path(path) or None))
        return value

    def _construct_other(self, node: yaml.Node, path: PathT) -> Any:
        try:
            return self.constructor.construct_object(node, deep=True)
        except yaml.MarkedYAMLError as exc:  # e.g. an unknown tag (!foo) or !!binary that is not base64
            what = exc.problem or exc.context or "cannot read this value"
            raise InputError(Problem(f"invalid YAML: {what}", self.loc.file, *_mark(node), format_path(path) or None)) from None
        except (yaml.YAMLError, ValueError, LookupError, AttributeError, TypeError, ArithmeticError):
            # PyYAML's scalar constructors raise plain Python errors: a date that does not exist
            # (2001-02-30), an integer past Python's 4300-digit limit, '!!bool maybe', an empty '!!int'.
            if node.tag == "tag:yaml.org,2002:timestamp":
                return node.value  # kept as text, like every other timestamp
            tag = str(node.tag).replace("tag:yaml.org,2002:", "!!")
            too_big = tag == "!!int" and re.fullmatch(r"[-+]?[0-9_]+", str(node.value))
            what = "a number too large to read" if too_big else f"not a valid {tag} value"
            problem = Problem(
                f"invalid YAML: {_clip(node.value)} is {what}", self.loc.file, *_mark(node), format_path(path) or None
            )
            raise InputError(problem) from None


def _clip(text: Any, limit: int = 40) -> str:
    text = str(text)
    return repr(text if len(text) <= limit else text[:limit] + "...")


_OPEN = yaml.BlockSequenceStartToken | yaml.BlockMappingStartToken | yaml.FlowSequenceStartToken | yaml.FlowMappingStartToken
_CLOSE = yaml.BlockEndToken | yaml.FlowSequenceEndToken | yaml.FlowMappingEndToken


def _check_tokens(text: str, filename: str, loader: type[yaml.SafeLoader]) -> None:
    """Refuse anchors/aliases, and nesting too deep, before a recursive composer sees it."""
    # The composers recurse once per level, so "[[[[..." a few hundred deep is a RecursionError
    # (or a C stack overflow in libyaml's). Token depth never exceeds the data's depth, so this
    # refuses nothing the builder would take.
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


def _compose(text: str, filename: str) -> list[yaml.Node]:
    try:
        _check_tokens(text, filename, FAST_LOADER)
        return list(yaml.compose_all(text, Loader=FAST_LOADER))
    except yaml.YAMLError:
        if FAST_LOADER is yaml.SafeLoader:
            raise
    # Bad YAML: PyYAML's own reader says what is wrong in the words and places users know.
    _check_tokens(text, filename, yaml.SafeLoader)
    return list(yaml.compose_all(text, Loader=yaml.SafeLoader))


def loads(text: str, filename: str = "<string>", max_bytes: int = MAX_BYTES) -> tuple[Any, Locator]:
    """Parse one YAML document into plain data and a :class:`Locator`; text over ``max_bytes`` is refused."""
    locator = Locator(filename)
    if len(text.encode("utf-8", errors="replace")) > max_bytes:
        raise InputError(Problem(f"file is larger than {max_bytes // 1024} KiB; refusing to parse it", filename))
    if not text.strip():
        raise InputError(Problem("file is empty", filename))
    try:
        nodes = _compose(text, filename)
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
    nodes = [n for n in nodes if n is not None]
    if not nodes:
        raise InputError(Problem("file has no YAML document (only comments or blank lines)", filename))
    if len(nodes) > 1:
        line, col = _mark(nodes[1])
        raise InputError(Problem("expected one YAML document, found more than one (---)", filename, line, col))
    builder = _Builder(locator)
    data = builder.build(nodes[0], (), 0)
    if builder.number_problems:
        raise InputError(builder.number_problems)
    return data, locator


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
