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
