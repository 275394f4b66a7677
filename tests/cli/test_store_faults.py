"""Store and state-directory faults: which file, what is wrong, what to do, and nothing lost (field report 10).

Every verb that opens the store is run through the real ``main()``. None of these needs AWS:
the store is opened before the first AWS call, so no sandbox is involved. Before the fix each
of them said "internal error ... please report it".
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.governance import locks
from assistant.store import open_store

from ..conftest import EXAMPLES
from .conftest import CliRunner

DEMO = str(EXAMPLES / "demo.yaml")

# Every verb that opens the store, with arguments that get it that far and no further.
STORE_VERBS = [
    ("runs",),
    ("runs", "20260101-000000-abcdef"),
    ("audit",),
    ("locks",),
    ("locks", "release", "demo"),
    ("resume", "20260101-000000-abcdef"),
    ("plan", "-f", DEMO),
    ("apply", "-f", DEMO, "--approve", "0" * 64),
    ("destroy", "-f", DEMO, "--approve", "0" * 64),
    ("status", "demo", "--region", "us-east-1"),
    ("validate", "-f", DEMO, "--preflight"),
]
IDS = [" ".join(v[:2]) for v in STORE_VERBS]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _listing(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


@pytest.fixture
def corrupt_store(isolated_env: Path) -> Path:
    """A state.db with a real store's first page and garbage after it, as a torn disk write leaves it."""
    store = open_store()
    store.audit("approved", "run-1", "alice", "f" * 64, {})
    store.close()
    db = isolated_env / "state.db"
    for leftover in ("state.db-wal", "state.db-shm"):
        (isolated_env / leftover).unlink(missing_ok=True)
    db.write_bytes(b"\x00not sqlite any more\x00" * 300)
    return db


@pytest.mark.parametrize("argv", STORE_VERBS, ids=IDS)
def test_a_corrupt_store_is_named_left_alone_and_explained(cli: CliRunner, corrupt_store: Path, argv: tuple[str, ...]) -> None:
    before, files = _digest(corrupt_store), _listing(corrupt_store.parent)
    r = cli(*argv)
    assert r.code == 1, r.err
    assert "internal error" not in r.err
    assert f"the state store {corrupt_store} is not a readable SQLite database" in r.err
    assert f"mv {corrupt_store} {corrupt_store}.broken" in r.err  # what to do
    assert _digest(corrupt_store) == before and _listing(corrupt_store.parent) == files  # nothing lost, nothing added


@pytest.mark.parametrize("argv", STORE_VERBS, ids=IDS)
def test_a_state_directory_that_is_a_file(cli: CliRunner, isolated_env: Path, argv: tuple[str, ...]) -> None:
    isolated_env.parent.mkdir(parents=True, exist_ok=True)
    isolated_env.write_text("my notes\n")
    r = cli(*argv)
    assert r.code == 1, r.err
    assert "internal error" not in r.err
    assert f"the state directory {isolated_env} (from EKS_ASSIST_STATE_DIR) cannot be used: it is a file" in r.err
    assert "Move it away, or set EKS_ASSIST_STATE_DIR to another directory" in r.err
    assert isolated_env.read_text() == "my notes\n"


def test_a_state_directory_below_a_file(cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "notes").write_text("keep\n")
    monkeypatch.setenv("EKS_ASSIST_STATE_DIR", str(tmp_path / "notes" / "eks-assist"))
    r = cli("runs")
    assert r.code == 1 and f"{tmp_path / 'notes'} is a file, not a directory" in r.err
    assert (tmp_path / "notes").read_text() == "keep\n"


