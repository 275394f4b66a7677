"""Two clusters with one name in two regions: destroying one leaves the other whole.

IAM is global. When role names were ``<name>-cluster-role``, applying ``lk`` in us-east-1 and
then ``lk`` in eu-west-1 made the second plan adopt the first cluster's roles as unchanged,
and destroying the eu-west-1 cluster deleted roles the us-east-1 cluster still ran on. This
drill runs that exact sequence against the sandbox (moto serves every region; the EKS front
and the Kubernetes emulator keep the two clusters apart) and checks that the us-east-1
cluster keeps its roles, its node groups and a working Kubernetes API, and that a fresh plan
of it shows no changes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from assistant.clients.aws import AwsContext
from assistant.clients.kube import api_client
from assistant.planning.plan import Op
from assistant.sandbox import Sandbox
from assistant.spec import LoadedSpec, loads_spec
from assistant.tags import CLUSTER_ARN, role_name

from ..drill_report import record
from .conftest import drill_engine, plan_and_apply
from .world import FULL_SPEC

pytestmark = pytest.mark.slow

NAME = "lk"
FIRST, SECOND = "us-east-1", "eu-west-1"


def _spec(region: str, tmp_path: Path) -> LoadedSpec:
    """The drills' full spec as cluster ``lk`` in ``region``, with its own kubeconfig file and context."""
    # Under $HOME: a spec may write its kubeconfig only there or to a file in $KUBECONFIG.
    kubeconfig = Path.home() / ".kube" / f"config-{region}"
    text = (
        FULL_SPEC.read_text(encoding="utf-8")
        .replace("name: drill\n", f"name: {NAME}\n", 1)
        .replace("region: us-east-1\n", f"region: {region}\n", 1)
        .replace("alias: drill", f"alias: {NAME}-{region}\n  path: {json.dumps(str(kubeconfig))}")
    )
    return loads_spec(text, str(tmp_path / f"{NAME}-{region}.yaml"))


def _roles(region: str) -> set[str]:
    return {role_name(NAME, region, "cluster"), role_name(NAME, region, "node")}


def _nodes(region: str) -> list[str]:
    """Node names the cluster's own Kubernetes API lists, reached with an EKS token for that region."""
    import kubernetes.client

    api = kubernetes.client.CoreV1Api(api_client(AwsContext(region=region), NAME))
    return sorted(n.metadata.name for n in api.list_node().items)


def _world(region: str) -> dict[str, Any]:
    eks = boto3.client("eks", region_name=region)
    clusters = eks.list_clusters()["clusters"]
    cluster = eks.describe_cluster(name=NAME)["cluster"] if NAME in clusters else None
    groups = sorted(eks.list_nodegroups(clusterName=NAME)["nodegroups"]) if cluster else []
    node_roles = {eks.describe_nodegroup(clusterName=NAME, nodegroupName=g)["nodegroup"]["nodeRole"] for g in groups}
    return {"clusters": clusters, "cluster": cluster, "nodegroups": groups, "nodeRoles": node_roles}


def test_destroying_one_region_leaves_the_same_name_in_another_whole(drill_sandbox: Sandbox, tmp_path: Path) -> None:
    iam = boto3.client("iam", region_name=FIRST)
    first, second = _spec(FIRST, tmp_path), _spec(SECOND, tmp_path)
    plan_and_apply(drill_engine(region=FIRST), first)
    first_nodes = _nodes(FIRST)

    # The second region's plan makes its own roles; it does not adopt the first cluster's.
    planned = drill_engine(region=SECOND).plan(second).plan
    roles = {c.step: c for c in planned.changes if c.action == "iam.role"}
    assert {c.op for c in roles.values()} == {Op.CREATE}, {s: (c.op, c.resource) for s, c in roles.items()}
    assert {c.resource for c in roles.values()} == {f"IAM role {r}" for r in _roles(SECOND)}
    plan_and_apply(drill_engine(region=SECOND), second)

    # Two clusters of one name, each with its own roles, node groups and Kubernetes API.
    before = {region: _world(region) for region in (FIRST, SECOND)}
    for region in (FIRST, SECOND):
        cluster = before[region]["cluster"]
        assert cluster["status"] == "ACTIVE", region
        assert cluster["roleArn"].endswith(f"/{role_name(NAME, region, 'cluster')}")
        assert before[region]["nodeRoles"] == {
            f"arn:aws:iam::{cluster['arn'].split(':')[4]}:role/{role_name(NAME, region, 'node')}"
        }
        for role in _roles(region):
            tags = {t["Key"]: t["Value"] for t in iam.list_role_tags(RoleName=role)["Tags"]}
            assert tags[CLUSTER_ARN] == cluster["arn"], (role, tags)
    assert before[FIRST]["cluster"]["endpoint"] != before[SECOND]["cluster"]["endpoint"]
    assert _nodes(FIRST) == first_nodes and _nodes(SECOND)

    # Destroy the second: its plan deletes only its own roles.
    teardown = drill_engine(region=SECOND).plan(second, "teardown", preflight=False).plan
    deleted = {c.resource for c in teardown.changes if c.op is Op.DELETE and c.action == "iam.role"}
    assert deleted == {f"IAM role {r}" for r in _roles(SECOND)}
    plan_and_apply(drill_engine(region=SECOND), second, "teardown")

    left = {r["RoleName"] for r in iam.list_roles()["Roles"]}
    assert _roles(FIRST) <= left, left
    assert not _roles(SECOND) & left, left
    after = _world(FIRST)
    assert after["cluster"]["status"] == "ACTIVE"
    assert after["nodegroups"] == before[FIRST]["nodegroups"] and after["nodeRoles"] == before[FIRST]["nodeRoles"]
    for role in _roles(FIRST):
        attached = iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]
        assert attached, f"{role} lost its policies"
    assert _world(SECOND)["clusters"] == []
    # The first cluster still answers kubectl-style calls with its nodes, and nothing is left to do.
    assert _nodes(FIRST) == first_nodes
    fresh = drill_engine(region=FIRST).plan(first).plan
    changed = [(c.step, c.op.value, c.reason) for c in fresh.changes if c.op is not Op.NOOP]
    assert changed == []
    record(
        "cross-region destroy",
        runs=1,
        faults="none",
        outcome="first region intact",
        roles_kept=len(_roles(FIRST)),
        nodes=len(first_nodes),
    )
