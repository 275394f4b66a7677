"""``inventory()``: a snapshot of all state, unchanged by reads, served at /_sandbox/inventory too."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from typing import Any

from kubernetes import client as k8s
from kubernetes.config import new_client_from_config

from assistant.sandbox import Sandbox

from .helpers import Network, ReadyCluster


def _text(inventory: dict[str, Any]) -> str:
    return json.dumps(inventory, sort_keys=True, default=str)


def test_inventory_lists_what_exists(sandbox: Sandbox, network: Network, ready_cluster: ReadyCluster) -> None:
    account = sandbox.inventory()["123456789012"]
    role = account["iam"]["roles"]["sandbox-cluster"]
    assert role["arn"] == network.cluster_role
    assert role["attachedPolicies"] == ["arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"]
    region = account["regions"]["us-east-1"]
    ec2 = region["ec2"]
    assert network.vpc_id in ec2["vpcs"]
    assert set(network.subnets) <= set(ec2["subnets"])
    assert {"internetGateways", "routeTables", "securityGroups", "launchTemplates"} <= set(ec2)
    cluster = region["eks"][ready_cluster.name]
    assert cluster["status"] == "ACTIVE"
    assert cluster["nodegroups"]["workers"]["scalingConfig"]["desiredSize"] == 3
    # EKS's own cluster security group exists in the VPC, tagged for the cluster.
    group_id = cluster["resourcesVpcConfig"]["clusterSecurityGroupId"]
    assert ec2["securityGroups"][group_id]["tags"]["aws:eks:cluster-name"] == ready_cluster.name
    assert "configmaps/kube-system/aws-auth" in cluster["kubernetes"]
    assert len([k for k in cluster["kubernetes"] if k.startswith("nodes/")]) == 3


def test_reads_change_nothing(sandbox: Sandbox, aws: Callable[..., Any], network: Network, ready_cluster: ReadyCluster) -> None:
    before = _text(sandbox.inventory())
    eks, ec2, iam = aws("eks"), aws("ec2"), aws("iam")
    eks.describe_cluster(name=ready_cluster.name)
    eks.list_nodegroups(clusterName=ready_cluster.name)
    eks.list_addons(clusterName=ready_cluster.name)
    eks.describe_cluster_versions()
    ec2.describe_subnets(SubnetIds=network.subnets)
    ec2.describe_security_groups()
    iam.get_role(RoleName="sandbox-node")
    api = new_client_from_config(config_file=str(ready_cluster.kubeconfig))
    try:
        k8s.CoreV1Api(api).read_namespaced_config_map("aws-auth", "kube-system")
        k8s.CoreV1Api(api).list_node()
    finally:
        api.close()
    assert _text(sandbox.inventory()) == before

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(f"{sandbox.aws_url}/_sandbox/inventory") as response:
        served = json.load(response)
    assert _text(served) == _text(json.loads(json.dumps(sandbox.inventory(), default=str)))
