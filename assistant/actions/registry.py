"""The action registry: name → action class, with a clear error listing the valid names."""

from __future__ import annotations

import difflib
import importlib
from typing import Any

from .base import Action

_REGISTRY: dict[str, type[Action]] = {}

# Every module in these packages defines one action; they are found, not listed, so adding
# an action is adding a module.
_PACKAGES = ("assistant.actions.aws", "assistant.actions.k8s", "assistant.actions.local")
_HELPERS = {"ec2_common", "common"}
_loaded = False


def register(cls: type[Action]) -> type[Action]:
    """Class decorator: add an action to the registry under ``cls.name``."""
    if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
        raise RuntimeError(f"action {cls.name!r} registered twice")
    _REGISTRY[cls.name] = cls
    return cls


def _load_builtins() -> None:
    global _loaded
    if not _loaded:
        import pkgutil

        for pkg_name in _PACKAGES:
            try:
                pkg = importlib.import_module(pkg_name)
            except ModuleNotFoundError:
                continue
            for info in pkgutil.iter_modules(pkg.__path__):
                if not info.name.startswith("_") and info.name not in _HELPERS:
                    importlib.import_module(f"{pkg_name}.{info.name}")
        _loaded = True


def names() -> list[str]:
    """All registered action names, sorted."""
    _load_builtins()
    return sorted(_REGISTRY)


def unknown_action_message(name: str) -> str:
    valid = names()
    close = difflib.get_close_matches(name, valid, n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return f"unknown action '{name}'{hint} Valid actions: {', '.join(valid)}"


def get(name: str) -> type[Action]:
    """The action class for ``name``; KeyError with the valid names if there is none."""
    _load_builtins()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(unknown_action_message(name)) from None


def catalogue() -> list[dict[str, Any]]:
    """Every action with its summary, argument JSON Schema and IAM permissions."""
    _load_builtins()
    return [
        {
            "name": n,
            "summary": cls.summary,
            "permissions": list(cls.permissions),
            "args": cls.Args.model_json_schema(by_alias=True),
        }
        for n, cls in sorted(_REGISTRY.items())
    ]
