"""EKS quotas are checked at plan time, counting what exists, with the account's values from Service Quotas.

The real CLI (``main()``) against the sandbox over HTTP: the sandbox serves Service Quotas
for ``eks`` and enforces the same quotas on EKS calls.
"""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path

import boto3

from assistant.sandbox import Sandbox

from ..cli.conftest import CliRunner
from .conftest import DEMO, owned

HEAD = """apiVersion: eks-assist/v1
kind: Cluster
metadata: {name: big, region: us-east-1}
kubeconfig: {write: false}
"""


def _spec(tmp_path: Path, groups: int, max_size: int = 2, extra: str = "") -> Path:
    lines = [HEAD + extra + "workers:"]
    lines += [
        f"  - {{name: ng{i:02d}, instanceTypes: [t3.medium], scaling: {{min: 1, desired: 1, max: {max_size}}}}}"
        for i in range(groups)
    ]
    path = tmp_path / "big.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _line(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def _set_quotas(sandbox: Sandbox, **quotas: float) -> None:
    body = json.dumps({"region": "us-east-1", "quotas": quotas}).encode()
    urllib.request.urlopen(urllib.request.Request(f"{sandbox.aws_url}/_sandbox/quotas", data=body, method="POST")).close()


def _raise(code: str, value: int) -> None:
    sq = boto3.client("service-quotas", region_name="us-east-1")
    assert (
        sq.request_service_quota_increase(ServiceCode="eks", QuotaCode=code, DesiredValue=value)["RequestedQuota"]["Status"]
        == "APPROVED"
    )


def test_31_node_groups_are_refused_with_the_default_quota_and_plan_once_it_is_raised(
    sandbox: Sandbox, cli: CliRunner, tmp_path: Path
) -> None:
    spec = _spec(tmp_path, 31)
    before = owned(sandbox.inventory())
    r = cli("plan", "-f", str(spec))
    assert r.code == 2, r.out + r.err
    assert r.err.strip() == (
        f"error: {spec}:{_line(spec, 'ng30')}:5: workers[30]: cluster big would have 31 managed node groups (none in the "
        "cluster yet, and the spec's), over the EKS quota 'Managed node groups per cluster' (L-6D54EA21) of 30 "
        "(Service Quotas, applied value); request an increase "
        "in the Service Quotas console or with `aws service-quotas request-service-quota-increase --service-code eks "
        "--quota-code L-6D54EA21 --desired-value 31 --region us-east-1`, or use fewer, larger node groups"
    ), r.err
    r = cli("apply", "-f", str(spec), "--approve", "0" * 64)
    assert r.code == 2 and "L-6D54EA21" in r.err
    assert owned(sandbox.inventory()) == before

    _raise("L-6D54EA21", 31)
    r = cli("plan", "-f", str(spec), "-o", "json")
    assert r.code == 0, r.err
    plan = json.loads(r.out)
    assert plan["summary"]["create"] >= 31
    assert (
        "quota Managed node groups per cluster (L-6D54EA21): 31 of 31 (node groups of big: none in the cluster yet, "
        "and the spec's; Service Quotas, applied value)" in plan["info"]
    )
    # The text plan says where each quota came from, apart from what the hash covers.
    text = cli("plan", "-f", str(spec)).out
    assert "Checked (not part of the plan hash):" in text
    assert (
        "quota Clusters (L-1194D53C): 1 of 100 (clusters in us-east-1, this one included; Service Quotas, applied value)" in text
    )


def test_node_groups_already_in_the_cluster_count(sandbox: Sandbox, cli: CliRunner, tmp_path: Path) -> None:
    # demo: two node groups, applied. Then someone adds a third outside eks-assist.
    plan = json.loads(cli("plan", "-f", DEMO, "-o", "json").out)
    assert cli("apply", "-f", DEMO, "--approve", plan["hash"], "--poll-max", "0.1").code == 0
    eks = boto3.client("eks", region_name="us-east-1")
    general = eks.describe_nodegroup(clusterName="demo", nodegroupName="general")["nodegroup"]
    eks.create_nodegroup(clusterName="demo", nodegroupName="manual", nodeRole=general["nodeRole"], subnets=general["subnets"])
    _set_quotas(sandbox, **{"L-6D54EA21": 3})

    spec = tmp_path / "demo.yaml"
    text = Path(DEMO).read_text(encoding="utf-8")
    spec.write_text(text + "  - name: extra\n    instanceTypes: [m5.large]\n", encoding="utf-8")
    r = cli("plan", "-f", str(spec))
    assert r.code == 2, r.out
    assert f"{spec}:{_line(spec, 'name: extra')}:" in r.err
    assert "workers[2]: cluster demo would have 4 managed node groups (3 in the cluster already, and the spec's), over" in r.err
    assert "of 3 (Service Quotas, applied value)" in r.err
    # Without the extra group, the cluster is at its quota, not over it: plan works.
    assert cli("plan", "-f", DEMO).code == 0


