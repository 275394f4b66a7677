"""YAML loading that remembers where every value came from.

Specs and playbooks are parsed with PyYAML's *safe* composer into plain Python data
(dicts, lists, str, int, float, bool, None) plus a :class:`Locator` that maps a field
path such as ``("workers", "nodeGroups", 0, "scaling")`` to its line and column, so
that every later error can say ``file:line:col: path: what is wrong``.

Hostile input is refused before it costs anything: files over :data:`MAX_BYTES`,
anchors/aliases (a billion-laughs bomb is made of them and no spec needs them),
non-string keys, duplicate keys, and documents nested deeper than :data:`MAX_DEPTH`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import InputError, Problem

MAX_BYTES = 1024 * 1024
MAX_DEPTH = 64

PathT = tuple[str | int, ...]


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


class _Builder:
    """Turns a composed node tree into plain data, recording positions as it goes."""

    def __init__(self, locator: Locator) -> None:
        self.loc = locator
        self.constructor = yaml.SafeLoader("")  # only used for scalar resolution

    def build(self, node: yaml.Node, path: PathT, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise InputError(self.loc.problem(path, f"nested deeper than {MAX_DEPTH} levels"))
        self.loc.marks[path] = _mark(node)
        if isinstance(node, yaml.MappingNode):
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    raise InputError(Problem("YAML merge keys (<<) are not supported", self.loc.file, *_mark(key_node)))
                key = self.constructor.construct_object(key_node, deep=True)
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
        value = self.constructor.construct_object(node, deep=True)
        # Timestamps and binary are legal YAML but not data we accept; keep them as text.
        if not isinstance(value, str | int | float | bool | type(None)):
            value = node.value
        return value


def _refuse_aliases(text: str, filename: str) -> None:
    for token in yaml.scan(text, Loader=yaml.SafeLoader):
        if isinstance(token, yaml.AliasToken | yaml.AnchorToken):
            line, col = _mark(token)  # type: ignore[arg-type]
            raise InputError(Problem("YAML anchors and aliases (&, *) are not allowed", filename, line, col))


def loads(text: str, filename: str = "<string>") -> tuple[Any, Locator]:
    """Parse one YAML document into plain data and a :class:`Locator`."""
    locator = Locator(filename)
    if len(text.encode("utf-8", errors="replace")) > MAX_BYTES:
        raise InputError(Problem(f"file is larger than {MAX_BYTES // 1024} KiB; refusing to parse it", filename))
    if not text.strip():
        raise InputError(Problem("file is empty", filename))
    try:
        _refuse_aliases(text, filename)
        nodes = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        col = mark.column + 1 if mark else None
        what = exc.problem or exc.context or "malformed YAML"
        raise InputError(Problem(f"invalid YAML: {what}", filename, line, col)) from None
    except yaml.YAMLError as exc:
        raise InputError(Problem(f"invalid YAML: {exc}", filename)) from None
    nodes = [n for n in nodes if n is not None]
    if not nodes:
        raise InputError(Problem("file has no YAML document (only comments or blank lines)", filename))
    if len(nodes) > 1:
        line, col = _mark(nodes[1])
        raise InputError(Problem("expected one YAML document, found more than one (---)", filename, line, col))
    data = _Builder(locator).build(nodes[0], (), 0)
    return data, locator


def load_file(path: str | Path) -> tuple[Any, Locator]:
    """Read and parse a YAML file, refusing oversized or unreadable files with a clear error."""
    p = Path(path)
    name = str(path)
    try:
        size = p.stat().st_size
    except FileNotFoundError:
        raise InputError(Problem("no such file", name)) from None
    except OSError as exc:
        raise InputError(Problem(f"cannot read file: {exc.strerror}", name)) from None
    if p.is_dir():
        raise InputError(Problem("is a directory, expected a YAML file", name))
    if size > MAX_BYTES:
        raise InputError(Problem(f"file is {size} bytes, larger than {MAX_BYTES // 1024} KiB; refusing to parse it", name))
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(Problem(f"file is not UTF-8 text (byte {exc.start})", name)) from None
    except OSError as exc:
        raise InputError(Problem(f"cannot read file: {exc.strerror}", name)) from None
    return loads(text, name)
