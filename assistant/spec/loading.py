"""Reading a spec: :func:`load_spec` (a file), :func:`loads_spec` (text), :func:`parse_spec` (data)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import (
    ValidationError,
)

from assistant.errors import InputError, Problem
from assistant.spec.cluster import ClusterSpec
from assistant.spec.messages import SpecWording
from assistant.spec.problems import describe_value, problems_from
from assistant.spec.source import SPEC_MAX_BYTES, Locator, load_file, loads


@dataclass(frozen=True)
class LoadedSpec:
    """A validated spec with where it came from, so later checks can point at its lines."""

    spec: ClusterSpec
    locator: Locator
    source: str  # the file text ("" when built from data)
    file: str

    def problem(self, path: Iterable[str | int], message: str) -> Problem:
        """A :class:`Problem` located at ``path`` in the spec file."""
        return self.locator.problem(path, message)


def load_spec(path: str | Path) -> LoadedSpec:
    """Read, parse and validate a spec file; raises :class:`InputError` listing every problem."""
    p = Path(path)
    text: str | None = None
    try:
        if p.is_file() and p.stat().st_size <= SPEC_MAX_BYTES:
            text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        text = None
    if text is None:
        load_file(path, SPEC_MAX_BYTES)  # unreadable, too large or missing: it raises the precise error
        raise InputError(Problem("cannot read file", str(path)))  # pragma: no cover - raced with a change
    return loads_spec(text, str(path))


def loads_spec(text: str, filename: str = "<string>") -> LoadedSpec:
    """Parse and validate spec text (the UIs and tests use this; files go through :func:`load_spec`)."""
    data, locator = loads(text, filename, SPEC_MAX_BYTES)
    return parse_spec(data, locator, source=text)


def parse_spec(data: Any, locator: Locator, *, source: str | None = None) -> LoadedSpec:
    """Validate already-parsed YAML data; ``source`` (the text) sharpens some messages."""
    if not isinstance(data, dict):
        got = describe_value(data)
        raise InputError(locator.problem((), f"spec must be a mapping (apiVersion, kind, metadata, ...), got {got}"))
    try:
        spec = ClusterSpec.model_validate(data)
    except ValidationError as exc:
        raise InputError(problems_from(exc, locator, ClusterSpec, wording=SpecWording(source))) from None
    return LoadedSpec(spec=spec, locator=locator, source=source or "", file=locator.file)


def spec_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12, by alias) of the spec, for editor completion and checks."""
    schema = ClusterSpec.model_json_schema(by_alias=True, mode="validation")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}
