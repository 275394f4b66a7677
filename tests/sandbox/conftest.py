"""Sandbox fixtures: one sandbox for the package, AWS clients and a kubeconfig pointed at it."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from assistant.sandbox import FaultConfig, Sandbox
from assistant.sandbox.k8s.auth import allow_all_as_admin

from .helpers import (
    TRUST_EC2,
    TRUST_EKS,
    Network,
    PausableClock,
    ReadyCluster,
    client,
    create_cluster,
    unique,
    wait_cluster,
    wait_nodegroup,
    write_kubeconfig,
)


@pytest.fixture(scope="package")
def clock() -> PausableClock:
    """The sandbox's clock: real time, unless a test pauses it."""
    return PausableClock()


@pytest.fixture(scope="package")
def sandbox(clock: PausableClock) -> Iterator[Sandbox]:
    """One fast-profile sandbox for the whole package (moto's state is process-wide anyway).

    These tests are about the emulation, not authentication (tests/auth covers that), so every
    caller is the cluster admin here, whatever its token.
    """
    with Sandbox(latency="fast", clock=clock, authenticator=allow_all_as_admin) as sb:
        yield sb


@pytest.fixture(autouse=True)
def sandbox_env(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """boto3 reaches the sandbox through the standard AWS_* variables; faults are off between tests."""
    for key, value in sandbox.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_CA_BUNDLE", raising=False)
    sandbox.set_faults(FaultConfig())
    yield
    # Reset here too: package fixtures set up before the next test's own fixtures run.
    sandbox.set_faults(FaultConfig())


@pytest.fixture
def aws(sandbox: Sandbox) -> Callable[..., Any]:
    """``aws("eks")`` → a client; keyword arguments become a botocore ``Config``."""
    return lambda service, **config: client(sandbox, service, **config)


@pytest.fixture(scope="package")
def network(sandbox: Sandbox) -> Network:
    """A VPC with two subnets in two zones, a cluster role and a node role (with an IAM path)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AWS_CONFIG_FILE", "/nonexistent/eks-assist-test")
        iam, ec2 = client(sandbox, "iam"), client(sandbox, "ec2")
        cluster_role = iam.create_role(RoleName="sandbox-cluster", AssumeRolePolicyDocument=TRUST_EKS)["Role"]["Arn"]
        iam.attach_role_policy(RoleName="sandbox-cluster", PolicyArn="arn:aws:iam::aws:policy/AmazonEKSClusterPolicy")
        node_role = iam.create_role(RoleName="sandbox-node", Path="/eks/", AssumeRolePolicyDocument=TRUST_EC2)["Role"]["Arn"]
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnets = [
            ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"us-east-1{zone}")["Subnet"]["SubnetId"]
            for i, zone in enumerate("ab")
        ]
    return Network(cluster_role, node_role, subnets, vpc)


@pytest.fixture(scope="package")
def ready_cluster(sandbox: Sandbox, network: Network, tmp_path_factory: pytest.TempPathFactory) -> ReadyCluster:
    """A cluster whose node group is ACTIVE, so its Kubernetes API has nodes and aws-auth."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AWS_CONFIG_FILE", "/nonexistent/eks-assist-test")
        eks = client(sandbox, "eks")
        name = unique("k8s")
        create_cluster(eks, network, name)
        cluster = wait_cluster(eks, name)
        eks.create_nodegroup(
            clusterName=name,
            nodegroupName="workers",
            nodeRole=network.node_role,
            subnets=network.subnets,
            instanceTypes=["m5.large"],
            scalingConfig={"minSize": 1, "maxSize": 4, "desiredSize": 3},
        )
        wait_nodegroup(eks, name, "workers")
    assert base64.b64decode(cluster["certificateAuthority"]["data"]).decode() == sandbox.ca_pem
    kubeconfig = write_kubeconfig(
        tmp_path_factory.mktemp("kube") / "config", cluster["endpoint"], cluster["certificateAuthority"]["data"]
    )
    return ReadyCluster(name, "workers", 3, cluster["endpoint"], cluster["certificateAuthority"]["data"], kubeconfig)