def test_a_state_directory_that_cannot_be_created(cli: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    # sysfs refuses mkdir to everyone, root included: a real "permission denied" on any Linux.
    monkeypatch.setenv("EKS_ASSIST_STATE_DIR", "/sys/eks-assist-test")
    r = cli("runs")
    assert r.code == 1, r.err
    assert "the state directory /sys/eks-assist-test (from EKS_ASSIST_STATE_DIR) cannot be created: permission denied" in r.err
    assert "mkdir -p -m 700 /sys/eks-assist-test" in r.err


def test_the_sandbox_verb_says_the_same_about_its_state_directory(isolated_env: Path) -> None:
    """The sandbox keeps its state file next to the store; the real binary explains and starts nothing."""
    isolated_env.parent.mkdir(parents=True, exist_ok=True)
    isolated_env.write_text("not a directory\n")
    r = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "sandbox", "--port", "0", "--k8s-port", "0"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 1, r.stderr
    assert f"the state directory {isolated_env} (from EKS_ASSIST_STATE_DIR) cannot be used: it is a file" in r.stderr
    assert "internal error" not in r.stderr and "Traceback" not in r.stderr
    assert isolated_env.read_text() == "not a directory\n"


def test_eks_assist_store_at_a_file_that_is_not_a_database(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("these are my notes, not a database\n" * 20)
    monkeypatch.setenv("EKS_ASSIST_STORE", f"sqlite:///{notes}")
    for argv in STORE_VERBS:
        r = cli(*argv)
        assert r.code == 1, (argv, r.err)
        assert f"EKS_ASSIST_STORE points at {notes}, which is not a readable SQLite database" in r.err, argv
        assert "Point EKS_ASSIST_STORE at an eks-assist store or at a new file" in r.err
    assert notes.read_text() == "these are my notes, not a database\n" * 20
    assert _listing(tmp_path) == ["notes.txt", "state"] or _listing(tmp_path) == ["notes.txt"]


def test_eks_assist_store_at_a_directory(cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EKS_ASSIST_STORE", f"sqlite:///{tmp_path}")
    r = cli("runs")
    assert r.code == 1 and f"EKS_ASSIST_STORE points at {tmp_path}, which is a directory, not a database file" in r.err


def test_a_bad_store_timeout_is_an_input_error(cli: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EKS_ASSIST_STORE_TIMEOUT", "soon")
    r = cli("runs")
    assert r.code == 2 and "EKS_ASSIST_STORE_TIMEOUT: 'soon' is not a number of seconds" in r.err


@pytest.fixture
def held_store(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Another process's connection that keeps the store locked (exclusive locking mode, open write)."""
    open_store().close()
    db = isolated_env / "state.db"
    holder = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("INSERT INTO audit (ts, event, run_id, actor, plan_hash) VALUES (0, 'held', '', 'test', '')")
    monkeypatch.setenv("EKS_ASSIST_STORE_TIMEOUT", "0.5")
    try:
        yield db
    finally:
        holder.execute("ROLLBACK")
        holder.close()


@pytest.mark.parametrize("argv", STORE_VERBS, ids=IDS)
def test_a_store_that_stays_locked(cli: CliRunner, held_store: Path, argv: tuple[str, ...]) -> None:
    r = cli(*argv)
    assert r.code == 1, r.err
    assert "internal error" not in r.err
    assert f"the state store {held_store} stayed locked for 0.5 s: another process holds it" in r.err
    assert f"fuser -v {held_store}" in r.err


def test_a_store_locked_for_writing_still_answers_reads_then_explains_the_write(
    cli: CliRunner, isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer that never commits (the usual way a store "stays locked"): reads work, the write says why not."""
    store = open_store()
    locks.acquire(store, ("123456789012", "us-east-1", "demo"), "run-1", "alice", pid=os.getpid())
    store.close()
    db = isolated_env / "state.db"
    holder = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    monkeypatch.setenv("EKS_ASSIST_STORE_TIMEOUT", "0.5")
    try:
        assert cli("runs").code == 0
        assert "demo" in cli("locks").out
        r = cli("locks", "release", "demo")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert r.code == 1, r.err
    assert f"the state store {db} stayed locked for 0.5 s" in r.err
    assert [lk.holder for lk in locks.held(open_store())] == ["run-1"]  # the refused write changed nothing


def test_a_healthy_store_is_untouched_by_the_checks(cli: CliRunner, isolated_env: Path) -> None:
    assert cli("runs").code == 0
    assert (os.stat(isolated_env).st_mode & 0o777) == 0o700
