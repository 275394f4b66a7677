"""``eks-assist capacity``: text and JSON output, spec budgets, and bad input (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path

from assistant.sandbox import Sandbox

from ..cli.conftest import CliRunner

SMALL = """\
apiVersion: eks-assist/v1
kind: Cluster
metadata:
  name: small
  region: us-east-1
masters:
  vpc:
    create:
      cidr: 10.0.0.0/24
      azCount: 2
cni:
{cni}
workers:
  - name: web
    instanceTypes: [m5.large]
    scaling: {{min: 1, desired: 2, max: 10}}
"""


def test_text_output(sandbox: Sandbox, cli: CliRunner) -> None:
    r = cli("capacity", "--instance-type", "m5.large", "-t", "p5.48xlarge")
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    assert lines[0] == "VPC CNI mode: secondary IPs"
    assert lines[3].split() == ["m5.large", "2", "3", "10", "29", "29", "30"]
    assert lines[4].split() == ["p5.48xlarge", "192", "2", "50", "100", "100", "100"]


def test_json_output_with_prefix_delegation(sandbox: Sandbox, cli: CliRunner) -> None:
    r = cli("capacity", "-t", "m5.24xlarge", "--prefix-delegation", "-o", "json")
    assert r.code == 0, r.err
    row = json.loads(r.out)["instanceTypes"][0]
    assert (row["maxPods"], row["recommendedMaxPods"], row["prefixDelegation"]) == (15 * 49 * 16 + 2, 250, True)


def test_custom_networking_and_max_eni(sandbox: Sandbox, cli: CliRunner) -> None:
    r = cli("capacity", "-t", "m5.xlarge", "--custom-networking", "--max-eni", "3", "-o", "json")
    assert r.code == 0, r.err
    assert json.loads(r.out)["instanceTypes"][0]["maxPods"] == 2 * 14 + 2


def test_unknown_instance_type_exits_2(sandbox: Sandbox, cli: CliRunner) -> None:
    r = cli("capacity", "-t", "m5.larg")
    assert r.code == 2
    assert r.err.strip() == "error: unknown instance type 'm5.larg' in us-east-1; did you mean 'm5.large'?"


def test_spec_budget_warns_for_small_subnets(sandbox: Sandbox, cli: CliRunner, tmp_path: Path) -> None:
    spec = tmp_path / "small.yaml"
    spec.write_text(SMALL.format(cni="  prefixDelegation: false"), encoding="utf-8")
    r = cli("capacity", "-f", str(spec), "-o", "json")
    assert r.code == 0, r.err
    data = json.loads(r.out)
    assert [(s["subnet"], s["free"], s["needed"], s["fits"]) for s in data["subnets"]] == [
        ("10.0.0.0/26", 59, 150, False),
        ("10.0.0.64/26", 59, 150, False),
    ]
    assert len(data["warnings"]) == 2 and "enable cni.prefixDelegation" in data["warnings"][0]
    text = cli("capacity", "-f", str(spec))
    assert "10.0.0.0/26: 150 needed of 59 free for nodes [web]: TOO SMALL" in text.out
    assert "warning: subnet 10.0.0.0/26 has 59 free IPs once created" in text.out


def test_bad_cni_combination_exits_2_located(sandbox: Sandbox, cli: CliRunner, tmp_path: Path) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text(SMALL.format(cni="  warmPrefixTarget: 1"), encoding="utf-8")
    r = cli("capacity", "-f", str(spec))
    assert r.code == 2
    assert r.err.strip() == (
        f"error: {spec}:12:21: cni.warmPrefixTarget: warmPrefixTarget needs prefixDelegation: true "
        "(the VPC CNI ignores it otherwise)"
    )


def test_needs_a_type_or_a_spec(cli: CliRunner) -> None:
    r = cli("capacity")
    assert r.code == 2
    assert "give --instance-type TYPE, or -f SPEC" in r.err
