"""Ctrl-C during an apply: one message, exit 130, and the exact resume command (field report 14).

Everything is a real process: the sandbox (`eks-assist sandbox` with slow, realistic latency),
the apply that gets SIGINT while it waits for the cluster, and the resume it suggests.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from assistant.governance import locks
from assistant.store import open_store

from .conftest import DEMO

pytestmark = pytest.mark.slow
CLI = [sys.executable, "-m", "assistant.cli"]


def _plan_hash() -> str:
    r = subprocess.run([*CLI, "plan", "-f", DEMO, "--sandbox", "-o", "json"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return str(json.loads(r.stdout)["hash"])


def _interrupt_when(proc: subprocess.Popen[str], seen: str) -> tuple[str, str]:
    """Read stderr until a line contains ``seen``, send SIGINT, and return (stdout, stderr)."""
    assert proc.stderr is not None
    lines = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        lines.append(line)
        if seen in line:
            proc.send_signal(signal.SIGINT)
            break
    else:
        proc.kill()
    out, rest = proc.communicate(timeout=60)
    err = "".join(lines) + rest
    assert seen in err, f"never saw {seen!r}:\n{err}"
    return out, err


def test_ctrl_c_mid_apply_prints_one_message_with_the_resume_command(sandbox_process: dict[str, str]) -> None:
    apply = subprocess.Popen(
        [*CLI, "apply", "-f", DEMO, "--sandbox", "--approve", _plan_hash(), "--poll-max", "0.1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _, err = _interrupt_when(apply, "cluster: cluster demo creating")
    assert apply.returncode == 130, err

    store = open_store()
    run = store.list_runs(1)[0]
    assert run.status == "interrupted"
    # One message about the interruption, naming this run and the flags it ran with.
    about = [line for line in err.splitlines() if re.search(r"interrupt|cancel|resume", line, re.I)]
    assert len(about) == 1, err
    assert f"eks-assist resume {run.id} --sandbox" in about[0]
    # The calls the run made before Ctrl-C are in the audit log, with their request ids.
    audited = [e for e in store.audit_log() if e["event"] == "mutating-calls" and e["run_id"] == run.id]
    assert len(audited) == 1 and any(c["operation"] == "CreateCluster" for c in audited[0]["data"]["calls"])

    command = re.search(r"eks-assist (resume \S+ --sandbox)", about[0])
    assert command is not None
    resumed = subprocess.run([*CLI, *command.group(1).split(), "--poll-max", "0.1"], capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert f"Run {run.id} resumed and converged." in resumed.stdout
    assert store.get_run(run.id).status == "succeeded"  # type: ignore[union-attr]


def test_ctrl_c_before_the_run_starts_says_nothing_about_resume(sandbox_process: dict[str, str]) -> None:
    approved = _plan_hash()
    # Another holder has the cluster's lock, so the apply waits for it: no run exists yet.
    store = open_store()
    locks.acquire(store, ("123456789012", "us-east-1", "demo"), "someone-else", "a colleague", pid=os.getpid())
    apply = subprocess.Popen(
        [*CLI, "apply", "-f", DEMO, "--sandbox", "--approve", approved, "--lock-timeout", "120"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # It prints nothing while it waits; a few seconds take it past start-up into the lock wait.
    # (Interrupted sooner, it would still have started no run: the assertions hold either way.)
    time.sleep(4)
    assert apply.poll() is None, apply.communicate()
    apply.send_signal(signal.SIGINT)
    _, err = apply.communicate(timeout=60)
    assert apply.returncode == 130, err
    assert store.list_runs(1) == []
    assert "resume" not in err.lower()
    assert [line for line in err.splitlines() if line.strip()] == ["interrupted before the run started; nothing was applied."]
