"""The sandbox serves EKS's quotas through Service Quotas, raises them as an account does, and enforces them.

Every call goes over HTTP through boto3, so botocore parses each answer with its own
``service-quotas`` and ``eks`` models: a wrong shape or error format fails here.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from assistant.planning.quotas import EKS_QUOTAS
from assistant.sandbox import Sandbox

from .helpers import Network, create_cluster, unique, wait_cluster, wait_nodegroup

NODEGROUPS, CLUSTERS, NODES, CIDRS = "L-6D54EA21", "L-1194D53C", "L-BD136A63", "L-93A74D60"
ACCOUNT = "123456789012"


def _code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def _control(sandbox: Sandbox, region: str, **quotas: float) -> dict[str, Any]:
    body = json.dumps({"region": region, "quotas": quotas}).encode()
    request = urllib.request.Request(f"{sandbox.aws_url}/_sandbox/quotas", data=body, method="POST")
    with urllib.request.urlopen(request) as response:
        result: dict[str, Any] = json.loads(response.read())
    return result


@pytest.fixture
def restore(sandbox: Sandbox) -> Iterator[Callable[[str, str], None]]:
    """Put quotas a test changed back to their defaults (the sandbox is shared by the package)."""
    changed: list[tuple[str, str]] = []
    yield lambda region, code: changed.append((region, code))
    defaults = {q.code: q.default for q in EKS_QUOTAS}
    for region, code in changed:
        _control(sandbox, region, **{code: defaults[code]})


def test_eks_quotas_as_service_quotas_lists_them(aws: Callable[..., Any]) -> None:
    sq = aws("service-quotas")
    listed = sq.get_paginator("list_aws_default_service_quotas").paginate(ServiceCode="eks", PaginationConfig={"PageSize": 4})
    quotas = {q["QuotaCode"]: q for q in listed.build_full_result()["Quotas"]}
    assert {c: (q["QuotaName"], q["Value"], q["Adjustable"]) for c, q in quotas.items()} == {
        "L-1194D53C": ("Clusters", 100.0, True),
        "L-11427A54": ("Control plane security groups per cluster", 4.0, False),
        "L-33415657": ("Fargate profiles per cluster", 10.0, True),
        "L-23414FF3": ("Label pairs per Fargate profile selector", 5.0, True),
        "L-6D54EA21": ("Managed node groups per cluster", 30.0, True),
        "L-BD136A63": ("Nodes per managed node group", 450.0, True),
        "L-93A74D60": ("Public endpoint access CIDR ranges per cluster", 40.0, False),
        "L-FDFA5F81": ("Registered clusters", 10.0, True),
        "L-D78D8AF8": ("Selectors per Fargate profile", 5.0, True),
    }
    quota = sq.get_service_quota(ServiceCode="eks", QuotaCode=NODEGROUPS)["Quota"]
    assert quota["QuotaArn"] == f"arn:aws:servicequotas:us-east-1:{ACCOUNT}:eks/{NODEGROUPS}"
    assert quota["ServiceName"] == "Amazon Elastic Kubernetes Service (Amazon EKS)"
    assert quota["Unit"] == "None" and quota["GlobalQuota"] is False
    # moto's own data still answers for vpc.
    assert sq.get_service_quota(ServiceCode="vpc", QuotaCode="L-F678F1CE")["Quota"]["QuotaName"] == "VPCs per Region"


def test_unknown_quotas_and_operations_fail_like_aws(aws: Callable[..., Any]) -> None:
    sq = aws("service-quotas")
    for kwargs in ({"ServiceCode": "eks", "QuotaCode": "L-00000000"}, {"ServiceCode": "nope", "QuotaCode": NODEGROUPS}):
        with pytest.raises(ClientError) as exc:
            sq.get_service_quota(**kwargs)
        assert _code(exc) == "NoSuchResourceException"
    with pytest.raises(ClientError) as exc:
        sq.list_services()
    assert _code(exc) == "UnknownOperationException"


def test_an_increase_is_approved_at_once_and_applied(aws: Callable[..., Any], restore: Callable[[str, str], None]) -> None:
    sq = aws("service-quotas", region_name="eu-west-1")
    restore("eu-west-1", NODES)
    requested = sq.request_service_quota_increase(ServiceCode="eks", QuotaCode=NODES, DesiredValue=600)["RequestedQuota"]
    assert (requested["Status"], requested["DesiredValue"], requested["QuotaName"]) == (
        "APPROVED",
        600.0,
        "Nodes per managed node group",
    )
    assert sq.get_service_quota(ServiceCode="eks", QuotaCode=NODES)["Quota"]["Value"] == 600.0
    assert sq.get_aws_default_service_quota(ServiceCode="eks", QuotaCode=NODES)["Quota"]["Value"] == 450.0
    assert sq.get_requested_service_quota_change(RequestId=requested["Id"])["RequestedQuota"]["Status"] == "APPROVED"
    history = sq.list_requested_service_quota_change_history_by_quota(ServiceCode="eks", QuotaCode=NODES)["RequestedQuotas"]
    assert [r["Id"] for r in history] == [requested["Id"]]
    # Quotas are per region: us-east-1 still has the default.
    assert aws("service-quotas").get_service_quota(ServiceCode="eks", QuotaCode=NODES)["Quota"]["Value"] == 450.0

    with pytest.raises(ClientError) as exc:
        sq.request_service_quota_increase(ServiceCode="eks", QuotaCode=NODES, DesiredValue=500)
    assert _code(exc) == "IllegalArgumentException"
    assert "greater than the current quota value" in str(exc.value)
    with pytest.raises(ClientError) as exc:
        sq.request_service_quota_increase(ServiceCode="eks", QuotaCode=CIDRS, DesiredValue=50)
    assert _code(exc) == "IllegalArgumentException"


def test_node_groups_beyond_the_quota_are_refused_until_it_is_raised(
    sandbox: Sandbox, aws: Callable[..., Any], network: Network, restore: Callable[[str, str], None]
) -> None:
    eks = aws("eks")
    name = unique("quota")
    create_cluster(eks, network, name)
    wait_cluster(eks, name)
    restore("us-east-1", NODEGROUPS)
    assert _control(sandbox, "us-east-1", **{NODEGROUPS: 1})["quotas"][NODEGROUPS] == 1.0

    def create(group: str, **extra: Any) -> None:
        eks.create_nodegroup(clusterName=name, nodegroupName=group, nodeRole=network.node_role, subnets=network.subnets, **extra)

    create("one")
    wait_nodegroup(eks, name, "one")
    with pytest.raises(ClientError) as exc:
        create("two")
    assert _code(exc) == "ResourceLimitExceededException"
    assert exc.value.response["Error"]["Message"].startswith(f"Nodegroup limit exceeded for cluster {name}")
    assert eks.list_nodegroups(clusterName=name)["nodegroups"] == ["one"]

    aws("service-quotas").request_service_quota_increase(ServiceCode="eks", QuotaCode=NODEGROUPS, DesiredValue=2)
    create("two")
    # Nodes per group: a max size above the quota is refused, on create and on update.
    aws("service-quotas").request_service_quota_increase(ServiceCode="eks", QuotaCode=NODEGROUPS, DesiredValue=3)
    with pytest.raises(ClientError) as exc:
        create("big", scalingConfig={"minSize": 1, "maxSize": 451, "desiredSize": 1})
    assert _code(exc) == "InvalidParameterException" and "450 nodes per managed node group" in str(exc.value)
    wait_nodegroup(eks, name, "one")
    with pytest.raises(ClientError) as exc:
        eks.update_nodegroup_config(clusterName=name, nodegroupName="one", scalingConfig={"maxSize": 451})
    assert _code(exc) == "InvalidParameterException" and "450 nodes per managed node group" in str(exc.value)


def test_clusters_beyond_the_regions_quota_are_refused(
    sandbox: Sandbox, aws: Callable[..., Any], network: Network, restore: Callable[[str, str], None]
) -> None:
    region = "ap-south-1"
    ec2, eks = aws("ec2", region_name=region), aws("eks", region_name=region)
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.9.{i}.0/24", AvailabilityZone=f"{region}{zone}")["Subnet"]["SubnetId"]
        for i, zone in enumerate("ab")
    ]
    restore(region, CLUSTERS)
    _control(sandbox, region, **{CLUSTERS: len(eks.list_clusters()["clusters"]) + 1})
    first, token = unique("q"), unique("token")
    eks.create_cluster(
        name=first, roleArn=network.cluster_role, resourcesVpcConfig={"subnetIds": subnets}, clientRequestToken=token
    )
    with pytest.raises(ClientError) as exc:
        eks.create_cluster(name=unique("q"), roleArn=network.cluster_role, resourcesVpcConfig={"subnetIds": subnets})
    assert _code(exc) == "ResourceLimitExceededException"
    assert exc.value.response["Error"]["Message"] == "Cluster limit exceeded for account."
    # A retry of the create that went through is answered, not counted again.
    again = eks.create_cluster(
        name=first, roleArn=network.cluster_role, resourcesVpcConfig={"subnetIds": subnets}, clientRequestToken=token
    )
    assert again["cluster"]["name"] == first
    wait_cluster(eks, first)
    # 41 public endpoint CIDRs: more than EKS takes (not adjustable).
    cidrs = [f"203.0.{i}.0/24" for i in range(41)]
    with pytest.raises(ClientError) as exc:
        eks.update_cluster_config(name=first, resourcesVpcConfig={"publicAccessCidrs": cidrs})
    assert _code(exc) == "InvalidParameterException"
