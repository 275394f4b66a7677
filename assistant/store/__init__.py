"""The run store: runs, their step journal, events, approvals and the audit log.

The engine talks to the :class:`~assistant.store.base.Store` protocol only; SQLite in the
XDG state directory is the default. Another backend (PostgreSQL) plugs in through
:func:`open_store` with a ``postgresql://`` URL without touching the engine.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import InputError
from .base import RunRecord, StepRecord, Store

__all__ = ["RunRecord", "StepRecord", "Store", "default_url", "open_store", "state_dir"]


def state_dir() -> Path:
    """``$EKS_ASSIST_STATE_DIR``, else ``$XDG_STATE_HOME/eks-assist``, else ``~/.local/state/eks-assist``."""
    explicit = os.environ.get("EKS_ASSIST_STATE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(xdg) / "eks-assist"


def default_url() -> str:
    return os.environ.get("EKS_ASSIST_STORE") or f"sqlite:///{state_dir() / 'state.db'}"


def open_store(url: str | None = None) -> Store:
    """Open the store at ``url`` (``sqlite:///path``); defaults to :func:`default_url`."""
    url = url or default_url()
    if url.startswith("sqlite:///"):
        from .sqlite import SQLiteStore

        return SQLiteStore(Path(url.removeprefix("sqlite:///")))
    scheme = url.split(":", 1)[0]
    raise InputError(f"EKS_ASSIST_STORE: unsupported store URL scheme '{scheme}' (supported: sqlite:///PATH)")
