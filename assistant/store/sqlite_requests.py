"""Change requests, their approvals and cluster locks in SQLite.

Every state change that must happen once (a quorum reached, an apply claimed, a lock taken)
is a single conditional UPDATE or INSERT inside ``BEGIN IMMEDIATE``, so two processes or
threads racing on the same request see exactly one winner.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from typing import Any

REQUESTS_SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
    id TEXT PRIMARY KEY, cluster TEXT NOT NULL, kind TEXT NOT NULL, playbook TEXT NOT NULL,
    spec_file TEXT NOT NULL, spec_source TEXT NOT NULL, plan_hash TEXT NOT NULL, plan TEXT NOT NULL,
    plan_text TEXT NOT NULL, summary TEXT NOT NULL, changes TEXT NOT NULL, warnings TEXT NOT NULL,
    account TEXT NOT NULL, region TEXT NOT NULL, requester TEXT NOT NULL, environment TEXT NOT NULL,
    required_approvals INTEGER NOT NULL, status TEXT NOT NULL, created_at REAL NOT NULL, expires_at REAL NOT NULL,
    decided_by TEXT NOT NULL DEFAULT '', decided_at REAL, reason TEXT NOT NULL DEFAULT '',
    executor TEXT NOT NULL, origin TEXT NOT NULL DEFAULT '{}', resume_of TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS request_approvals (
    request_id TEXT NOT NULL, approver TEXT NOT NULL, at REAL NOT NULL, PRIMARY KEY (request_id, approver)
);
CREATE TABLE IF NOT EXISTS locks (
    account TEXT NOT NULL, region TEXT NOT NULL, cluster TEXT NOT NULL, holder TEXT NOT NULL,
    owner TEXT NOT NULL, since REAL NOT NULL, pid INTEGER, host TEXT NOT NULL DEFAULT '', expires_at REAL,
    PRIMARY KEY (account, region, cluster)
);
"""

_REQUEST_JSON = ("plan", "summary", "changes", "warnings", "origin")


