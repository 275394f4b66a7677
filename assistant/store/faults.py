"""What went wrong with the state directory or the store file, in words a user can act on.

Each message names the file, says what is wrong and what to do, and promises only what is true:
eks-assist never deletes, moves, truncates or re-creates a store it cannot read. The user
decides what happens to their file.
"""

from __future__ import annotations

import errno
import os
import shlex
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from ..errors import StoreError

# SQLite's own words for each kind of fault (sqlite3 exposes no error codes before Python 3.11's
# sqlite_errorname, and even then "file is not a database" and "malformed" share SQLITE_CORRUPT/NOTADB).
_LOCKED = ("database is locked", "database table is locked", "database schema is locked")
_CORRUPT = ("file is not a database", "malformed", "file is encrypted", "not a database")
_READ_ONLY = ("readonly database", "read-only")
_FULL = ("database or disk is full",)


@dataclass(frozen=True)
class Location:
    """Where the store is, and which setting chose it (so the advice names the right knob)."""

    path: Path
    setting: str  # "EKS_ASSIST_STORE", "EKS_ASSIST_STATE_DIR", "XDG_STATE_HOME" or "the default"
    timeout: float = 30.0

    @property
    def from_store_url(self) -> bool:
        return self.setting == "EKS_ASSIST_STORE"

    def elsewhere(self) -> str:
        """How to point eks-assist at another place."""
        if self.from_store_url:
            return "point EKS_ASSIST_STORE at another file (sqlite:///PATH), or unset it to use the state directory"
        return "set EKS_ASSIST_STATE_DIR to another directory"


def _q(path: Path | str) -> str:
    return shlex.quote(str(path))


def _blocker(directory: Path) -> Path | None:
    """The nearest ancestor of ``directory`` (or itself) that exists and is not a directory."""
    for candidate in (directory, *directory.parents):
        if candidate.exists() or candidate.is_symlink():
            return None if candidate.is_dir() else candidate
    return None


def _nearest_existing(directory: Path) -> Path:
    for candidate in (directory, *directory.parents):
        if candidate.exists():
            return candidate
    return Path("/")


def directory_fault(exc: OSError, directory: Path, where: Location) -> StoreError:
    """A state directory that is a file, or that cannot be created."""
    chosen = "" if where.setting == "the default" else f" (from {where.setting})"
    noun = "the directory of the store" if where.from_store_url else "the state directory"
    kept = "" if where.from_store_url else " and sandbox state"
    head = f"{noun} {directory}{chosen} cannot be created"
    blocker = _blocker(directory)
    if blocker is not None or isinstance(exc, (FileExistsError, NotADirectoryError)):
        if blocker == directory:
            head, what = f"{noun} {directory}{chosen} cannot be used", "it is a file, not a directory"
        else:
            what = f"{blocker} is a file, not a directory" if blocker is not None else "a file is in the way"
        return StoreError(
            f"{head}: {what}. eks-assist keeps its runs, audit log{kept} there and has not touched "
            f"that file. Move it away, or {where.elsewhere()}."
        )
    if isinstance(exc, PermissionError) or exc.errno in (errno.EACCES, errno.EPERM):
        parent = _nearest_existing(directory)
        return StoreError(
            f"{head}: permission denied in {parent}. Create it as a user who may (mkdir -p -m 700 {_q(directory)}), "
            f"or {where.elsewhere()} you can write."
        )
    return StoreError(f"{head}: {exc.strerror or exc}. Free the space or fix the file system, or {where.elsewhere()}.")


def store_fault(exc: BaseException, where: Location) -> StoreError | None:
    """The :class:`StoreError` for a failure to open or use the store at ``where``, or None if it is not one."""
    path = where.path
    if isinstance(exc, OSError) and not isinstance(exc, sqlite3.Error):
        return directory_fault(exc, path.parent, where)
    if not isinstance(exc, sqlite3.Error):
        return None
    text = str(exc).lower()
    # "<named> is not ...", "<named> stayed locked ...": one subject for every sentence below.
    named = f"EKS_ASSIST_STORE points at {path}, which" if where.from_store_url else f"the state store {path}"
    if any(s in text for s in _LOCKED):
        return StoreError(
            f"{named} stayed locked for {where.timeout:g} s: another process "
            "holds it (another eks-assist, or a tool such as sqlite3 with a transaction open). Nothing was deleted. "
            f"See who has it with: fuser -v {_q(path)}; let it finish or close it, then try again "
            "(EKS_ASSIST_STORE_TIMEOUT sets how many seconds to wait)."
        )
    if any(s in text for s in _CORRUPT):
        if where.from_store_url:
            return StoreError(
                f"{named} is not a readable SQLite database ({exc}). eks-assist has not changed it. "
                f"Point EKS_ASSIST_STORE at an eks-assist store or at a new file (sqlite:///PATH), or unset it."
            )
        return StoreError(
            f"{named} is not a readable SQLite database ({exc}); it may be damaged. eks-assist has not changed it. "
            f"To start a new store, move it aside: mv {_q(path)} {_q(str(path) + '.broken')}. Its runs and audit "
            f"log stay in the moved file (sqlite3 {_q(str(path) + '.broken')} .recover may salvage them)."
        )
    if path.is_dir():
        advice = where.elsewhere() if where.from_store_url else f"move it away, or {where.elsewhere()}"
        return StoreError(f"{named} is a directory, not a database file. Nothing in it was touched; {advice}.")
    if any(s in text for s in _READ_ONLY) or (path.exists() and not os.access(path, os.R_OK | os.W_OK)):
        return StoreError(
            f"{named} is read-only to this user (file permissions or a read-only file system), and eks-assist "
            f"records every run there. Make it writable (chmod u+rw {_q(path)}), or {where.elsewhere()}."
        )
    if any(s in text for s in _FULL):
        return StoreError(f"the state store {path} cannot grow: the disk is full. Free some space and try again.")
    return StoreError(f"the state store {path} cannot be used: {exc}. Nothing was deleted. Check it, or {where.elsewhere()}.")
