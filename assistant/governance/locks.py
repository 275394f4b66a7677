"""Cluster locks: one change at a time per (account, region, cluster).

A change request holds its cluster's lock from the moment it is posted for approval until it
is decided and, if approved, applied. A plain CLI or wizard apply holds it for the apply.
Anyone else planning or applying a change to that cluster is refused with the holder's name,
and an admin can release a lock that is stuck. A lock is stale, and taken over, when its
holder process on this host is gone or its pending request has expired.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from assistant.errors import ApprovalError
from assistant.store import Store

LockKey = tuple[str, str, str]  # account, region, cluster


class ClusterLocked(ApprovalError):
    """Another change holds this cluster's lock (exit 3)."""

    def __init__(self, lock: Lock) -> None:
        self.lock = lock
        since = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(lock.since))
        super().__init__(
            f"cluster '{lock.cluster}' ({lock.account}/{lock.region}) is locked by {lock.holder} "
            f"(requested by {lock.owner}, since {since}); wait for it to finish, or have an admin release it "
            f"(eks-assist locks release {lock.cluster} --region {lock.region})"
        )


@dataclass(frozen=True)
class Lock:
    """Who holds a cluster's lock, and since when."""

    account: str
    region: str
    cluster: str
    holder: str  # a run id or change request id
    owner: str  # the person behind it
    since: float
    pid: int | None = None
    host: str = ""
    expires_at: float | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Lock:
        return cls(**{k: row.get(k) for k in cls.__dataclass_fields__ if k in row})  # type: ignore[arg-type]

    @property
    def key(self) -> LockKey:
        return (self.account, self.region, self.cluster)


def pid_alive(pid: int) -> bool:
    """True if a process with this id exists on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _stale_at(now: float) -> Callable[[dict[str, Any]], bool]:
    def stale(row: dict[str, Any]) -> bool:
        if row.get("expires_at") is not None and row["expires_at"] < now:
            return True
        pid = row.get("pid")
        return bool(pid and row.get("host") == socket.gethostname() and not pid_alive(int(pid)))

    return stale


def acquire(
    store: Store,
    key: LockKey,
    holder: str,
    owner: str,
    *,
    pid: int | None = None,
    expires_at: float | None = None,
    now: float | None = None,
    wait: float = 0.0,
) -> Lock:
    """Take ``key`` for ``holder`` (or refresh it if ``holder`` has it); ClusterLocked if someone else does.

    ``wait`` seconds (like Terraform's ``-lock-timeout``) keeps trying while another holder
    has it, then gives up with ClusterLocked naming that holder.
    """
    deadline = time.monotonic() + max(0.0, wait)
    pause = 0.05
    while True:
        at = time.time() if now is None else now
        row = store.acquire_lock(
            key, holder, owner, at, pid=pid, host=socket.gethostname() if pid else "", expires_at=expires_at, stale=_stale_at(at)
        )
        lock = Lock.from_row(row)
        if lock.holder == holder:
            return lock
        left = deadline - time.monotonic()
        if left <= 0:
            raise ClusterLocked(lock)
        time.sleep(min(pause, left))
        pause = min(pause * 2, 1.0)


def release(store: Store, key: LockKey, holder: str | None = None) -> Lock | None:
    """Drop the lock (only ``holder``'s, when given); returns what was released."""
    row = store.release_lock(key, holder)
    return Lock.from_row(row) if row else None


def held(store: Store) -> list[Lock]:
    """Every lock, oldest first (stale ones included, marked by their pid/expiry)."""
    return [Lock.from_row(r) for r in store.list_locks()]