class RequestTables:
    """Mixin for :class:`~assistant.store.sqlite.SQLiteStore`: the request and lock tables."""

    _db: sqlite3.Connection
    _lock: threading.RLock

    def _tx(self) -> _Tx:
        return _Tx(self._db, self._lock)

    # -- requests --------------------------------------------------------------------
    def create_request(self, rec: dict[str, Any]) -> None:
        d = {k: (json.dumps(v, sort_keys=True, default=str) if k in _REQUEST_JSON else v) for k, v in rec.items()}
        with self._tx() as db:
            db.execute(f"INSERT INTO requests ({','.join(d)}) VALUES ({','.join('?' * len(d))})", tuple(d.values()))

    def _request_row(self, db: sqlite3.Connection, request_id: str) -> dict[str, Any] | None:
        row = db.execute("SELECT * FROM requests WHERE id=?", (request_id,)).fetchone()
        if row is None:
            return None
        d = dict(row)
        for k in _REQUEST_JSON:
            d[k] = json.loads(d[k])
        d["approvals"] = [
            {"approver": r["approver"], "at": r["at"]}
            for r in db.execute("SELECT approver, at FROM request_approvals WHERE request_id=? ORDER BY at", (request_id,))
        ]
        return d

    def get_request(self, request_id: str) -> dict[str, Any] | None:
        with self._lock:
            return self._request_row(self._db, request_id)

    def list_requests(self, limit: int = 50, status: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            if status:
                ids = self._db.execute(
                    "SELECT id FROM requests WHERE status=? ORDER BY created_at DESC LIMIT ?", (status, limit)
                ).fetchall()
            else:
                ids = self._db.execute("SELECT id FROM requests ORDER BY created_at DESC LIMIT ?", (limit,)).fetchall()
            return [r for r in (self._request_row(self._db, i["id"]) for i in ids) if r is not None]

    def update_request(self, request_id: str, **fields: Any) -> None:
        for k in set(fields) & set(_REQUEST_JSON):
            fields[k] = json.dumps(fields[k], sort_keys=True, default=str)
        sets = ",".join(f"{k}=?" for k in fields)
        with self._tx() as db:
            db.execute(f"UPDATE requests SET {sets} WHERE id=?", (*fields.values(), request_id))

    def transition_request(self, request_id: str, from_status: tuple[str, ...], to_status: str, **fields: Any) -> bool:
        """Move a request from one of ``from_status`` to ``to_status``; False if it was not in one of them."""
        sets = ",".join(["status=?", *(f"{k}=?" for k in fields)])
        marks = ",".join("?" * len(from_status))
        with self._tx() as db:
            cur = db.execute(
                f"UPDATE requests SET {sets} WHERE id=? AND status IN ({marks})",
                (to_status, *fields.values(), request_id, *from_status),
            )
            return cur.rowcount == 1

    def add_request_approval(self, request_id: str, approver: str, at: float) -> tuple[str, int]:
        """Record one approval; returns (outcome, approvals so far).

        outcome: ``approved`` (this approval reached the quorum and moved the request to
        approved), ``recorded`` (more are needed), ``duplicate`` (this approver already
        approved), or ``not-pending`` (the request was decided, expired or is gone).
        """
        with self._tx() as db:
            row = db.execute("SELECT status, required_approvals FROM requests WHERE id=?", (request_id,)).fetchone()
            if row is None or row["status"] != "pending":
                return "not-pending", 0
            cur = db.execute(
                "INSERT OR IGNORE INTO request_approvals (request_id, approver, at) VALUES (?,?,?)", (request_id, approver, at)
            )
            count = db.execute("SELECT COUNT(*) FROM request_approvals WHERE request_id=?", (request_id,)).fetchone()[0]
            if cur.rowcount == 0:
                return "duplicate", count
            if count >= row["required_approvals"]:
                db.execute(
                    "UPDATE requests SET status='approved', decided_by=?, decided_at=? WHERE id=? AND status='pending'",
                    (approver, at, request_id),
                )
                return "approved", count
            return "recorded", count

    # -- locks -----------------------------------------------------------------------
    def acquire_lock(self, key: tuple[str, str, str], holder: str, owner: str, now: float, **extra: Any) -> dict[str, Any]:
        """Take the lock on ``key`` (account, region, cluster) for ``holder``, or return who holds it.

        ``extra``: ``pid``, ``host`` and ``expires_at`` of the new holder. A lock whose holder
        is ``stale`` (decided by the caller through ``extra['stale']``) is taken over.
        """
        stale = extra.pop("stale", None)
        with self._tx() as db:
            row = db.execute("SELECT * FROM locks WHERE account=? AND region=? AND cluster=?", key).fetchone()
            if row is not None and row["holder"] != holder and not (stale and stale(dict(row))):
                return dict(row)
            if row is not None and row["holder"] == holder:
                # Re-taken by its own holder (a request's apply starting): keep 'since', refresh the rest.
                now, owner = row["since"], row["owner"]
            db.execute(
                "INSERT OR REPLACE INTO locks (account, region, cluster, holder, owner, since, pid, host, expires_at) "
                "VALUES (?,?,?,?,?,?,?,?,?)",
                (*key, holder, owner, now, extra.get("pid"), extra.get("host", ""), extra.get("expires_at")),
            )
            return {"account": key[0], "region": key[1], "cluster": key[2], "holder": holder, "owner": owner, "since": now}

    def update_lock(self, holder: str, **fields: Any) -> None:
        sets = ",".join(f"{k}=?" for k in fields)
        with self._tx() as db:
            db.execute(f"UPDATE locks SET {sets} WHERE holder=?", (*fields.values(), holder))

    def release_lock(self, key: tuple[str, str, str], holder: str | None = None) -> dict[str, Any] | None:
        """Drop the lock on ``key`` (only if ``holder`` holds it, when given); returns the dropped row."""
        with self._tx() as db:
            row = db.execute("SELECT * FROM locks WHERE account=? AND region=? AND cluster=?", key).fetchone()
            if row is None or (holder is not None and row["holder"] != holder):
                return None
            db.execute("DELETE FROM locks WHERE account=? AND region=? AND cluster=?", key)
            return dict(row)

    def list_locks(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(r) for r in self._db.execute("SELECT * FROM locks ORDER BY since")]


class _Tx:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` (or ``ROLLBACK`` on any error) under the store's lock."""

    def __init__(self, db: sqlite3.Connection, lock: threading.RLock) -> None:
        self.db = db
        self.lock = lock

    def __enter__(self) -> sqlite3.Connection:
        self.lock.acquire()
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except BaseException:
            self.lock.release()
            raise
        return self.db

    def __exit__(self, exc_type: object, *_: object) -> None:
        try:
            self.db.execute("ROLLBACK" if exc_type else "COMMIT")
        finally:
            self.lock.release()
