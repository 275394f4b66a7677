"""A cluster in subnets and a security group that the user already has: eks-assist uses them,
never modifies them, and teardown leaves them in place."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from assistant.sandbox import Sandbox

from ..cli.conftest import CliRunner
from ..conftest import EXAMPLES

pytestmark = pytest.mark.slow


def test_existing_vpc_lifecycle(sandbox: Sandbox, cli: CliRunner, tmp_path: Path) -> None:
    ec2 = boto3.client("ec2", region_name="us-east-1")
    vpc = ec2.create_vpc(CidrBlock="10.50.0.0/16")["Vpc"]["VpcId"]
    a = ec2.create_subnet(VpcId=vpc, CidrBlock="10.50.0.0/20", AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    b = ec2.create_subnet(VpcId=vpc, CidrBlock="10.50.16.0/20", AvailabilityZone="us-east-1b")["Subnet"]["SubnetId"]
    sg = ec2.create_security_group(GroupName="mine", Description="mine", VpcId=vpc)["GroupId"]

    text = (EXAMPLES / "existing-vpc.yaml").read_text(encoding="utf-8")
    text = (
        text.replace("eu-west-1", "us-east-1")
        .replace("subnet-0a1b2c3d4e5f60718", a)
        .replace("subnet-0b1c2d3e4f5a60718", b)
        .replace("sg-0c1d2e3f4a5b60718", sg)
    )
    spec = tmp_path / "existing.yaml"
    spec.write_text(text, encoding="utf-8")

    plan = json.loads(cli("plan", "-f", str(spec), "-o", "json").out)
    assert [c["step"] for c in plan["changes"]] == [
        "cluster_role",
        "cluster",
        "vpc_cni",
        "aws_node_env",
        "node_role",
        "aws_auth",
        "access_entries",
        "kubeconfig",
        "nodegroup[apps]",
    ]
    cluster = plan["changes"][1]["after"]
    assert cluster["subnetIds"] == sorted([a, b]) and cluster["securityGroupIds"] == [sg]
    assert cluster["authenticationMode"] == "API" and cluster["endpointPublicAccess"] is False
    r = cli("apply", "-f", str(spec), "--approve", plan["hash"], "--poll-max", "0.1")
    assert r.code == 0, r.err

    eks = boto3.client("eks", region_name="us-east-1")
    c = eks.describe_cluster(name="shared-vpc")["cluster"]
    assert sorted(c["resourcesVpcConfig"]["subnetIds"]) == sorted([a, b])
    ng = eks.describe_nodegroup(clusterName="shared-vpc", nodegroupName="apps")["nodegroup"]
    assert ng["amiType"] == "AL2023_ARM_64_STANDARD" and ng["status"] == "ACTIVE"
    again = json.loads(cli("plan", "-f", str(spec), "-o", "json").out)
    assert again["summary"]["no-op"] == 9, [c for c in again["changes"] if c["op"] != "no-op"]

    teardown = json.loads(cli("plan", "-f", str(spec), "--playbook", "teardown", "-o", "json").out)
    # node group, cluster, two roles and the kubeconfig context: nothing of the user's network
    assert teardown["summary"]["delete"] == 5
    r = cli("destroy", "-f", str(spec), "--approve", teardown["hash"], "--poll-max", "0.1")
    assert r.code == 0, r.err
    assert eks.list_clusters()["clusters"] == []
    assert {s["SubnetId"] for s in ec2.describe_subnets(SubnetIds=[a, b])["Subnets"]} == {a, b}
    assert ec2.describe_security_groups(GroupIds=[sg])["SecurityGroups"]
    assert ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"]
