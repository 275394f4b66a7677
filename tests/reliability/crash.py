"""Crash drill helpers: a published in-process sandbox, CLI subprocesses, and three ways to kill them.

The sandbox runs in the test process and is published through its state file, exactly as
``eks-assist sandbox`` publishes itself, so the CLI subprocesses (``apply``, ``resume``, ``runs``)
and the test's own read-only engine agree on everything, the kubeconfig's exec command included.
The subprocesses reach it through the ``AWS_*`` environment rather than ``--sandbox``: that flag
health-checks the published sandbox with a 2 s timeout and, on a loaded machine, can fall back to
a private sandbox of its own.

The kills are SIGKILLs (nothing runs in the victim afterwards):

- **between steps** (:func:`kill_when`): the test polls the journal and kills as soon as a
  chosen step is ``done``;
- **in a waiter** (:func:`kill_when`): as soon as a chosen step is ``waiting`` (its create call
  answered, the action polling for ACTIVE);
- **after a call** (:class:`CallKiller`): the sandbox's ``after_call`` hook kills the process
  right after the sandbox carried out its N-th mutating call and before the answer is sent, so
  the client never hears of it and never journals it.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from assistant.sandbox import FaultConfig, Sandbox, statefile
from assistant.sandbox.faults import AwsCall
from assistant.store import StepRecord, Store
from assistant.tags import CLUSTER

from .. import secrets_scan

REGION = "us-east-1"
CLI = [sys.executable, "-m", "assistant.cli"]
STEP_STATES = {"pending", "applying", "waiting", "done", "failed", "skipped"}
# How often the test reads the journal while it waits for a kill point. Waits last 0.15 s
# (add-on) to 0.5 s (cluster) at the drill's time scale, so a read every few ms lands inside.
POLL = 0.005


@contextlib.contextmanager
def published_sandbox(time_scale: float, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    """An in-process sandbox with the drills' fake credentials, published like ``eks-assist sandbox``.

    The caller's environment gets the sandbox's AWS variables through ``monkeypatch``, so they go
    when the test ends: set directly, they outlived it and pointed later module-scoped fixtures
    (which set up before the per-test isolation) at this sandbox's closed port.
    """
    creds = (secrets_scan.AWS_ACCESS_KEY_ID, secrets_scan.AWS_SECRET_ACCESS_KEY)
    with Sandbox(latency="fast", time_scale=time_scale, credentials=creds) as sb:
        env = sb.env()
        ca_path = statefile.write_ca(sb.ca_pem)
        statefile.write(
            statefile.SandboxInfo(
                aws_url=sb.aws_url,
                k8s_url=sb.k8s_url,
                pid=os.getpid(),
                region=REGION,
                access_key_id=env["AWS_ACCESS_KEY_ID"],
                secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
                ca_path=str(ca_path),
            )
        )
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        # moto builds an account's backends (and loads its instance types) on first use: once here.
        boto3.client("ec2", region_name=REGION).describe_instance_types(InstanceTypes=["m5.large"])
        boto3.client("iam", region_name=REGION).list_roles()
        boto3.client("eks", region_name=REGION).list_clusters()
        try:
            yield sb
        finally:
            sb.set_faults(FaultConfig())
            statefile.remove()


class Outputs:
    """Everything the CLI subprocesses printed, kept for the secrets scan and for failure messages."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._n = 0

    def files(self, label: str) -> tuple[Path, Path]:
        self._n += 1
        base = self.directory / f"{self._n:03d}-{label}"
        return base.with_suffix(".out"), base.with_suffix(".err")

    def texts(self) -> dict[str, str]:
        return {str(p): p.read_text(encoding="utf-8", errors="replace") for p in sorted(self.directory.iterdir())}


@dataclass
class Proc:
    """A CLI subprocess whose output goes to files."""

    popen: subprocess.Popen[bytes]
    out: Path
    err: Path

    def finish(self, timeout: float = 120) -> int:
        return self.popen.wait(timeout=timeout)

    def text(self) -> str:
        return self.out.read_text(errors="replace") + self.err.read_text(errors="replace")


def start_cli(outputs: Outputs, label: str, *args: str) -> Proc:
    """``eks-assist ARGS`` in a subprocess with this process's (isolated, sandbox-pointed) environment."""
    out, err = outputs.files(label)
    with out.open("wb") as fo, err.open("wb") as fe:
        popen = subprocess.Popen([*CLI, *args], stdout=fo, stderr=fe, stdin=subprocess.DEVNULL, env=dict(os.environ))
    return Proc(popen, out, err)


def run_cli(outputs: Outputs, label: str, *args: str, timeout: float = 120) -> tuple[int, str]:
    """Run ``eks-assist ARGS`` to completion: (exit code, stdout)."""
    proc = start_cli(outputs, label, *args)
    code = proc.finish(timeout)
    return code, proc.out.read_text(errors="replace")


def _wait_dead(pid: int) -> None:
    # Block until the process has exited, without reaping it (its Popen does that).
    with contextlib.suppress(ChildProcessError):
        os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)


