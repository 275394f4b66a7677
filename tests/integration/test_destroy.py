"""destroy removes everything eks-assist created, in dependency order, and nothing else."""

from __future__ import annotations

import json
import os
from pathlib import Path

import boto3

from assistant.sandbox import Sandbox

from ..auth.test_kubeconfig import EXISTING, _blocks
from ..cli.conftest import CliRunner
from .conftest import DEMO


def test_destroy_leaves_only_foreign_resources(sandbox: Sandbox, cli: CliRunner) -> None:
    # Resources eks-assist did not create, including one with a name it would use.
    ec2 = boto3.client("ec2", region_name="us-east-1")
    foreign_vpc = ec2.create_vpc(CidrBlock="192.168.0.0/16")["Vpc"]["VpcId"]
    iam = boto3.client("iam", region_name="us-east-1")
    iam.create_role(RoleName="someone-elses-role", AssumeRolePolicyDocument="{}")

    # The user's kubeconfig already holds other contexts, in hand-edited shapes.
    kubeconfig = Path(os.environ["KUBECONFIG"])
    kubeconfig.write_text(EXISTING)

    r = cli("plan", "-f", DEMO, "-o", "json")
    r = cli("apply", "-f", DEMO, "--approve", json.loads(r.out)["hash"], "--poll-max", "0.1", "-o", "json")
    assert r.code == 0, r.err
    arn = "arn:aws:eks:us-east-1:123456789012:cluster/demo"
    assert arn in kubeconfig.read_text()

    r = cli("destroy", "-f", DEMO, "--approve", "0" * 12)
    assert r.code == 3  # destroy is approval-gated like apply

    plan = json.loads(cli("plan", "-f", DEMO, "--playbook", "teardown", "-o", "json").out)
    assert plan["summary"]["delete"] == 11
    # The plan shows the kubeconfig removal, and what exactly goes.
    removal = next(c for c in plan["changes"] if c["step"] == "kubeconfig")
    assert removal["op"] == "delete"
    assert removal["before"] == {"clusters": [arn], "users": [arn], "contexts": [arn], "current": True}
    assert str(kubeconfig) in removal["resource"]
    text = cli("plan", "-f", DEMO, "--playbook", "teardown").out
    assert f"kubeconfig context {arn} in {kubeconfig}" in text
    r = cli("destroy", "-f", DEMO, "--approve", plan["hash"], "--poll-max", "0.1")
    assert r.code == 0, r.err

    # Our three entries are gone, the current context (ours) is unset as eksctl leaves it, and
    # everything else is the user's file byte-for-byte.
    after = kubeconfig.read_text()
    assert after == EXISTING.replace("current-context: other", 'current-context: ""')
    assert all(block in after for block in _blocks(EXISTING))

    eks = boto3.client("eks", region_name="us-east-1")
    assert eks.list_clusters()["clusters"] == []
    roles = {r["RoleName"] for r in iam.list_roles()["Roles"]}
    assert "someone-elses-role" in roles
    assert not {"demo-us-east-1-cluster-role", "demo-us-east-1-node-role"} & roles
    vpcs = {v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]}
    assert foreign_vpc in vpcs
    tagged = ec2.describe_vpcs(Filters=[{"Name": "tag:eks-assist:cluster", "Values": ["demo"]}])["Vpcs"]
    assert tagged == []
    for what, call, key in (
        ("subnets", ec2.describe_subnets, "Subnets"),
        ("igw", ec2.describe_internet_gateways, "InternetGateways"),
        ("rt", ec2.describe_route_tables, "RouteTables"),
        ("sg", ec2.describe_security_groups, "SecurityGroups"),
    ):
        left = call(Filters=[{"Name": "tag:eks-assist:cluster", "Values": ["demo"]}])[key]
        assert left == [], what

    # a second destroy has nothing to do
    again = json.loads(cli("plan", "-f", DEMO, "--playbook", "teardown", "-o", "json").out)
    assert again["summary"]["delete"] == 0


def test_destroy_on_a_terminal_asks_plainly_whether_to_delete(tmp_path: Path) -> None:
    """The real binary with a terminal on stdin: the question names the cluster and says it deletes, and 'no' changes nothing."""
    import pty
    import subprocess
    import sys

    from .conftest import sandbox_subprocess

    cli_cmd = [sys.executable, "-m", "assistant.cli"]
    with sandbox_subprocess("--latency", "none"):
        plan = subprocess.run([*cli_cmd, "plan", "-f", DEMO, "--sandbox", "-o", "json"], capture_output=True, text=True)
        applied = subprocess.run(
            [*cli_cmd, "apply", "-f", DEMO, "--sandbox", "--approve", json.loads(plan.stdout)["hash"]],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert applied.returncode == 0, applied.stderr
        primary, secondary = pty.openpty()
        try:
            os.write(primary, b"no\n")
            asked = subprocess.run(
                [*cli_cmd, "destroy", "-f", DEMO, "--sandbox"], stdin=secondary, capture_output=True, text=True, timeout=300
            )
        finally:
            os.close(primary)
            os.close(secondary)
        assert asked.returncode == 3, asked.stderr
        assert "Destroy cluster demo? This deletes the 11 resource(s) above" in asked.stdout
        assert "cannot be undone" in asked.stdout
        assert "destroy cancelled: the plan was not confirmed; nothing was changed" in asked.stderr
        status = subprocess.run([*cli_cmd, "status", "demo", "--sandbox"], capture_output=True, text=True, timeout=120)
        assert status.returncode == 0 and "ACTIVE" in status.stdout
