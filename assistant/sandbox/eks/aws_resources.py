"""The IAM and EC2 things EKS checks or creates, looked up in moto's own backends."""

from __future__ import annotations

import uuid
from typing import Any

from assistant.sandbox.eks.errors import InvalidParameter


def find_role(account_id: str, role_arn: str) -> Any | None:
    """The moto IAM role with exactly this ARN, if it exists."""
    from moto.iam.models import iam_backends

    partition = role_arn.split(":")[1] if role_arn.count(":") >= 5 else "aws"
    return next((r for r in iam_backends[account_id][partition].roles.values() if r.arn == role_arn), None)


def require_role(account_id: str, role_arn: str) -> None:
    """EKS refuses roles it cannot assume; the sandbox checks that the role exists."""
    if not role_arn or find_role(account_id, role_arn) is None:
        raise InvalidParameter(
            f"Role with arn: {role_arn}, could not be assumed because it does not exist or the trusted entity is not correct"
        )


def require_subnets(account_id: str, region: str, subnet_ids: list[str], min_azs: int) -> str | None:
    """Check the subnets exist (and span ``min_azs`` zones); returns their VPC id."""
    from moto.ec2.exceptions import InvalidSubnetIdError
    from moto.ec2.models import ec2_backends

    ec2 = ec2_backends[account_id][region]
    zones, vpcs = set(), set()
    for subnet_id in subnet_ids:
        try:
            subnet = ec2.get_subnet(subnet_id)
        except InvalidSubnetIdError:
            raise InvalidParameter(f"The subnet ID '{subnet_id}' does not exist") from None
        zones.add(subnet.availability_zone)
        vpcs.add(subnet.vpc_id)
    if len(zones) < min_azs:
        raise InvalidParameter(f"Subnets specified must be in at least {min_azs} different AZs")
    if len(vpcs) > 1:
        raise InvalidParameter("Subnets must all belong to the same VPC")
    return next(iter(vpcs), None)


def subnet_zone(account_id: str, region: str, subnet_id: str) -> str:
    """The availability zone of a subnet (``?`` if it is gone)."""
    from moto.ec2.exceptions import InvalidSubnetIdError
    from moto.ec2.models import ec2_backends

    try:
        return str(ec2_backends[account_id][region].get_subnet(subnet_id).availability_zone)
    except InvalidSubnetIdError:
        return "?"


def create_cluster_security_group(account_id: str, region: str, vpc_id: str, cluster_name: str) -> str:
    """The ``eks-cluster-sg-*`` group EKS creates in the cluster's VPC."""
    from moto.ec2.models import ec2_backends

    group = ec2_backends[account_id][region].create_security_group(
        name=f"eks-cluster-sg-{cluster_name}-{uuid.uuid4().int % 10**10:010d}",
        description=(
            "EKS created security group applied to ENI that is attached to EKS Control Plane master nodes, "
            "as well as any managed workloads."
        ),
        vpc_id=vpc_id,
        tags={"aws:eks:cluster-name": cluster_name, f"kubernetes.io/cluster/{cluster_name}": "owned"},
    )
    return str(group.id)


def delete_security_group(account_id: str, region: str, group_id: str) -> None:
    """Remove a group EKS created, if it is still there."""
    from moto.ec2.models import ec2_backends

    try:
        ec2_backends[account_id][region].delete_security_group(group_id=group_id)
    except Exception:  # already gone or still referenced: EKS would retry; the sandbox lets it be
        return
