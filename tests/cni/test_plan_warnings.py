"""Every plan carries the capacity warnings: a subnet too small for its node groups at max scale."""

from __future__ import annotations

from pathlib import Path

from assistant.clients.aws import AwsContext
from assistant.engine import Engine
from assistant.sandbox import Sandbox
from assistant.spec import load_spec
from assistant.store import open_store

from ..cli.conftest import CliRunner
from ..integration.conftest import CallLog

SPEC = """\
apiVersion: eks-assist/v1
kind: Cluster
metadata:
  name: warn
  region: us-east-1
masters:
  vpc:
    create:
      cidr: {cidr}
      azCount: 2
workers:
  - name: web
    instanceTypes: [m5.large]
    scaling: {{min: 1, desired: 2, max: 10}}
"""


def plan_warnings(tmp_path: Path, cidr: str, playbook: str = "cluster") -> list[str]:
    path = tmp_path / "warn.yaml"
    path.write_text(SPEC.format(cidr=cidr), encoding="utf-8")
    aws = AwsContext(region="us-east-1")
    log = CallLog(aws)
    plan = Engine(aws, open_store()).plan(load_spec(path), playbook).plan
    assert log.mutating == []
    assert plan.canonical()["warnings"] == plan.warnings  # part of what the hash covers
    return plan.warnings


def test_plan_warns_for_small_subnets(sandbox: Sandbox, tmp_path: Path) -> None:
    warnings = plan_warnings(tmp_path, "10.0.0.0/24")
    assert [w.split(" but ")[0] for w in warnings] == [
        "subnet 10.0.0.0/26 has 59 free IPs once created",
        "subnet 10.0.0.64/26 has 59 free IPs once created",
    ]
    assert "enable cni.prefixDelegation" in warnings[0]


def test_plan_is_quiet_for_large_subnets(sandbox: Sandbox, tmp_path: Path) -> None:
    assert plan_warnings(tmp_path, "10.0.0.0/16") == []


def test_teardown_plan_has_no_capacity_warnings(sandbox: Sandbox, tmp_path: Path) -> None:
    assert plan_warnings(tmp_path, "10.0.0.0/24", playbook="teardown") == []


def test_plan_rejects_a_bad_cni_combination_located(sandbox: Sandbox, tmp_path: Path, cli: CliRunner) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(SPEC.format(cidr="10.0.0.0/16") + "cni:\n  prefixDelegation: true\n  warmPrefixTarget: 0\n", encoding="utf-8")
    r = cli("plan", "-f", str(path))
    assert r.code == 2
    assert r.err.strip() == (
        f"error: {path}:17:21: cni.warmPrefixTarget: warmPrefixTarget 0 is not supported with prefix delegation; use 1 or more"
    )
