"""Tagging EKS resources by ARN: clusters, node groups, add-ons and access entries.

moto tags clusters only; TagResource on a node group's ARN failed, so changing
``metadata.tags`` of an existing cluster failed in the sandbox.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .helpers import Network, create_cluster, unique, wait_cluster, wait_nodegroup, wait_status


@pytest.fixture
def resources(aws: Callable[..., Any], network: Network) -> dict[str, str]:
    """ARNs of an ACTIVE cluster, node group, add-on and access entry, each created with tag ``team=a``."""
    eks = aws("eks")
    name = unique("tag")
    create_cluster(eks, network, name, tags={"team": "a"}, accessConfig={"authenticationMode": "API_AND_CONFIG_MAP"})
    cluster = wait_cluster(eks, name)
    eks.create_nodegroup(
        clusterName=name,
        nodegroupName="ng",
        nodeRole=network.node_role,
        subnets=network.subnets,
        scalingConfig={"minSize": 1, "maxSize": 1, "desiredSize": 1},
        tags={"team": "a"},
    )
    nodegroup = wait_nodegroup(eks, name, "ng")
    eks.create_addon(clusterName=name, addonName="vpc-cni", tags={"team": "a"})
    addon = wait_status(lambda: eks.describe_addon(clusterName=name, addonName="vpc-cni")["addon"], "ACTIVE")
    entry = eks.create_access_entry(clusterName=name, principalArn=network.cluster_role, tags={"team": "a"})
    return {
        "cluster": cluster["arn"],
        "nodegroup": nodegroup["nodegroupArn"],
        "addon": addon["addonArn"],
        "access-entry": entry["accessEntry"]["accessEntryArn"],
    }


@pytest.mark.parametrize("kind", ["cluster", "nodegroup", "addon", "access-entry"])
def test_tag_untag_and_list_by_arn(aws: Callable[..., Any], resources: dict[str, str], kind: str) -> None:
    eks = aws("eks")
    arn = resources[kind]
    assert eks.list_tags_for_resource(resourceArn=arn)["tags"] == {"team": "a"}
    eks.tag_resource(resourceArn=arn, tags={"team": "b", "env": "dev"})
    assert eks.list_tags_for_resource(resourceArn=arn)["tags"] == {"team": "b", "env": "dev"}
    eks.untag_resource(resourceArn=arn, tagKeys=["team", "not-there"])
    assert eks.list_tags_for_resource(resourceArn=arn)["tags"] == {"env": "dev"}


def test_describe_shows_the_new_tags(aws: Callable[..., Any], resources: dict[str, str]) -> None:
    eks = aws("eks")
    for arn in resources.values():
        eks.tag_resource(resourceArn=arn, tags={"cost-centre": "42"})
    cluster_name = resources["cluster"].rsplit("/", 1)[1]
    assert eks.describe_cluster(name=cluster_name)["cluster"]["tags"]["cost-centre"] == "42"
    assert eks.describe_nodegroup(clusterName=cluster_name, nodegroupName="ng")["nodegroup"]["tags"]["cost-centre"] == "42"
    assert eks.describe_addon(clusterName=cluster_name, addonName="vpc-cni")["addon"]["tags"]["cost-centre"] == "42"


def test_tagging_refuses_what_eks_refuses(aws: Callable[..., Any], resources: dict[str, str]) -> None:
    eks = aws("eks")
    cluster, nodegroup = resources["cluster"], resources["nodegroup"]
    refused = {
        "unknown node group": (
            nodegroup.rsplit("/", 1)[0] + "/00000000-0000-0000-0000-000000000000",
            {"a": "b"},
            "NotFoundException",
        ),
        "unknown cluster": (cluster + "-gone", {"a": "b"}, "NotFoundException"),
        "other region": (cluster.replace("us-east-1", "eu-west-1"), {"a": "b"}, "NotFoundException"),
        "not an EKS ARN": ("arn:aws:iam::123456789012:role/x", {"a": "b"}, "BadRequestException"),
        "reserved prefix": (cluster, {"aws:reserved": "x"}, "BadRequestException"),
        "over 50 tags": (cluster, {f"k{i}": "v" for i in range(50)}, "BadRequestException"),  # with team: 51
    }
    for what, (arn, tags, code) in refused.items():
        with pytest.raises(ClientError) as exc:
            eks.tag_resource(resourceArn=arn, tags=tags)
        assert exc.value.response["Error"]["Code"] == code, what
    assert eks.list_tags_for_resource(resourceArn=cluster)["tags"] == {"team": "a"}