class CallKiller:
    """An ``after_call`` hook: SIGKILLs the armed process right after the sandbox applied its N-th mutating call.

    The hook runs in the sandbox's request thread before the answer is written, and returns only
    once the process is dead: the change is in the sandbox, and the client never learns of it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._target = 0
        self._operation: str | None = None
        self._seen = 0
        self.killed: AwsCall | None = None

    def arm(self, pid: int, nth: int, operation: str | None = None) -> None:
        """Kill ``pid`` after the ``nth`` applied mutating call (counting only ``operation``, when given)."""
        with self._lock:
            self._pid, self._target, self._operation, self._seen, self.killed = pid, nth, operation, 0, None

    def disarm(self) -> AwsCall | None:
        """Stop watching; returns the call it killed after, if it did."""
        with self._lock:
            self._pid = None
            return self.killed

    def __call__(self, call: AwsCall) -> None:
        if not call.applied:
            return
        with self._lock:
            if self._pid is None or self._operation not in (None, call.operation):
                return
            self._seen += 1
            if self._seen < self._target:
                return
            pid, self._pid, self.killed = self._pid, None, call
        os.kill(pid, signal.SIGKILL)
        _wait_dead(pid)


def find_run(store: Store, spec_file: str) -> str | None:
    """The id of the newest run of ``spec_file`` (each drill run has a spec file of its own), once recorded."""
    for run in store.list_runs(5):
        if run.spec_file == spec_file:
            return run.id
    return None


def kill_when(
    proc: Proc, store: Store, run_id: Callable[[], str | None], ready: Callable[[dict[str, str]], bool], timeout: float = 60
) -> tuple[str, dict[str, str]]:
    """SIGKILL ``proc`` as soon as its run's journal (step → status) satisfies ``ready``.

    Returns the run id and the journal as read just before the kill. Fails if the process
    ends first: the kill point was never reached.
    """
    deadline = time.monotonic() + timeout
    rid: str | None = None
    while time.monotonic() < deadline:
        rid = rid or run_id()
        if rid is not None:
            journal = {s.step: s.status for s in store.steps(rid)}
            if ready(journal):
                proc.popen.send_signal(signal.SIGKILL)
                proc.popen.wait(timeout=30)
                return rid, journal
        if proc.popen.poll() is not None:
            raise AssertionError(f"the process ended (exit {proc.popen.returncode}) before its kill point:\n{proc.text()}")
        time.sleep(POLL)
    proc.popen.kill()
    proc.popen.wait()
    raise AssertionError(f"kill point not reached in {timeout:.0f}s; journal of {rid}: {rid and store.steps(rid)}")


def check_journal(db: Path, store: Store, run_id: str, statuses: set[str]) -> list[StepRecord]:
    """The journal after a kill: an intact database, the run row readable with a status in ``statuses``, known step states."""
    con = sqlite3.connect(str(db))
    try:
        assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)], "journal database is corrupt"
        raw = con.execute("SELECT plan, outputs FROM runs WHERE id=?", (run_id,)).fetchall()
    finally:
        con.close()
    assert len(raw) == 1, f"run {run_id} missing from the journal"
    json.loads(raw[0][0]), json.loads(raw[0][1])
    run = store.get_run(run_id)
    assert run is not None and run.status in statuses, f"run {run_id}: status {run and run.status!r}"
    steps = store.steps(run_id)
    assert steps, f"run {run_id} has no journaled steps"
    unknown = {s.step: s.status for s in steps if s.status not in STEP_STATES}
    assert not unknown, f"unknown step states: {unknown}"
    return steps


def owned_counts(inventory: dict[str, Any], cluster: str) -> dict[str, Any]:
    """What the sandbox holds for ``cluster``: resources of ours by kind, and its EKS parts."""
    counts: dict[str, Any] = {}
    for account in inventory.values():
        roles = [r for r in account.get("iam", {}).get("roles", {}).values() if r.get("tags", {}).get(CLUSTER) == cluster]
        counts["roles"] = counts.get("roles", 0) + len(roles)
        for services in account.get("regions", {}).values():
            ec2 = services.get("ec2", {})
            for kind in ("vpcs", "subnets", "internetGateways", "routeTables"):
                counts[kind] = counts.get(kind, 0) + sum(t.get(CLUSTER) == cluster for t in ec2.get(kind, {}).values())
            groups = ec2.get("securityGroups", {}).values()
            counts["securityGroups"] = counts.get("securityGroups", 0) + sum(g["tags"].get(CLUSTER) == cluster for g in groups)
            eks = services.get("eks", {}).get(cluster)
            if eks is not None:
                counts["cluster"] = eks["status"]
                counts["nodegroups"] = {n: g["status"] for n, g in eks["nodegroups"].items()}
                counts["addons"] = {n: a["status"] for n, a in eks["addons"].items()}
                counts["accessEntries"] = sorted(eks["accessEntries"])
    return counts
