"""Clusters, node groups and add-ons move through their states over time, as on EKS."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from assistant.sandbox import Sandbox

from .helpers import Network, PausableClock, create_cluster, unique, wait_cluster, wait_gone, wait_nodegroup, wait_status


def test_cluster_nodegroup_lifecycle(aws: Callable[..., Any], network: Network, sandbox: Sandbox, clock: PausableClock) -> None:
    eks = aws("eks")
    name = unique("life")
    with clock.paused():  # hold the cluster in CREATING while we look at it
        created = create_cluster(eks, network, name)
        assert created["status"] == "CREATING"
        assert "endpoint" not in created  # no API server yet
        assert eks.describe_cluster(name=name)["cluster"]["status"] == "CREATING"
        with pytest.raises(ClientError) as exc:
            eks.create_nodegroup(clusterName=name, nodegroupName="early", nodeRole=network.node_role, subnets=network.subnets)
        assert exc.value.response["Error"]["Code"] == "InvalidRequestException"

    active = wait_cluster(eks, name)
    assert active["endpoint"].startswith(f"{sandbox.k8s_url}/k8s/{name}-")
    assert base64.b64decode(active["certificateAuthority"]["data"]).decode() == sandbox.ca_pem

    nodegroup = eks.create_nodegroup(
        clusterName=name,
        nodegroupName="ng",
        nodeRole=network.node_role,
        subnets=network.subnets,
        scalingConfig={"minSize": 1, "maxSize": 3, "desiredSize": 1},
    )["nodegroup"]
    assert nodegroup["status"] == "CREATING"
    assert nodegroup["version"] == active["version"]
    wait_nodegroup(eks, name, "ng")

    with clock.paused():
        update = eks.update_nodegroup_config(clusterName=name, nodegroupName="ng", scalingConfig={"desiredSize": 2})["update"]
        assert update["status"] == "InProgress"
        assert {"type": "DesiredSize", "value": "2"} in update["params"]
        assert eks.describe_nodegroup(clusterName=name, nodegroupName="ng")["nodegroup"]["status"] == "UPDATING"
        with pytest.raises(eks.exceptions.ResourceInUseException):
            eks.update_nodegroup_config(clusterName=name, nodegroupName="ng", scalingConfig={"desiredSize": 3})
    wait_nodegroup(eks, name, "ng")
    done = eks.describe_update(name=name, updateId=update["id"], nodegroupName="ng")["update"]
    assert done["status"] == "Successful"
    assert eks.describe_nodegroup(clusterName=name, nodegroupName="ng")["nodegroup"]["scalingConfig"]["desiredSize"] == 2

    with pytest.raises(eks.exceptions.ResourceInUseException) as in_use:
        eks.delete_cluster(name=name)
    assert "nodegroups attached" in str(in_use.value)

    with clock.paused():
        assert eks.delete_nodegroup(clusterName=name, nodegroupName="ng")["nodegroup"]["status"] == "DELETING"
        assert eks.describe_nodegroup(clusterName=name, nodegroupName="ng")["nodegroup"]["status"] == "DELETING"
        # A deleting node group still blocks the cluster's deletion, as on EKS.
        with pytest.raises(eks.exceptions.ResourceInUseException):
            eks.delete_cluster(name=name)
    wait_gone(lambda: eks.describe_nodegroup(clusterName=name, nodegroupName="ng"), eks.exceptions.ResourceNotFoundException)

    with clock.paused():
        assert eks.delete_cluster(name=name)["cluster"]["status"] == "DELETING"
        assert eks.describe_cluster(name=name)["cluster"]["status"] == "DELETING"
    wait_gone(lambda: eks.describe_cluster(name=name), eks.exceptions.ResourceNotFoundException)
    assert name not in eks.list_clusters()["clusters"]


def test_nodegroup_validation(aws: Callable[..., Any], network: Network) -> None:
    eks = aws("eks")
    name = unique("ngval")
    create_cluster(eks, network, name)
    wait_cluster(eks, name)
    base = {"clusterName": name, "nodegroupName": "ng", "nodeRole": network.node_role, "subnets": network.subnets}
    for bad in (
        {"scalingConfig": {"minSize": 3, "maxSize": 2, "desiredSize": 2}},
        {"instanceTypes": ["m99.gigantic"]},
        {"nodeRole": "arn:aws:iam::123456789012:role/missing"},
        {"subnets": ["subnet-00000000"]},
    ):
        with pytest.raises(ClientError) as exc:
            eks.create_nodegroup(**{**base, **bad})
        assert exc.value.response["Error"]["Code"] == "InvalidParameterException", bad
    assert eks.list_nodegroups(clusterName=name)["nodegroups"] == []


def test_client_request_token_makes_creates_idempotent(aws: Callable[..., Any], network: Network) -> None:
    eks = aws("eks")
    name = unique("token")
    first = create_cluster(eks, network, name, clientRequestToken="tok-cluster-1")
    again = create_cluster(eks, network, name, clientRequestToken="tok-cluster-1")
    assert again["arn"] == first["arn"] and again["createdAt"] == first["createdAt"]
    with pytest.raises(eks.exceptions.ResourceInUseException):
        create_cluster(eks, network, name, clientRequestToken="another-token")
    wait_cluster(eks, name)

    ng = {"clusterName": name, "nodegroupName": "ng", "nodeRole": network.node_role, "subnets": network.subnets}
    first_ng = eks.create_nodegroup(**ng, clientRequestToken="tok-ng-1")["nodegroup"]
    again_ng = eks.create_nodegroup(**ng, clientRequestToken="tok-ng-1")["nodegroup"]
    assert again_ng["nodegroupArn"] == first_ng["nodegroupArn"]
    with pytest.raises(eks.exceptions.ResourceInUseException):
        eks.create_nodegroup(**ng, clientRequestToken="tok-ng-2")

    first_addon = eks.create_addon(clusterName=name, addonName="kube-proxy", clientRequestToken="tok-addon-1")["addon"]
    again_addon = eks.create_addon(clusterName=name, addonName="kube-proxy", clientRequestToken="tok-addon-1")["addon"]
    assert again_addon["addonArn"] == first_addon["addonArn"]
    with pytest.raises(eks.exceptions.ResourceInUseException):
        eks.create_addon(clusterName=name, addonName="kube-proxy", clientRequestToken="tok-addon-2")
    wait_status(lambda: eks.describe_addon(clusterName=name, addonName="kube-proxy")["addon"], "ACTIVE")

    assert eks.list_nodegroups(clusterName=name)["nodegroups"] == ["ng"]
    assert eks.list_clusters()["clusters"].count(name) == 1
