"""The wizard's state: one spec dict, shaped exactly like the YAML spec, that every screen edits.

Keeping the state as the spec itself (camelCase keys, as ``eks-assist -f`` reads it) means a
loaded file round-trips whole, fields the wizard has no widget for included, and validation
is the CLI's own: :func:`assistant.spec.parse_spec` on this dict, with the same messages.
Problems are sorted to the screen that owns their path (``metadata``/``masters`` → Masters,
``workers`` → Workers, and so on).
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import yaml

from assistant.errors import InputError, Problem
from assistant.spec import API_VERSION, DEFAULT_VERSION, LoadedSpec, load_spec, loads_spec, parse_spec
from assistant.yamlsrc import Locator

SECTIONS = ("masters", "workers", "cni", "iam", "kubeconfig")
_SECTION_OF_ROOT = {
    "apiVersion": "masters",
    "kind": "masters",
    "metadata": "masters",
    "masters": "masters",
    "workers": "workers",
    "cni": "cni",
    "iamMappings": "iam",
    "kubeconfig": "kubeconfig",
}
_KEY_ORDER = ("apiVersion", "kind", "metadata", "masters", "workers", "cni", "iamMappings", "kubeconfig")
WIZARD_FILE = "<wizard>"


def new_spec(region: str, name: str = "") -> dict[str, Any]:
    """A fresh spec with the same defaults the CLI's spec model fills in."""
    return {
        "apiVersion": API_VERSION,
        "kind": "Cluster",
        "metadata": {"name": name, "region": region},
        "masters": {
            "version": DEFAULT_VERSION,
            "vpc": {"create": {"cidr": "10.0.0.0/16", "azCount": 2}},
            "endpoint": {"publicAccess": True, "privateAccess": False},
            "logging": [],
            "authenticationMode": "API_AND_CONFIG_MAP",
        },
        "workers": [],
        "cni": {"prefixDelegation": False},
        "iamMappings": [],
        "kubeconfig": {"write": True, "exec": "builtin"},
    }


def section_of(problem: Problem) -> str:
    """Which screen owns a problem, by the first part of its path."""
    root = re.split(r"[.\[]", problem.path or "", maxsplit=1)[0]
    return _SECTION_OF_ROOT.get(root, "masters")


def path_within(path: str | None, prefix: str) -> bool:
    """True if ``path`` is ``prefix`` or lies under it (``workers[0].name`` is within ``workers[0]``)."""
    if path is None:
        return prefix == ""
    return path == prefix or path.startswith(prefix + ".") or path.startswith(prefix + "[") or prefix == ""


def get_path(data: Any, *keys: str | int, default: Any = None) -> Any:
    """``data[k1][k2]...``, or ``default`` when any part is missing."""
    for k in keys:
        try:
            data = data[k]
        except (KeyError, IndexError, TypeError):
            return default
    return data


def set_path(data: dict[str, Any], *keys: str, value: Any) -> None:
    """Set ``data[k1][k2]... = value``, creating mappings on the way; ``None`` removes the key."""
    for k in keys[:-1]:
        data = data.setdefault(k, {})
    if value is None:
        data.pop(keys[-1], None)
    else:
        data[keys[-1]] = value


def split_list(text: str) -> list[str]:
    """``"a, b c"`` → ``["a", "b", "c"]``: comma- or space-separated entries."""
    return [p for p in re.split(r"[,\s]+", text.strip()) if p]


def number_or_text(text: str) -> int | str | None:
    """An int when ``text`` is one, else the text itself (the spec model then says what is wrong); ``None`` when empty."""
    text = text.strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        return text


class WizardState:
    """The spec being built, where it came from, and its validation against the CLI's spec model."""

    def __init__(self, spec: dict[str, Any], file: str | None = None) -> None:
        self.spec = spec
        self.file = file
        self.saved_to: str | None = file

    @classmethod
    def from_file(cls, path: str) -> WizardState:
        """Load a spec file; raises :class:`InputError` with ``file:line:col`` problems like the CLI."""
        loaded = load_spec(path)
        data = _data_of(loaded)
        # Defaults under what the file says, one level deep (a file's vpc or endpoint replaces ours
        # whole): the same spec to the engine, and every screen has a value to show.
        spec = new_spec(loaded.spec.metadata.region)
        for key, value in data.items():
            spec[key] = {**spec[key], **value} if isinstance(spec.get(key), dict) and isinstance(value, dict) else value
        return cls(_ordered(copy.deepcopy(spec)), file=path)

    @property
    def name(self) -> str:
        return str(get_path(self.spec, "metadata", "name", default="") or "")

    @property
    def region(self) -> str:
        return str(get_path(self.spec, "metadata", "region", default="") or "")

    def to_yaml(self) -> str:
        """The spec as YAML, in the usual key order (what ``Save`` writes)."""
        return yaml.safe_dump(_ordered(self.spec), sort_keys=False, default_flow_style=False, allow_unicode=True)

    def save(self, path: str) -> Path:
        """Write the spec as YAML to ``path``; returns the resolved path."""
        p = Path(path).expanduser()
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(self.to_yaml(), encoding="utf-8")
        self.saved_to = str(p)
        return p

    def problems(self, section: str | None = None) -> list[Problem]:
        """Everything the CLI would refuse in this spec (static checks), optionally for one screen."""
        try:
            loaded = parse_spec(copy.deepcopy(self.spec), Locator(WIZARD_FILE))
        except InputError as exc:
            found = exc.problems
        else:
            from assistant.capacity import spec_problems

            found = spec_problems(loaded)
        return [p for p in found if section is None or section_of(p) == section]

    def loaded(self) -> LoadedSpec:
        """The spec parsed from its YAML text, as the engine journals it (raises :class:`InputError`)."""
        return loads_spec(self.to_yaml(), self.saved_to or self.file or f"{self.name or 'cluster'}.yaml")


def _data_of(loaded: LoadedSpec) -> dict[str, Any]:
    from assistant.yamlsrc import loads

    data, _ = loads(loaded.source, loaded.file)
    return dict(data)


def _ordered(spec: dict[str, Any]) -> dict[str, Any]:
    out = {k: spec[k] for k in _KEY_ORDER if k in spec}
    out.update({k: v for k, v in spec.items() if k not in out})
    return out


def describe_problem(problem: Problem, strip: str = "") -> str:
    """``field: message`` for display beside a form, with ``strip`` (a path prefix) removed."""
    path = problem.path or ""
    if strip and path_within(path, strip):
        path = path[len(strip) :].lstrip(".")
    return f"{path}: {problem.message}" if path else problem.message


__all__ = [
    "SECTIONS",
    "WIZARD_FILE",
    "WizardState",
    "describe_problem",
    "get_path",
    "new_spec",
    "number_or_text",
    "path_within",
    "section_of",
    "set_path",
    "split_list",
]
