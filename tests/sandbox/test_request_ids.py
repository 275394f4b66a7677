"""Every sandbox answer carries its own request id, where its protocol carries one (field report 13).

AWS names each response: JSON and REST protocols in the ``x-amzn-RequestId`` header, query
protocols (IAM, STS) in ``ResponseMetadata/RequestId`` and EC2 in ``requestId`` in the body,
with the same id in the header. moto 5.2.5's serializer writes the constant ``request-id`` into
EC2 bodies, which botocore reads first, so every EC2 call in the audit log had that placeholder.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .helpers import TRUST_EC2, Network, unique


def _ids(call: Callable[[], Any]) -> tuple[str, str]:
    """(botocore's parsed RequestId, the x-amzn-requestid header) of one call."""
    response = call()
    meta = response["ResponseMetadata"]
    return meta["RequestId"], meta["HTTPHeaders"].get("x-amzn-requestid", "")


def test_each_protocol_answers_a_unique_id_consistent_in_header_and_body(aws: Callable[..., Any], network: Network) -> None:
    ec2, iam, sts, eks = aws("ec2"), aws("iam"), aws("sts"), aws("eks")
    calls = {
        "ec2 CreateVpc": lambda: ec2.create_vpc(CidrBlock="10.77.0.0/16"),
        "ec2 CreateInternetGateway": ec2.create_internet_gateway,
        "ec2 CreateTags": lambda: ec2.create_tags(Resources=[network.vpc_id], Tags=[{"Key": "k", "Value": "v"}]),
        "ec2 DescribeVpcs": ec2.describe_vpcs,
        "iam CreateRole": lambda: iam.create_role(RoleName=unique("rid"), AssumeRolePolicyDocument=TRUST_EC2),
        "iam ListRoles": iam.list_roles,
        "sts GetCallerIdentity": sts.get_caller_identity,
        "eks ListClusters": eks.list_clusters,
    }
    seen: dict[str, str] = {}
    for name, call in calls.items():
        parsed, header = _ids(call)
        assert parsed and parsed != "request-id", f"{name}: placeholder request id {parsed!r}"
        assert parsed == header, f"{name}: body says {parsed!r}, header says {header!r}"
        assert parsed not in seen.values(), f"{name} repeats the id of {seen}"
        seen[name] = parsed


def test_errors_carry_their_request_id_too(aws: Callable[..., Any]) -> None:
    ec2 = aws("ec2", retries={"mode": "standard", "max_attempts": 1})
    with pytest.raises(ClientError) as exc:
        ec2.delete_vpc(VpcId="vpc-00000000000000000")
    meta = exc.value.response["ResponseMetadata"]
    assert meta["RequestId"] not in ("", "request-id")
    assert meta["RequestId"] == meta["HTTPHeaders"]["x-amzn-requestid"]
