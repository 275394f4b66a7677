"""The run store: runs, their step journal, events, approvals and the audit log.

The engine talks to the :class:`~assistant.store.base.Store` protocol only; SQLite in the
XDG state directory is the default. Another backend (PostgreSQL) plugs in through
:func:`open_store` with a ``postgresql://`` URL without touching the engine.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import InputError, StoreError
from .base import RunRecord, StepRecord, Store
from .faults import Location, directory_fault, store_fault

__all__ = [
    "RunRecord",
    "StepRecord",
    "Store",
    "StoreError",
    "default_url",
    "ensure_state_dir",
    "explain_fault",
    "open_store",
    "state_dir",
]

# How long a command waits for a store another process holds before it says so.
DEFAULT_TIMEOUT = 30.0


def _state_dir_setting() -> str:
    if os.environ.get("EKS_ASSIST_STATE_DIR"):
        return "EKS_ASSIST_STATE_DIR"
    return "XDG_STATE_HOME" if os.environ.get("XDG_STATE_HOME") else "the default"


def state_dir() -> Path:
    """``$EKS_ASSIST_STATE_DIR``, else ``$XDG_STATE_HOME/eks-assist``, else ``~/.local/state/eks-assist``."""
    explicit = os.environ.get("EKS_ASSIST_STATE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(xdg) / "eks-assist"


def ensure_state_dir(directory: Path | None = None) -> Path:
    """Create the state directory (mode 0700) if needed; :class:`StoreError` saying why it cannot be.

    The sandbox's state file and CA, and the store by default, live there.
    """
    directory = directory or state_dir()
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise directory_fault(exc, directory, Location(directory / "state.db", _state_dir_setting())) from None
    return directory


def default_url() -> str:
    """``$EKS_ASSIST_STORE``, else ``state.db`` in :func:`state_dir`."""
    return os.environ.get("EKS_ASSIST_STORE") or f"sqlite:///{state_dir() / 'state.db'}"


def store_timeout() -> float:
    """``$EKS_ASSIST_STORE_TIMEOUT`` seconds (default 30) to wait for a store another process holds."""
    raw = os.environ.get("EKS_ASSIST_STORE_TIMEOUT")
    if not raw:
        return DEFAULT_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 3600:  # also refuses nan
        raise InputError(f"EKS_ASSIST_STORE_TIMEOUT: {raw[:40]!r} is not a number of seconds between 0 and 3600")
    return value


def _location(url: str) -> Location:
    explicit = bool(os.environ.get("EKS_ASSIST_STORE")) and url == os.environ.get("EKS_ASSIST_STORE")
    setting = "EKS_ASSIST_STORE" if explicit else _state_dir_setting()
    return Location(Path(url.removeprefix("sqlite:///")), setting, store_timeout())


def open_store(url: str | None = None) -> Store:
    """Open the store at ``url`` (``sqlite:///path``); defaults to :func:`default_url`.

    A store that cannot be used raises :class:`StoreError` naming the file, what is wrong and
    what to do. A file that is not a database is never written to, moved or re-created.
    """
    import sqlite3

    url = url or default_url()
    if not url.startswith("sqlite:///"):
        scheme = url.split(":", 1)[0]
        raise InputError(f"EKS_ASSIST_STORE: unsupported store URL scheme '{scheme}' (supported: sqlite:///PATH)")
    where = _location(url)
    if where.setting != "EKS_ASSIST_STORE":
        ensure_state_dir(where.path.parent)
    from .sqlite import SQLiteStore

    try:
        return SQLiteStore(where.path, timeout=where.timeout)
    except (sqlite3.Error, OSError) as exc:
        raise (store_fault(exc, where) or exc) from None


def explain_fault(exc: BaseException, url: str | None = None) -> StoreError | None:
    """A :class:`StoreError` for an error the store at ``url`` (default: this process's) raised while in use, else None."""
    if type(exc).__module__ != "sqlite3":
        return None
    url = url or default_url()
    if not url.startswith("sqlite:///"):
        return None
    try:
        where = _location(url)
    except InputError:
        where = Location(Path(url.removeprefix("sqlite:///")), "EKS_ASSIST_STORE")
    return store_fault(exc, where)
