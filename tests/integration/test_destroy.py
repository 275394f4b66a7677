"""destroy removes everything eks-assist created, in dependency order, and nothing else."""

from __future__ import annotations

import json

import boto3

from assistant.sandbox import Sandbox

from ..cli.conftest import CliRunner
from .conftest import DEMO


def test_destroy_leaves_only_foreign_resources(sandbox: Sandbox, cli: CliRunner) -> None:
    # Resources eks-assist did not create, including one with a name it would use.
    ec2 = boto3.client("ec2", region_name="us-east-1")
    foreign_vpc = ec2.create_vpc(CidrBlock="192.168.0.0/16")["Vpc"]["VpcId"]
    iam = boto3.client("iam", region_name="us-east-1")
    iam.create_role(RoleName="someone-elses-role", AssumeRolePolicyDocument="{}")

    r = cli("plan", "-f", DEMO, "-o", "json")
    r = cli("apply", "-f", DEMO, "--approve", json.loads(r.out)["hash"], "--poll-max", "0.1", "-o", "json")
    assert r.code == 0, r.err

    r = cli("destroy", "-f", DEMO, "--approve", "0" * 12)
    assert r.code == 3  # destroy is approval-gated like apply

    plan = json.loads(cli("plan", "-f", DEMO, "--playbook", "teardown", "-o", "json").out)
    assert plan["summary"]["delete"] == 10
    r = cli("destroy", "-f", DEMO, "--approve", plan["hash"], "--poll-max", "0.1")
    assert r.code == 0, r.err

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
