"""The wizard's state: one spec dict, shaped exactly like the YAML spec, that every screen edits.

Keeping the state as the spec itself (camelCase keys, as ``eks-assist -f`` reads it) means a
loaded file round-trips whole, fields the wizard has no widget for included, and validation
is the CLI's own: :func:`assistant.spec.parse_spec` on this dict, with the same messages.
Problems are sorted to the screen that owns their path (``metadata``/``masters`` → Masters,
``workers`` → Workers, and so on).

Every node group and IAM mapping is written the same way, whether it came from a file or
from an editor: the spec model's defaults (``amiType``, ``capacityType``, ``scaling``,
``diskSize``, ``via``, a policy's ``scope``) are filled in where an entry says nothing, and
empty optional lists and maps are left out (:func:`uniform`).
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from assistant.errors import InputError, Problem
from assistant.spec import (
    API_VERSION,
    DEFAULT_VERSION,
    AccessPolicy,
    IamMapping,
    LoadedSpec,
    NodeGroup,
    load_spec,
    loads_spec,
    parse_spec,
)
from assistant.spec.source import Locator

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


def model_defaults(model: type[BaseModel]) -> dict[str, Any]:
    """The values ``model`` fills in for an entry that leaves them out, by their YAML names.

    Empty lists and maps and ``None`` (an unset option) are not listed: entries leave those out.
    """
    out: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        if field.is_required():
            continue
        value = field.get_default(call_default_factory=True)
        if isinstance(value, BaseModel):
            value = value.model_dump(by_alias=True)
        if value not in (None, [], {}):
            out[field.alias or name] = value
    return out


def uniform(entry: Any, model: type[BaseModel]) -> Any:
    """``entry`` written like every other of its kind: in the model's field order, its defaults
    filled in, its empty optional lists and maps (and unset options) left out.

    Anything that is not a mapping is returned as it is (the spec model says what is wrong with it).
    """
    if not isinstance(entry, dict):
        return entry
    defaults = model_defaults(model)
    out: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        key = field.alias or name
        if key in entry:
            value = entry[key]
            # Left out only where leaving it out means the same (an empty list whose default is
            # empty); "scaling: {}" stays, for the spec model to refuse.
            if value in (None, [], {}) and not field.is_required() and key not in defaults:
                continue
            if model is IamMapping and key == "accessPolicies" and isinstance(value, list):
                value = [uniform(p, AccessPolicy) for p in value]
            out[key] = value
        elif key in defaults:
            out[key] = copy.deepcopy(defaults[key])
    out.update({k: v for k, v in entry.items() if k not in out and k not in _field_keys(model)})
    return out


def _field_keys(model: type[BaseModel]) -> set[str]:
    return {field.alias or name for name, field in model.model_fields.items()}


def new_nodegroup() -> dict[str, Any]:
    """A node group for the editor to start from: no name or types yet, the model's defaults."""
    return uniform({"name": "", "instanceTypes": []}, NodeGroup)


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
        """The spec as YAML, in the usual key order (what ``Save`` writes); it reads back as the same spec."""
        return yaml.dump(_ordered(self.spec), Dumper=_SpecDumper, sort_keys=False, default_flow_style=False, allow_unicode=True)

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
            from assistant.network.capacity import spec_problems

            found = spec_problems(loaded)
        return [p for p in found if section is None or section_of(p) == section]

    def loaded(self) -> LoadedSpec:
        """The spec parsed from its YAML text, as the engine journals it (raises :class:`InputError`)."""
        return loads_spec(self.to_yaml(), self.saved_to or self.file or f"{self.name or 'cluster'}.yaml")


def _data_of(loaded: LoadedSpec) -> dict[str, Any]:
    from assistant.spec.source import loads

    data, _ = loads(loaded.source, loaded.file)
    return dict(data)


def _ordered(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec in the usual key order, its node groups and mappings each written the same way."""
    out = {k: spec[k] for k in _KEY_ORDER if k in spec}
    out.update({k: v for k, v in spec.items() if k not in out})
    for key, model in (("workers", NodeGroup), ("iamMappings", IamMapping)):
        if isinstance(out.get(key), list):
            out[key] = [uniform(entry, model) for entry in out[key]]
    return out


# YAML line breaks besides \n and \r. PyYAML, told allow_unicode, writes them raw inside a
# quoted scalar, where a reader folds them into a space: NEL ("\x85") came back as " ".
_BREAKS = ("\x85", "\u2028", "\u2029")


class _SpecDumper(yaml.SafeDumper):
    """PyYAML's safe dumper, except that a string holding a YAML line break is double-quoted,
    where the break is written as an escape (``\\N``, ``\\L``, ``\\P``) and reads back as itself.
    """

    def analyze_scalar(self, scalar: str) -> Any:
        analysis = super().analyze_scalar(scalar)
        if any(ch in scalar for ch in _BREAKS):
            analysis.allow_flow_plain = analysis.allow_block_plain = False
            analysis.allow_single_quoted = analysis.allow_block = False
        return analysis


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
    "model_defaults",
    "new_nodegroup",
    "new_spec",
    "number_or_text",
    "path_within",
    "section_of",
    "set_path",
    "split_list",
    "uniform",
]
