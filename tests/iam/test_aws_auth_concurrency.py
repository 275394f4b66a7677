"""aws-auth writes lose nothing under concurrency, and node-role mappings in use stay."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import yaml

from assistant.actions import registry
from assistant.errors import InputError
from assistant.run.guard import approved_apply

from .conftest import ACCOUNT, NODE_ROLE, World


def _args(i: int) -> dict[str, Any]:
    return {
        "cluster": "demo",
        "authenticationMode": "CONFIG_MAP",
        "mappings": [{"arn": f"arn:aws:iam::{ACCOUNT}:role/team-{i}", "kind": "role", "groups": [f"g{i}"], "via": "aws-auth"}],
    }


def test_ten_concurrent_edits_lose_none(world: World) -> None:
    action = registry.get("k8s.aws_auth")
    planned: dict[int, Any] = {}
    # Every edit is planned against the same starting object, so each apply's first write
    # carries a resourceVersion that all but one of them will find stale.
    for i in range(10):
        planned[i] = world.plan("k8s.aws_auth", _args(i), step=f"edit{i}")
    start = threading.Barrier(10)
    errors: list[BaseException] = []
    retries: list[str] = []

    def edit(i: int) -> None:
        args, current, plan = planned[i]
        try:
            start.wait()
            ctx = world.ctx(f"edit{i}")
            ctx.progress = lambda message, fraction=None: retries.append(message)
            with approved_apply("test", f"run{i}"):
                action().apply(args, plan, current, ctx)
        except BaseException as exc:  # reported below, on the main thread
            errors.append(exc)

    threads = [threading.Thread(target=edit, args=(i,)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert all(m == "aws-auth changed concurrently; retrying" for m in retries)
    roles = {r["rolearn"]: r for r in yaml.safe_load(world.aws_auth()["data"]["mapRoles"])}
    assert set(roles) == {NODE_ROLE, *(f"arn:aws:iam::{ACCOUNT}:role/team-{i}" for i in range(10))}
    assert roles[NODE_ROLE]["groups"] == ["system:bootstrappers", "system:nodes"]
    managed = world.aws_auth()["annotations"]["eks-assist.dev/managed-entries"]
    assert all(f"role/team-{i}" in managed for i in range(10))


def test_node_role_mapping_in_use_is_not_removed(world: World) -> None:
    world.apply("k8s.aws_auth", {"cluster": "demo", "nodeRoles": ["demo-us-east-1-node-role"]})
    with pytest.raises(InputError) as err:
        world.plan("k8s.aws_auth", {"cluster": "demo", "nodeRoles": []})
    assert str(err.value) == (
        f"refusing to remove the aws-auth mapping for {NODE_ROLE}: node group(s) general still use this role, "
        "and their nodes would lose access to the cluster; delete or move those node groups first"
    )
    roles = [r["rolearn"] for r in yaml.safe_load(world.aws_auth()["data"]["mapRoles"])]
    assert roles == [NODE_ROLE]
