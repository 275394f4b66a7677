"""A sandbox with one ACTIVE cluster and a node group, and helpers to run mapping actions."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from assistant.actions import registry
from assistant.actions.base import ActionContext, Planned
from assistant.clients.aws import AwsContext
from assistant.run.guard import approved_apply
from assistant.sandbox import Sandbox

from ..cli.conftest import cli  # noqa: F401 - re-exported fixture
from ..integration.conftest import sandbox  # noqa: F401 - re-exported fixture

CLUSTER = "demo"
ACCOUNT = "123456789012"
NODE_ROLE = f"arn:aws:iam::{ACCOUNT}:role/{CLUSTER}-us-east-1-node-role"
REGION = "us-east-1"


@dataclass
class World:
    """The sandbox, an AWS context on it, and the cluster's name."""

    sandbox: Sandbox
    aws: AwsContext
    cluster: str = CLUSTER

    def ctx(self, step: str = "test") -> ActionContext:
        return ActionContext(client=self.aws.client, account=ACCOUNT, region=REGION, step=step, session=self.aws.session)

    def plan(self, action: str, args: dict[str, Any], step: str = "test") -> tuple[Any, dict[str, Any] | None, Planned]:
        cls = registry.get(action)
        parsed = cls.Args.model_validate(args)
        act = cls()
        current = act.read(parsed, self.ctx(step))
        return parsed, current, act.plan(parsed, current, self.ctx(step))

    def apply(self, action: str, args: dict[str, Any], step: str = "test") -> Planned:
        parsed, current, planned = self.plan(action, args, step)
        with approved_apply("test", "test"):
            registry.get(action)().apply(parsed, planned, current, self.ctx(step))
        return planned

    def aws_auth(self) -> dict[str, Any]:
        from assistant.actions.k8s._client import core_v1

        cluster = self.aws.client("eks").describe_cluster(name=self.cluster)["cluster"]
        cm = core_v1(self.ctx(), cluster).read_namespaced_config_map("aws-auth", "kube-system")
        return {"data": dict(cm.data or {}), "annotations": dict(cm.metadata.annotations or {})}


def _wait(fn: Any, what: str) -> None:
    for _ in range(2000):
        if fn():
            return
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def make_cluster(aws: AwsContext, mode: str = "API_AND_CONFIG_MAP", nodegroup: bool = True) -> None:
    """An ACTIVE cluster named demo (and an ACTIVE node group using the node role)."""
    import json

    iam, eks, ec2 = aws.client("iam"), aws.client("eks"), aws.client("ec2")
    trust = {"Version": "2012-10-17", "Statement": []}
    with approved_apply("test", "test"):
        role = iam.create_role(RoleName="demo-us-east-1-cluster-role", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        iam.create_role(RoleName="demo-us-east-1-node-role", AssumeRolePolicyDocument=json.dumps(trust))
        subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]][:2]
        eks.create_cluster(
            name=CLUSTER,
            roleArn=role,
            resourcesVpcConfig={"subnetIds": subnets},
            accessConfig={"authenticationMode": mode},
        )
        _wait(lambda: eks.describe_cluster(name=CLUSTER)["cluster"]["status"] == "ACTIVE", "cluster")
        if nodegroup:
            eks.create_nodegroup(
                clusterName=CLUSTER,
                nodegroupName="general",
                nodeRole=NODE_ROLE,
                subnets=subnets,
                scalingConfig={"minSize": 1, "desiredSize": 1, "maxSize": 1},
            )
            _wait(
                lambda: eks.describe_nodegroup(clusterName=CLUSTER, nodegroupName="general")["nodegroup"]["status"] == "ACTIVE",
                "node group",
            )


@pytest.fixture
def world(sandbox: Sandbox) -> Iterator[World]:  # noqa: F811 - the fixture above
    aws = AwsContext(region=REGION)
    make_cluster(aws)
    yield World(sandbox, aws)


SPEC = """\
apiVersion: eks-assist/v1
kind: Cluster
metadata:
  name: demo
  region: us-east-1
masters:
  version: "1.33"
  authenticationMode: {mode}
iamMappings:
{mappings}
"""


def write_spec(tmp: Path, mappings: str, mode: str = "API_AND_CONFIG_MAP") -> str:
    """A spec file for the demo cluster with these (already indented) iamMappings."""
    path = tmp / "spec.yaml"
    path.write_text(SPEC.format(mode=mode, mappings=mappings or "  []"), encoding="utf-8")
    return str(path)


@pytest.fixture
def config_map_world(sandbox: Sandbox) -> Iterator[World]:  # noqa: F811 - the fixture above
    """A CONFIG_MAP-mode cluster without node groups (so aws-auth does not exist yet)."""
    aws = AwsContext(region=REGION)
    make_cluster(aws, mode="CONFIG_MAP", nodegroup=False)
    yield World(sandbox, aws)
