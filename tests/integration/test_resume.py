"""A run SIGKILLed mid-apply resumes with `eks-assist resume` and converges with no duplicates.

Everything here is a real process: the sandbox (`eks-assist sandbox`), the apply that gets
killed, and the resume.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import boto3
import pytest

from assistant.store import open_store

from .conftest import DEMO

pytestmark = pytest.mark.slow
CLI = [sys.executable, "-m", "assistant.cli"]


def _run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    r = subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=300)
    if check:
        assert r.returncode == 0, r.stderr
    return r


def test_killed_apply_resumes_without_duplicates(sandbox_process: dict[str, str]) -> None:
    plan = json.loads(_run("plan", "-f", DEMO, "--sandbox", "-o", "json").stdout)
    apply = subprocess.Popen(
        [*CLI, "apply", "-f", DEMO, "--sandbox", "--approve", plan["hash"], "--poll-max", "0.1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    store = open_store()
    request_close = store.close
    deadline = time.monotonic() + 120
    killed_at = None
    while time.monotonic() < deadline:
        runs = store.list_runs(1)
        if runs:
            steps = {s.step: s.status for s in store.steps(runs[0].id)}
            # kill while the cluster is being created: inside the waiter
            if steps.get("cluster") == "waiting":
                apply.send_signal(signal.SIGKILL)
                killed_at = steps
                break
        assert apply.poll() is None, "apply finished before it could be killed"
        time.sleep(0.05)
    assert killed_at is not None, "never saw the cluster step waiting"
    apply.wait(timeout=10)
    run_id = store.list_runs(1)[0].id

    listing = json.loads(_run("runs", "-o", "json").stdout)
    assert listing[0]["id"] == run_id and listing[0]["status"] == "interrupted"

    r = _run("resume", run_id[:15], "--sandbox", "--poll-max", "0.1")
    assert "converged" in r.stdout

    for k, v in sandbox_process.items():
        os.environ[k] = v
    ec2 = boto3.client("ec2", region_name="us-east-1")
    mine = [{"Name": "tag:eks-assist:cluster", "Values": ["demo"]}]
    assert len(ec2.describe_vpcs(Filters=mine)["Vpcs"]) == 1
    assert len(ec2.describe_subnets(Filters=mine)["Subnets"]) == 2
    assert len(ec2.describe_internet_gateways(Filters=mine)["InternetGateways"]) == 1
    assert len(ec2.describe_route_tables(Filters=mine)["RouteTables"]) == 1
    assert len(ec2.describe_security_groups(Filters=mine)["SecurityGroups"]) == 1
    eks = boto3.client("eks", region_name="us-east-1")
    assert eks.list_clusters()["clusters"] == ["demo"]
    assert sorted(eks.list_nodegroups(clusterName="demo")["nodegroups"]) == ["general", "spot"]
    assert eks.describe_cluster(name="demo")["cluster"]["status"] == "ACTIVE"

    detail = json.loads(_run("runs", run_id, "-o", "json").stdout)
    assert detail["status"] == "succeeded"
    assert {s["status"] for s in detail["steps"]} == {"done"}
    # the journal is intact and a fresh plan has nothing to do
    again = json.loads(_run("plan", "-f", DEMO, "--sandbox", "-o", "json").stdout)
    assert again["summary"]["no-op"] == 15
    request_close()
