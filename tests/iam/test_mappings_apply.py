"""Plan and apply the iam-mappings playbook on the sandbox: aws-auth and access entries."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from assistant.clients.aws import AwsContext
from assistant.engine import Engine
from assistant.spec import load_spec
from assistant.store import open_store

from ..cli.conftest import CliRunner
from ..integration.conftest import CallLog, owned
from .conftest import ACCOUNT, NODE_ROLE, World, write_spec

ADMIN = f"arn:aws:iam::{ACCOUNT}:role/admin"
DEV = f"arn:aws:iam::{ACCOUNT}:user/dev"
MAPPINGS = f"""\
  - arn: {ADMIN}
    kind: role
    username: admin
    groups: [platform-admins]
    via: aws-auth
  - arn: {DEV}
    kind: user
    groups: [developers]
    accessPolicies:
      - policy: AmazonEKSEditPolicy
        scope: namespace
        namespaces: [dev, staging]
"""


def _plan(cli: CliRunner, spec: str) -> dict[str, Any]:
    r = cli("plan", "-f", spec, "--playbook", "iam-mappings", "-o", "json")
    assert r.code == 0, r.err
    return dict(json.loads(r.out))


def _apply(cli: CliRunner, spec: str) -> None:
    plan = _plan(cli, spec)
    r = cli("apply", "-f", spec, "--playbook", "iam-mappings", "--approve", plan["hash"], "--poll-max", "0.1", "-o", "json")
    assert r.code == 0, r.err


def _roles(world: World) -> list[dict[str, Any]]:
    return list(yaml.safe_load(world.aws_auth()["data"]["mapRoles"]))


def _entries(world: World) -> dict[str, Any]:
    inv = world.sandbox.inventory()
    return dict(inv[ACCOUNT]["regions"]["us-east-1"]["eks"]["demo"]["accessEntries"])


def test_add_then_noop_then_remove_only_ours(world: World, cli: CliRunner, tmp_path: Path) -> None:
    spec = write_spec(tmp_path, MAPPINGS)
    before = owned(world.sandbox.inventory())
    aws = AwsContext(region="us-east-1")
    log = CallLog(aws)
    Engine(aws, open_store()).plan(load_spec(spec), "iam-mappings")
    assert log.calls and log.mutating == []
    plan = _plan(cli, spec)
    # Planning is read-only for Kubernetes too: every object keeps its resourceVersion.
    assert owned(world.sandbox.inventory()) == before
    changes = {c["step"]: c for c in plan["changes"]}
    assert changes["aws_auth"]["op"] == "update"
    assert changes["aws_auth"]["after"]["mapRoles"][ADMIN] == {
        "rolearn": ADMIN,
        "username": "admin",
        "groups": ["platform-admins"],
    }
    assert f"+ mapRoles {ADMIN}" in changes["aws_auth"]["notes"]
    assert changes["access_entries"]["op"] == "create"
    assert changes["access_entries"]["after"][DEV]["policies"] == {
        "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy": {"type": "namespace", "namespaces": ["dev", "staging"]}
    }

    _apply(cli, spec)
    roles = {r["rolearn"]: r for r in _roles(world)}
    assert roles[ADMIN] == {"rolearn": ADMIN, "username": "admin", "groups": ["platform-admins"]}
    assert roles[NODE_ROLE]["groups"] == ["system:bootstrappers", "system:nodes"]
    entry = _entries(world)[DEV]
    assert entry["kubernetesGroups"] == ["developers"]
    assert entry["policies"] == {
        "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy": {"type": "namespace", "namespaces": ["dev", "staging"]}
    }

    again = _plan(cli, spec)
    assert [c["op"] for c in again["changes"]] == ["no-op", "no-op"], again["changes"]

    # Somebody else's aws-auth entry and access entry, written by hand.
    other_role = f"arn:aws:iam::{ACCOUNT}:role/someone-else"
    from assistant.actions.k8s._client import core_v1

    cluster = world.aws.client("eks").describe_cluster(name="demo")["cluster"]
    api = core_v1(world.ctx(), cluster)
    cm = api.read_namespaced_config_map("aws-auth", "kube-system")
    cm.data["mapRoles"] += f"# theirs\n- rolearn: {other_role}\n  username: them\n  groups: [viewers]\n"
    from assistant.run.guard import approved_apply

    other_user = f"arn:aws:iam::{ACCOUNT}:user/other"
    # Our clients are guarded; the hand edits borrow an approved scope to get past it.
    with approved_apply("test", "test"):
        api.replace_namespaced_config_map("aws-auth", "kube-system", cm)
        world.aws.client("eks").create_access_entry(clusterName="demo", principalArn=other_user, kubernetesGroups=["x"])

    # The spec drops both mappings: only ours go.
    spec = write_spec(tmp_path, "")
    removal = {c["step"]: c for c in _plan(cli, spec)["changes"]}
    assert f"- mapRoles {ADMIN}" in removal["aws_auth"]["notes"]
    assert removal["access_entries"]["op"] == "delete"
    _apply(cli, spec)
    text = world.aws_auth()["data"]["mapRoles"]
    assert f"# theirs\n- rolearn: {other_role}\n  username: them\n  groups: [viewers]\n" in text
    assert {r["rolearn"] for r in _roles(world)} == {NODE_ROLE, other_role}
    assert set(_entries(world)) >= {other_user} and DEV not in _entries(world)
    assert [c["op"] for c in _plan(cli, spec)["changes"]] == ["no-op", "no-op"]
