"""Node groups on instance types the sandbox has no capacity for go CREATE_FAILED, as on EKS."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from assistant.sandbox import Sandbox
from assistant.sandbox.eks.catalog import NO_CAPACITY_INSTANCE_TYPES

from .helpers import Network, PausableClock, create_cluster, unique, wait_cluster, wait_gone, wait_nodegroup

SCARCE = sorted(NO_CAPACITY_INSTANCE_TYPES)[0]


def _nodes(sandbox: Sandbox, cluster: str) -> list[str]:
    """Names of the Node objects in the cluster's Kubernetes API."""
    for account in sandbox.inventory().values():
        found = account["regions"].get("us-east-1", {}).get("eks", {}).get(cluster)
        if found is not None:
            return sorted(key for key in (found["kubernetes"] or {}) if key.startswith("nodes/"))
    raise AssertionError(f"no cluster {cluster}")


def test_scarce_instance_type_fails_the_node_group(
    aws: Callable[..., Any], network: Network, sandbox: Sandbox, clock: PausableClock
) -> None:
    eks = aws("eks")
    name = unique("scarce")
    create_cluster(eks, network, name)
    wait_cluster(eks, name)
    base = {"clusterName": name, "nodeRole": network.node_role, "subnets": network.subnets}
    scaling = {"minSize": 1, "maxSize": 2, "desiredSize": 1}
    with clock.paused():
        # Accepted like any other create: the capacity problem shows only once instances launch.
        created = eks.create_nodegroup(nodegroupName="gpu", instanceTypes=[SCARCE], scalingConfig=scaling, **base)["nodegroup"]
        assert created["status"] == "CREATING" and created["health"]["issues"] == []
    # One type with capacity is enough, as with a real Auto Scaling group.
    eks.create_nodegroup(nodegroupName="mixed", instanceTypes=[SCARCE, "m5.large"], scalingConfig=scaling, **base)

    failed = wait_nodegroup(eks, name, "gpu", "CREATE_FAILED")
    [issue] = failed["health"]["issues"]
    assert issue["code"] == "AsgInstanceLaunchFailures"
    assert f"InsufficientInstanceCapacity - We currently do not have sufficient {SCARCE} capacity" in issue["message"]
    assert "(us-east-1a)" in issue["message"]
    assert issue["resourceIds"] == [failed["resources"]["autoScalingGroups"][0]["name"]]
    wait_nodegroup(eks, name, "mixed")
    assert len(_nodes(sandbox, name)) == 1  # the mixed group's one node; the failed group has none

    # It stays failed: no update is accepted, and nothing retries it into life.
    with pytest.raises(ClientError) as refused:
        eks.update_nodegroup_config(clusterName=name, nodegroupName="gpu", scalingConfig={"desiredSize": 2})
    assert refused.value.response["Error"]["Code"] == "ResourceInUseException"
    assert eks.describe_nodegroup(clusterName=name, nodegroupName="gpu")["nodegroup"]["status"] == "CREATE_FAILED"

    # A failed group still blocks its cluster's deletion until it is deleted, then goes.
    with pytest.raises(eks.exceptions.ResourceInUseException):
        eks.delete_cluster(name=name)
    for group in ("gpu", "mixed"):
        assert eks.delete_nodegroup(clusterName=name, nodegroupName=group)["nodegroup"]["status"] == "DELETING"
    for group in ("gpu", "mixed"):
        wait_gone(
            lambda g=group: eks.describe_nodegroup(clusterName=name, nodegroupName=g), eks.exceptions.ResourceNotFoundException
        )
    eks.delete_cluster(name=name)
    wait_gone(lambda: eks.describe_cluster(name=name), eks.exceptions.ResourceNotFoundException)


def test_spot_groups_fail_with_spot_wording(aws: Callable[..., Any], network: Network) -> None:
    eks = aws("eks")
    name = unique("scarcespot")
    create_cluster(eks, network, name)
    wait_cluster(eks, name)
    eks.create_nodegroup(
        clusterName=name,
        nodegroupName="gpu",
        nodeRole=network.node_role,
        subnets=network.subnets[1:],
        instanceTypes=[SCARCE],
        capacityType="SPOT",
    )
    [issue] = wait_nodegroup(eks, name, "gpu", "CREATE_FAILED")["health"]["issues"]
    assert issue["message"].startswith("Could not launch Spot Instances.") and "(us-east-1b)" in issue["message"]