def test_clusters_in_the_region_count(sandbox: Sandbox, cli: CliRunner, tmp_path: Path) -> None:
    iam, ec2 = boto3.client("iam", region_name="us-east-1"), boto3.client("ec2", region_name="us-east-1")
    role = iam.create_role(RoleName="other-cluster", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]][:2]
    boto3.client("eks", region_name="us-east-1").create_cluster(
        name="other", roleArn=role, resourcesVpcConfig={"subnetIds": subnets}
    )
    _set_quotas(sandbox, **{"L-1194D53C": 1})
    spec = _spec(tmp_path, 1)
    r = cli("plan", "-f", str(spec))
    assert r.code == 2
    assert re.search(
        rf"{re.escape(str(spec))}:3:\d+: metadata.name: creating cluster big makes 2 EKS clusters in us-east-1, over the "
        r"EKS quota 'Clusters' \(L-1194D53C\) of 1 \(Service Quotas, applied value\); request an increase .*--desired-value 2 "
        r"--region us-east-1`, or delete unused clusters",
        r.err,
    ), r.err


def test_nodes_per_group_and_fixed_quotas(sandbox: Sandbox, cli: CliRunner, tmp_path: Path) -> None:
    # A fixed quota over the spec's own list is refused at validate time, before any AWS call.
    cidrs = ", ".join(f"203.0.{i}.0/24" for i in range(41))
    spec = _spec(tmp_path, 1, max_size=500, extra=f"masters:\n  endpoint: {{publicAccess: true, publicCidrs: [{cidrs}]}}\n")
    r = cli("plan", "-f", str(spec))
    assert r.code == 2
    assert re.search(
        r":\d+:\d+: masters.endpoint.publicCidrs: EKS allows at most 40 public access CIDR ranges \(a fixed quota\), got 41",
        r.err,
    ), r.err
    spec = _spec(tmp_path, 1, max_size=500)
    r = cli("plan", "-f", str(spec))
    assert r.code == 2
    errors = r.err.strip().splitlines()
    assert any(
        ": workers[0].scaling.max: node group ng00 scales to 500 nodes, over the EKS quota 'Nodes per managed node group' "
        "(L-BD136A63) of 450 (Service Quotas, applied value)" in e
        for e in errors
    ), errors
    _raise("L-BD136A63", 500)
    assert cli("plan", "-f", str(spec)).code == 0


def test_a_50_node_group_cluster_applies_once_the_quota_is_raised_like_an_account_raises_it(
    sandbox: Sandbox, cli: CliRunner, tmp_path: Path
) -> None:
    """What a 50-node-group benchmark does: raise the quota through Service Quotas, then plan and apply.

    The default stays AWS's 30; the increase is an account's own ``RequestServiceQuotaIncrease``.
    """
    sq = boto3.client("service-quotas", region_name="us-east-1")
    assert sq.get_aws_default_service_quota(ServiceCode="eks", QuotaCode="L-6D54EA21")["Quota"]["Value"] == 30.0
    spec = _spec(tmp_path, 50)
    r = cli("plan", "-f", str(spec))
    assert r.code == 2 and "would have 50 managed node groups" in r.err and "of 30 (Service Quotas, applied value)" in r.err

    _raise("L-6D54EA21", 50)
    plan = json.loads(cli("plan", "-f", str(spec), "-o", "json").out)
    assert "quota Managed node groups per cluster (L-6D54EA21): 50 of 50" in " ".join(plan["info"])
    r = cli("apply", "-f", str(spec), "--approve", plan["hash"], "--poll-max", "0.1")
    assert r.code == 0, r.err[-4000:]
    eks = boto3.client("eks", region_name="us-east-1")
    groups = eks.list_nodegroups(clusterName="big", maxResults=100)["nodegroups"]
    assert sorted(groups) == [f"ng{i:02d}" for i in range(50)]
    assert {eks.describe_nodegroup(clusterName="big", nodegroupName=g)["nodegroup"]["status"] for g in groups} == {"ACTIVE"}
    # The default is still AWS's: the raise is this account's applied value only.
    assert sq.get_aws_default_service_quota(ServiceCode="eks", QuotaCode="L-6D54EA21")["Quota"]["Value"] == 30.0
    assert sq.get_service_quota(ServiceCode="eks", QuotaCode="L-6D54EA21")["Quota"]["Value"] == 50.0
