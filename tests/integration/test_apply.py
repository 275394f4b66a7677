"""apply converges, is idempotent, and refuses anything but the exact approved plan."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from assistant.sandbox import FaultConfig, Sandbox
from assistant.store import open_store

from ..cli.conftest import CliRunner
from .conftest import DEMO, owned


def _hash(cli: CliRunner, *extra: str) -> str:
    r = cli("plan", "-f", DEMO, "-o", "json", *extra)
    assert r.code == 0, r.err
    return str(json.loads(r.out)["hash"])


def _apply(cli: CliRunner, plan_hash: str, *extra: str) -> dict:
    r = cli("apply", "-f", DEMO, "--approve", plan_hash, "--poll-max", "0.1", "-o", "json", *extra)
    assert r.code == 0, r.err
    return json.loads(r.out)


def test_apply_converges_then_nothing_to_do(sandbox: Sandbox, cli: CliRunner) -> None:
    result = _apply(cli, _hash(cli))
    assert result["outputs"]["endpoint"].startswith("https://127.0.0.1:")
    assert result["outputs"]["arn"] == "arn:aws:eks:us-east-1:123456789012:cluster/demo"
    assert result["outputs"]["certificateAuthority"]

    st = cli("status", "demo", "-o", "json")
    status = json.loads(st.out)
    assert status["status"] == "ACTIVE" and status["version"] == "1.33"
    assert {(g["name"], g["status"]) for g in status["nodeGroups"]} == {("general", "ACTIVE"), ("spot", "ACTIVE")}

    plan = json.loads(cli("plan", "-f", DEMO, "-o", "json").out)
    assert plan["summary"]["no-op"] == len(plan["changes"]) == 15, [c for c in plan["changes"] if c["op"] != "no-op"]

    before = owned(sandbox.inventory())
    again = _apply(cli, plan["hash"])
    assert owned(sandbox.inventory()) == before
    audit = [a for a in open_store().audit_log() if a["event"] == "mutating-calls" and a["run_id"] == again["runId"]]
    assert audit and audit[0]["data"]["calls"] == []

    # no TTY and no --approve: nothing to do is still a success
    r = cli("apply", "-f", DEMO)
    assert r.code == 0 and "Nothing to do." in r.out


def test_wrong_hash_is_refused_and_changes_nothing(sandbox: Sandbox, cli: CliRunner) -> None:
    before = owned(sandbox.inventory())
    r = cli("apply", "-f", DEMO, "--approve", "0" * 64)
    assert r.code == 3
    assert r.err.startswith("error: plan changed since approval: approved 0000000000000000, fresh plan is ")
    assert owned(sandbox.inventory()) == before


def test_malformed_hash_is_refused(sandbox: Sandbox, cli: CliRunner) -> None:
    r = cli("apply", "-f", DEMO, "--approve", "yes")
    assert r.code == 3
    assert r.err.strip() == (
        "error: --approve: 'yes' is not a plan hash (expected 12-64 hex characters, as printed after 'Plan hash:')"
    )


def test_no_tty_without_approval_is_refused(sandbox: Sandbox, cli: CliRunner) -> None:
    before = owned(sandbox.inventory())
    r = cli("apply", "-f", DEMO)
    assert r.code == 3
    assert "not approved: stdin is not a terminal" in r.err
    assert owned(sandbox.inventory()) == before


def test_drift_after_approval_is_refused(sandbox: Sandbox, cli: CliRunner) -> None:
    approved = _hash(cli)
    # Someone creates the cluster role out of band after the plan was approved.
    iam = boto3.client("iam", region_name="us-east-1")
    iam.create_role(
        RoleName="demo-us-east-1-cluster-role", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []})
    )
    before = owned(sandbox.inventory())
    r = cli("apply", "-f", DEMO, "--approve", approved)
    assert r.code == 3
    assert "plan changed since approval" in r.err
    assert owned(sandbox.inventory()) == before


def test_spec_edit_after_approval_is_refused(sandbox: Sandbox, cli: CliRunner, tmp_path: Path) -> None:
    spec = tmp_path / "demo.yaml"
    spec.write_text(Path(DEMO).read_text(encoding="utf-8"), encoding="utf-8")
    r = cli("plan", "-f", str(spec), "-o", "json")
    approved = json.loads(r.out)["hash"]
    spec.write_text(spec.read_text(encoding="utf-8").replace("max: 3", "max: 4"), encoding="utf-8")
    r = cli("apply", "-f", str(spec), "--approve", approved)
    assert r.code == 3 and "plan changed since approval" in r.err


@pytest.mark.slow
def test_apply_converges_under_faults(sandbox: Sandbox, cli: CliRunner) -> None:
    plan_hash = _hash(cli)
    sandbox.set_faults(FaultConfig(throttle=0.1, error5xx=0.1, latency_ms=0, seed=20261124))
    result = _apply(cli, plan_hash)
    sandbox.set_faults(FaultConfig())
    assert result["outputs"]["endpoint"]
    counts = sandbox.fault_counts()
    assert counts["throttle"] > 0 and counts["error5xx"] > 0, counts
    plan = json.loads(cli("plan", "-f", DEMO, "-o", "json").out)
    assert plan["summary"]["no-op"] == 15
