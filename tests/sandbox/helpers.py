"""Helpers for the sandbox tests: clients, polling, names, and the shapes the fixtures return."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import boto3
import yaml
from botocore.config import Config

from assistant.sandbox import Sandbox

T = TypeVar("T")

TRUST_EKS = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "eks.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
)
TRUST_EC2 = TRUST_EKS.replace("eks.amazonaws.com", "ec2.amazonaws.com")


class PausableClock:
    """A monotonic clock that tests can stop, so a resource stays in CREATING/UPDATING while they look."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._paused_at: float | None = None

    def __call__(self) -> float:
        with self._lock:
            return self._paused_at if self._paused_at is not None else time.monotonic()

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Nothing falls due inside the block; afterwards time catches up at once."""
        with self._lock:
            self._paused_at = time.monotonic()
        try:
            yield
        finally:
            with self._lock:
                self._paused_at = None


@cache
def _session(access_key: str, secret_key: str, region: str) -> boto3.session.Session:
    # One session for all clients: loading service models once keeps the suite quick.
    return boto3.session.Session(aws_access_key_id=access_key, aws_secret_access_key=secret_key, region_name=region)


def client(sandbox: Sandbox, service: str, **config: Any) -> Any:
    """A boto3 client for the sandbox with explicit endpoint and credentials."""
    env = sandbox.env()
    session = _session(env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], env["AWS_DEFAULT_REGION"])
    return session.client(service, endpoint_url=sandbox.aws_url, config=Config(**config) if config else None)


def wait_for(check: Callable[[], T | None], timeout: float = 20.0, what: str = "condition") -> T:
    """Poll ``check`` until it returns something truthy; never assume how long a transition takes."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def unique(prefix: str) -> str:
    """A name no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True)
class Network:
    """IAM roles and subnets a cluster needs, made in the sandbox."""

    cluster_role: str
    node_role: str
    subnets: list[str]
    vpc_id: str


def create_cluster(eks: Any, network: Network, name: str, **extra: Any) -> dict[str, Any]:
    """CreateCluster with the network's role and subnets."""
    response = eks.create_cluster(
        name=name, roleArn=network.cluster_role, resourcesVpcConfig={"subnetIds": network.subnets}, **extra
    )
    cluster: dict[str, Any] = response["cluster"]
    return cluster


def wait_status(describe: Callable[[], dict[str, Any]], status: str) -> dict[str, Any]:
    """Poll a describe call until the resource reaches ``status``."""
    return wait_for(lambda: (r := describe()) and r["status"] == status and r, what=f"status {status}")


def wait_cluster(eks: Any, name: str, status: str = "ACTIVE") -> dict[str, Any]:
    """The cluster once it has ``status``."""
    return wait_status(lambda: eks.describe_cluster(name=name)["cluster"], status)


def wait_nodegroup(eks: Any, cluster: str, nodegroup: str, status: str = "ACTIVE") -> dict[str, Any]:
    """The node group once it has ``status``."""
    return wait_status(lambda: eks.describe_nodegroup(clusterName=cluster, nodegroupName=nodegroup)["nodegroup"], status)


def wait_gone(describe: Callable[[], Any], not_found: type[Exception]) -> None:
    """Poll until a describe call raises the service's not-found error."""

    def gone() -> bool:
        try:
            describe()
        except not_found:
            return True
        return False

    wait_for(gone, what="deletion")


@dataclass(frozen=True)
class ReadyCluster:
    """An ACTIVE cluster with an ACTIVE node group, and a kubeconfig for it."""

    name: str
    nodegroup: str
    desired_size: int
    endpoint: str
    ca_data: str
    kubeconfig: Path


def write_kubeconfig(path: Path, endpoint: str, ca_data: str, token: str = "sandbox-token") -> Path:
    """A kubeconfig built from DescribeCluster's endpoint and CA, as update-kubeconfig would."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "sandbox", "cluster": {"server": endpoint, "certificate-authority-data": ca_data}}],
        "users": [{"name": "sandbox", "user": {"token": token}}],
        "contexts": [{"name": "sandbox", "context": {"cluster": "sandbox", "user": "sandbox"}}],
        "current-context": "sandbox",
    }
    path.write_text(yaml.safe_dump(config))
    path.chmod(0o600)
    return path


def stop_sandbox_processes(pids: list[int]) -> None:
    """Stop the sandbox processes a test started (and the published one), and wait until they are gone."""
    import os
    import signal

    from assistant.sandbox import statefile

    info = statefile.read()
    for pid in {*pids, *([info.pid] if info else [])}:
        if statefile.pid_alive(pid):
            os.kill(pid, signal.SIGTERM)
    wait_for(lambda: not any(statefile.pid_alive(p) for p in pids), timeout=30, what="the sandbox processes to exit")


def published_cluster(info: Any, name: str) -> tuple[Any, dict[str, Any]]:
    """Create cluster ``name`` (its role, a VPC and two subnets) in a published sandbox: ``(eks client, cluster)``."""
    session = boto3.session.Session(
        aws_access_key_id=info.access_key_id, aws_secret_access_key=info.secret_access_key, region_name=info.region
    )
    iam, ec2, eks = (session.client(s, endpoint_url=info.aws_url) for s in ("iam", "ec2", "eks"))
    role = iam.create_role(RoleName=f"{name}-cluster", AssumeRolePolicyDocument=TRUST_EKS)["Role"]["Arn"]
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.9.{i}.0/24", AvailabilityZone=f"us-east-1{z}")["Subnet"]["SubnetId"]
        for i, z in enumerate("ab")
    ]
    return eks, eks.create_cluster(name=name, roleArn=role, resourcesVpcConfig={"subnetIds": subnets})["cluster"]


def cluster_with_context(info: Any, path: Path) -> None:
    """An ACTIVE cluster ``demo`` in a published sandbox, and its context ``demo`` written with `eks-assist kubeconfig --sandbox`."""
    import subprocess
    import sys

    eks, _cluster = published_cluster(info, "demo")
    wait_for(lambda: eks.describe_cluster(name="demo")["cluster"]["status"] == "ACTIVE", timeout=60, what="ACTIVE")
    argv = [sys.executable, "-m", "assistant.cli", "kubeconfig", "--cluster", "demo", "--sandbox"]
    written = subprocess.run([*argv, "--path", str(path), "--alias", "demo"], capture_output=True, text=True, timeout=120)
    assert written.returncode == 0, written.stderr
