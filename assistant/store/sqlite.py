"""SQLite store: one file, WAL mode, a transaction per write so a killed process never
leaves a half-written journal entry."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from .base import RunRecord, StepRecord
from .sqlite_requests import REQUESTS_SCHEMA, RequestTables

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, status TEXT NOT NULL, playbook TEXT NOT NULL,
    spec_file TEXT NOT NULL, spec_source TEXT NOT NULL, plan TEXT NOT NULL, plan_hash TEXT NOT NULL,
    account TEXT NOT NULL, region TEXT NOT NULL, profile TEXT, created_at REAL NOT NULL,
    updated_at REAL NOT NULL, pid INTEGER, error TEXT NOT NULL DEFAULT '', outputs TEXT NOT NULL DEFAULT '{}',
    approver TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS steps (
    run_id TEXT NOT NULL, step TEXT NOT NULL, status TEXT NOT NULL, op TEXT NOT NULL DEFAULT '',
    started_at REAL, finished_at REAL, outputs TEXT NOT NULL DEFAULT '{}', error TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (run_id, step)
);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, ts REAL NOT NULL, kind TEXT NOT NULL,
    step TEXT NOT NULL, message TEXT NOT NULL, data TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS approvals (
    id INTEGER PRIMARY KEY AUTOINCREMENT, plan_hash TEXT NOT NULL, run_id TEXT NOT NULL,
    approver TEXT NOT NULL, method TEXT NOT NULL, created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT, ts REAL NOT NULL, event TEXT NOT NULL, run_id TEXT NOT NULL,
    actor TEXT NOT NULL, plan_hash TEXT NOT NULL, data TEXT NOT NULL DEFAULT '{}'
);
CREATE TRIGGER IF NOT EXISTS audit_append_only_u BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_append_only_d BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
"""

_RUN_JSON = {"plan", "outputs"}


class SQLiteStore(RequestTables):
    """The default :class:`~assistant.store.base.Store`."""

    def __init__(self, path: Path, timeout: float = 30.0) -> None:
        """Open (or create) the store at ``path``, waiting up to ``timeout`` seconds for other writers."""
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.path = path
        self._lock = threading.RLock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=timeout, isolation_level=None)
        try:
            self._db.row_factory = sqlite3.Row
            # Reads the header first: a file that is not a database fails here, before anything is written.
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
            with self._lock:
                self._db.executescript(SCHEMA + REQUESTS_SCHEMA)
        except BaseException:
            self._db.close()
            raise
        with contextlib.suppress(OSError):
            path.chmod(0o600)

    def _write(self, sql: str, args: tuple[Any, ...]) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(sql, args)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def _query(self, sql: str, args: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return list(self._db.execute(sql, args))

    @staticmethod
    def _run(row: sqlite3.Row) -> RunRecord:
        d = dict(row)
        for k in _RUN_JSON:
            d[k] = json.loads(d[k])
        return RunRecord(**d)

    def create_run(self, run: RunRecord) -> None:
        d = run.__dict__.copy()
        for k in _RUN_JSON:
            d[k] = json.dumps(d[k], sort_keys=True)
        cols = ",".join(d)
        self._write(f"INSERT INTO runs ({cols}) VALUES ({','.join('?' * len(d))})", tuple(d.values()))

    def update_run(self, run_id: str, **fields: Any) -> None:
        fields["updated_at"] = time.time()
        for k in _RUN_JSON & set(fields):
            fields[k] = json.dumps(fields[k], sort_keys=True)
        sets = ",".join(f"{k}=?" for k in fields)
        self._write(f"UPDATE runs SET {sets} WHERE id=?", (*fields.values(), run_id))

    def get_run(self, run_id: str) -> RunRecord | None:
        rows = self._query("SELECT * FROM runs WHERE id=?", (run_id,))
        return self._run(rows[0]) if rows else None

    def find_runs(self, prefix: str) -> list[RunRecord]:
        if not prefix:
            return []
        # A plain prefix comparison: LIKE would read "_" and "%" in user input as wildcards.
        rows = self._query("SELECT * FROM runs WHERE substr(id, 1, length(?)) = ? ORDER BY created_at DESC", (prefix, prefix))
        return [self._run(r) for r in rows]

    def list_runs(self, limit: int = 50) -> list[RunRecord]:
        return [self._run(r) for r in self._query("SELECT * FROM runs ORDER BY created_at DESC LIMIT ?", (limit,))]

    def record_step(self, rec: StepRecord) -> None:
        self._write(
            "INSERT INTO steps (run_id, step, status, op, started_at, finished_at, outputs, error) "
            "VALUES (?,?,?,?,?,?,?,?) ON CONFLICT(run_id, step) DO UPDATE SET status=excluded.status, "
            "op=excluded.op, started_at=COALESCE(steps.started_at, excluded.started_at), "
            "finished_at=excluded.finished_at, outputs=excluded.outputs, error=excluded.error",
            (
                rec.run_id,
                rec.step,
                rec.status,
                rec.op,
                rec.started_at,
                rec.finished_at,
                json.dumps(rec.outputs, sort_keys=True, default=str),
                rec.error,
            ),
        )

    def steps(self, run_id: str) -> list[StepRecord]:
        rows = self._query("SELECT * FROM steps WHERE run_id=? ORDER BY COALESCE(started_at, 1e18), step", (run_id,))
        out = []
        for r in rows:
            d = dict(r)
            d["outputs"] = json.loads(d["outputs"])
            out.append(StepRecord(**d))
        return out

    def add_event(self, run_id: str, kind: str, step: str, message: str, data: dict[str, Any] | None = None) -> None:
        self._write(
            "INSERT INTO events (run_id, ts, kind, step, message, data) VALUES (?,?,?,?,?,?)",
            (run_id, time.time(), kind, step, message, json.dumps(data or {}, sort_keys=True, default=str)),
        )

    def events(self, run_id: str) -> list[dict[str, Any]]:
        rows = self._query("SELECT * FROM events WHERE run_id=? ORDER BY id", (run_id,))
        return [{**dict(r), "data": json.loads(r["data"])} for r in rows]

    def record_approval(self, plan_hash: str, run_id: str, approver: str, method: str) -> None:
        self._write(
            "INSERT INTO approvals (plan_hash, run_id, approver, method, created_at) VALUES (?,?,?,?,?)",
            (plan_hash, run_id, approver, method, time.time()),
        )

    def audit(self, event: str, run_id: str, actor: str, plan_hash: str, data: dict[str, Any] | None = None) -> None:
        self._write(
            "INSERT INTO audit (ts, event, run_id, actor, plan_hash, data) VALUES (?,?,?,?,?,?)",
            (time.time(), event, run_id, actor, plan_hash, json.dumps(data or {}, sort_keys=True, default=str)),
        )

    def audit_log(self, limit: int = 200) -> list[dict[str, Any]]:
        rows = self._query("SELECT * FROM audit ORDER BY id DESC LIMIT ?", (limit,))
        return [{**dict(r), "data": json.loads(r["data"])} for r in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()
