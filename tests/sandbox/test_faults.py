"""Injected throttling, 5xx and latency: protocol-correct, before moto, and retried by boto3."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from assistant.sandbox import FaultConfig, Sandbox

from .helpers import TRUST_EC2, Network, create_cluster, unique, wait_cluster, wait_nodegroup

NO_RETRIES = {"retries": {"mode": "standard", "max_attempts": 1}}


def _error(call: Callable[[], Any]) -> tuple[str, int]:
    with pytest.raises(ClientError) as exc:
        call()
    return exc.value.response["Error"]["Code"], exc.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_throttles_speak_each_protocol(aws: Callable[..., Any], sandbox: Sandbox) -> None:
    sandbox.set_faults(FaultConfig(throttle=1.0))
    assert _error(lambda: aws("eks", **NO_RETRIES).list_clusters()) == ("ThrottlingException", 429)
    assert _error(lambda: aws("ec2", **NO_RETRIES).describe_vpcs()) == ("RequestLimitExceeded", 503)
    assert _error(lambda: aws("iam", **NO_RETRIES).list_roles()) == ("Throttling", 400)
    assert _error(lambda: aws("sts", **NO_RETRIES).get_caller_identity()) == ("Throttling", 400)

    sandbox.set_faults(FaultConfig(error5xx=1.0))
    assert _error(lambda: aws("eks", **NO_RETRIES).list_clusters()) == ("ServiceUnavailableException", 503)
    assert _error(lambda: aws("ec2", **NO_RETRIES).describe_vpcs()) == ("ServiceUnavailable", 503)
    assert _error(lambda: aws("iam", **NO_RETRIES).list_roles()) == ("ServiceUnavailable", 503)


def test_a_fault_happens_before_anything_changes(aws: Callable[..., Any], sandbox: Sandbox) -> None:
    iam = aws("iam", **NO_RETRIES)
    name = unique("faulted")
    sandbox.set_faults(FaultConfig(throttle=1.0))
    with pytest.raises(ClientError):
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST_EC2)
    sandbox.set_faults(FaultConfig())
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_role(RoleName=name)


def test_retries_converge_under_faults(aws: Callable[..., Any], sandbox: Sandbox, network: Network) -> None:
    retrying = {"retries": {"mode": "standard", "max_attempts": 10}}
    eks, iam, ec2 = aws("eks", **retrying), aws("iam", **retrying), aws("ec2", **retrying)
    before = sandbox.fault_counts()
    sandbox.set_faults(FaultConfig(throttle=0.1, error5xx=0.1, seed=20240601))

    role = unique("retry-role")
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=TRUST_EC2)
    iam.attach_role_policy(RoleName=role, PolicyArn="arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy")
    ec2.create_tags(Resources=[network.vpc_id], Tags=[{"Key": "retried", "Value": "yes"}])
    name = unique("retry")
    create_cluster(eks, network, name)
    wait_cluster(eks, name)
    eks.create_nodegroup(clusterName=name, nodegroupName="ng", nodeRole=network.node_role, subnets=network.subnets)
    wait_nodegroup(eks, name, "ng")
    eks.create_addon(clusterName=name, addonName="vpc-cni")
    assert iam.get_role(RoleName=role)["Role"]["RoleName"] == role
    assert eks.list_nodegroups(clusterName=name)["nodegroups"] == ["ng"]

    counts = sandbox.fault_counts()
    assert counts["throttle"] > before["throttle"]
    assert counts["error5xx"] > before["error5xx"]
    sandbox.set_faults(FaultConfig())
    account = sandbox.inventory()["123456789012"]
    assert account["iam"]["roles"][role]["attachedPolicies"] == ["arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy"]
    region = account["regions"]["us-east-1"]
    assert list(region["eks"][name]["nodegroups"]) == ["ng"]
    assert list(region["eks"][name]["addons"]) == ["vpc-cni"]
    assert region["ec2"]["vpcs"][network.vpc_id]["retried"] == "yes"


def test_control_endpoints(sandbox: Sandbox) -> None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(
        f"{sandbox.aws_url}/_sandbox/faults",
        data=json.dumps({"throttle": 1.0, "latency_ms": 1}).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with opener.open(request) as response:
        assert json.load(response)["config"]["throttle"] == 1.0
    # Control endpoints are never faulted, even at a 100% throttle rate.
    with opener.open(f"{sandbox.aws_url}/_sandbox/health") as response:
        health = json.load(response)
    assert health["ok"] is True
    assert health["aws_url"] == sandbox.aws_url and health["k8s_url"] == sandbox.k8s_url
    assert health["latency"] == {"name": "fast", "time_scale": 1.0}
    assert set(health["faults"]["counts"]) == {"requests", "throttle", "error5xx", "latency"}
    with opener.open(f"{sandbox.aws_url}/_sandbox/ca.pem") as response:
        assert response.read().decode() == sandbox.ca_pem

    bad = urllib.request.Request(
        f"{sandbox.aws_url}/_sandbox/faults", data=b'{"throttle": 2}', method="POST", headers={"Content-Type": "application/json"}
    )
    with pytest.raises(urllib.error.HTTPError) as exc:
        opener.open(bad)
    assert exc.value.code == 400
    exc.value.close()
    with pytest.raises(ValueError):
        FaultConfig(throttle=0.7, error5xx=0.7)
    with pytest.raises(ValueError):
        FaultConfig(latency_ms=-1)
