"""A cluster's Kubernetes API follows its EKS state: add-on settings, node groups, aws-auth, deletion."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client as k8s
from kubernetes.client.rest import ApiException
from kubernetes.config import new_client_from_config

from .helpers import (
    Network,
    create_cluster,
    unique,
    wait_cluster,
    wait_for,
    wait_gone,
    wait_nodegroup,
    wait_status,
    write_kubeconfig,
)


def test_kubernetes_side_follows_eks(aws: Callable[..., Any], network: Network, tmp_path: Path) -> None:
    eks = aws("eks")
    name = unique("follow")
    create_cluster(eks, network, name)
    cluster = wait_cluster(eks, name)
    api = new_client_from_config(
        config_file=str(write_kubeconfig(tmp_path / "config", cluster["endpoint"], cluster["certificateAuthority"]["data"]))
    )
    core, apps = k8s.CoreV1Api(api), k8s.AppsV1Api(api)
    try:
        # Prefix delegation must be on before nodes launch to raise their pod capacity.
        eks.create_addon(
            clusterName=name, addonName="vpc-cni", configurationValues='{"env": {"ENABLE_PREFIX_DELEGATION": "true"}}'
        )
        wait_status(lambda: eks.describe_addon(clusterName=name, addonName="vpc-cni")["addon"], "ACTIVE")
        aws_node = apps.read_namespaced_daemon_set("aws-node", "kube-system").spec.template.spec.containers[0]
        assert {e.name: e.value for e in aws_node.env}["ENABLE_PREFIX_DELEGATION"] == "true"
        assert aws_node.image.endswith("amazon-k8s-cni:v1.19.6-eksbuild.1")
        assert "aws-auth" not in {cm.metadata.name for cm in core.list_namespaced_config_map("kube-system").items}

        common = {"clusterName": name, "nodeRole": network.node_role, "subnets": network.subnets, "instanceTypes": ["m5.large"]}
        eks.create_nodegroup(nodegroupName="a", scalingConfig={"minSize": 1, "maxSize": 3, "desiredSize": 1}, **common)
        wait_nodegroup(eks, name, "a")
        nodes = core.list_node().items
        assert len(nodes) == 1
        assert nodes[0].status.capacity["pods"] == "110"  # capped for a 2-vCPU instance with prefixes

        eks.update_nodegroup_config(clusterName=name, nodegroupName="a", scalingConfig={"desiredSize": 2})
        wait_for(lambda: len(core.list_node(label_selector="eks.amazonaws.com/nodegroup=a").items) == 2, what="scale-up")
        assert nodes[0].metadata.name in {n.metadata.name for n in core.list_node().items}  # old nodes stay

        eks.create_nodegroup(
            nodegroupName="b",
            scalingConfig={"minSize": 1, "maxSize": 1, "desiredSize": 1},
            labels={"workload": "batch"},
            taints=[{"key": "dedicated", "value": "batch", "effect": "NO_SCHEDULE"}],
            **common,
        )
        wait_nodegroup(eks, name, "b")
        (batch_node,) = core.list_node(label_selector="workload=batch").items
        assert [(t.key, t.value, t.effect) for t in batch_node.spec.taints] == [("dedicated", "batch", "NoSchedule")]
        roles = yaml.safe_load(core.read_namespaced_config_map("aws-auth", "kube-system").data["mapRoles"])
        assert len(roles) == 1  # one role, one mapping, however many node groups use it

        eks.delete_nodegroup(clusterName=name, nodegroupName="a")
        wait_gone(lambda: eks.describe_nodegroup(clusterName=name, nodegroupName="a"), eks.exceptions.ResourceNotFoundException)
        assert [n.metadata.labels["eks.amazonaws.com/nodegroup"] for n in core.list_node().items] == ["b"]
        roles = yaml.safe_load(core.read_namespaced_config_map("aws-auth", "kube-system").data["mapRoles"])
        assert len(roles) == 1  # node group b still needs the mapping

        eks.delete_nodegroup(clusterName=name, nodegroupName="b")
        wait_gone(lambda: eks.describe_nodegroup(clusterName=name, nodegroupName="b"), eks.exceptions.ResourceNotFoundException)
        assert core.list_node().items == []
        assert yaml.safe_load(core.read_namespaced_config_map("aws-auth", "kube-system").data["mapRoles"]) == []

        eks.delete_cluster(name=name)
        wait_gone(lambda: eks.describe_cluster(name=name), eks.exceptions.ResourceNotFoundException)
        with pytest.raises(ApiException) as gone:
            core.list_namespace()
        assert gone.value.status == 404
    finally:
        api.close()
