"""409 Conflicts on aws-auth, produced for real by the sandbox's Kubernetes API: retried with backoff, nothing lost.

An outside writer (a person's ``kubectl edit``) gets its write in between our read and our
write, so our write carries a stale resourceVersion and the API server answers 409. The
waits are counted, not slept; the YAML parses are counted too: a retry re-parses only the
section the other writer changed.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
import yaml.composer

from assistant.actions.k8s import aws_auth as action
from assistant.run.guard import approved_apply

from .conftest import ACCOUNT, NODE_ROLE, World

OURS = [f"arn:aws:iam::{ACCOUNT}:role/ours-{i}" for i in range(2)]


class Interfering:
    """The action's Kubernetes API, with an outside write slipped in before each of our first ``times`` replaces."""

    def __init__(self, api: Any, times: int) -> None:
        self.api, self.left, self.outside = api, times, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.api, name)

    def replace_namespaced_config_map(self, name: str, namespace: str, body: Any) -> Any:
        if self.left > 0:
            self.left -= 1
            # The person's edit: read, append an entry with a comment (as text), write back.
            cm = self.api.read_namespaced_config_map(name, namespace)
            n = self.outside = self.outside + 1
            cm.data["mapRoles"] += (
                f"# outside-{n}: added by hand\n- rolearn: arn:aws:iam::{ACCOUNT}:role/outside-{n}\n  username: outside-{n}\n  groups: [outside]\n"
            )
            self.api.replace_namespaced_config_map(name, namespace, cm)
        return self.api.replace_namespaced_config_map(name, namespace, body)


def _setup(world: World, monkeypatch: pytest.MonkeyPatch, times: int) -> tuple[Interfering, list[float], list[str], list[int]]:
    """aws-auth with the node role and 300 hand-written entries; the API interferes ``times`` times."""
    world.apply("k8s.aws_auth", {"cluster": "demo", "nodeRoles": ["demo-us-east-1-node-role"]})
    cm = world.aws_auth()
    from assistant.actions.k8s._client import core_v1

    cluster = world.aws.client("eks").describe_cluster(name="demo")["cluster"]
    api = core_v1(world.ctx(), cluster)
    obj = api.read_namespaced_config_map("aws-auth", "kube-system")
    obj.data["mapRoles"] = cm["data"]["mapRoles"] + "".join(
        f"# team {i}\n- rolearn: arn:aws:iam::{ACCOUNT}:role/team-{i}\n  username: team-{i}\n  groups: [team-{i}]\n"
        for i in range(300)
    )
    obj.data["mapUsers"] = "".join(f"- userarn: arn:aws:iam::{ACCOUNT}:user/u{i}\n  username: u{i}\n" for i in range(100))
    with approved_apply("test", "setup"):
        api.replace_namespaced_config_map("aws-auth", "kube-system", obj)

    wrapper = Interfering(api, times)
    monkeypatch.setattr(action, "core_v1", lambda ctx, cluster: wrapper)
    waits: list[float] = []
    monkeypatch.setattr(action, "sleep", waits.append)
    progress: list[str] = []
    parses = [0]
    original = yaml.composer.Composer.get_single_node

    def counting(self: Any) -> Any:
        parses[0] += 1
        return original(self)

    monkeypatch.setattr(yaml.composer.Composer, "get_single_node", counting)
    return wrapper, waits, progress, parses


# Our mappings on the CONFIG_MAP cluster, as the aws_auth step gets them.
ARGS = {
    "cluster": "demo",
    "authenticationMode": "CONFIG_MAP",
    "nodeRoles": ["demo-us-east-1-node-role"],
    "mappings": [{"arn": arn, "kind": "role", "groups": ["ours"], "via": "aws-auth"} for arn in OURS],
}


def _apply(world: World, progress: list[str], parses: list[int]) -> None:
    parsed, current, planned = world.plan("k8s.aws_auth", ARGS)
    ctx = world.ctx()
    ctx.progress = lambda message, fraction=None: progress.append(message)
    parses[0] = 0  # only the apply's parses
    with approved_apply("test", "test"):
        action.AwsAuth().apply(parsed, planned, current, ctx)


def _roles(world: World) -> dict[str, Any]:
    return {r["rolearn"]: r for r in yaml.safe_load(world.aws_auth()["data"]["mapRoles"])}


def test_conflicts_are_retried_with_backoff_and_keep_the_other_writers_entries(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrapper, waits, progress, parses = _setup(world, monkeypatch, times=3)
    _apply(world, progress, parses)

    assert wrapper.outside == 3, "three real 409s from the sandbox"
    assert progress == [action.RETRYING] * 3
    assert len(waits) == 3
    assert all(0 <= w <= min(action.BACKOFF_CAP, action.BACKOFF_BASE * 2**i) for i, w in enumerate(waits))
    # First attempt: mapRoles and mapUsers. Each retry: only mapRoles, which the writer changed.
    assert parses[0] <= 2 + 3, parses[0]
    after = world.aws_auth()
    roles = _roles(world)
    assert {f"arn:aws:iam::{ACCOUNT}:role/outside-{n}" for n in (1, 2, 3)} <= set(roles)
    assert {f"arn:aws:iam::{ACCOUNT}:role/team-{i}" for i in range(300)} <= set(roles)
    assert all(roles[arn]["groups"] == ["ours"] for arn in OURS)
    assert roles[NODE_ROLE]["groups"] == ["system:bootstrappers", "system:nodes"]
    text = after["data"]["mapRoles"]
    assert all(f"# outside-{n}: added by hand\n- rolearn: arn:aws:iam::{ACCOUNT}:role/outside-{n}\n" in text for n in (1, 2, 3))
    assert "# team 299\n" in text and len(yaml.safe_load(after["data"]["mapUsers"])) == 100
    managed = set(yaml.safe_load(after["annotations"]["eks-assist.dev/managed-entries"]))
    assert managed == {f"mapRoles:{arn}" for arn in [NODE_ROLE, *OURS]}, "the other writer's entries are not ours"


def test_endless_conflicts_give_up_with_a_clear_error_and_write_nothing_of_ours(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(action, "MAX_ATTEMPTS", 4)
    wrapper, waits, progress, parses = _setup(world, monkeypatch, times=10**6)
    with pytest.raises(RuntimeError, match=r"^aws-auth kept changing: 4 writes in a row met a newer version \(409 Conflict\)"):
        _apply(world, progress, parses)
    assert wrapper.outside == 4 and len(waits) == 3 and progress == [action.RETRYING] * 3
    roles = _roles(world)
    assert not set(OURS) & set(roles)
    assert {f"arn:aws:iam::{ACCOUNT}:role/outside-{n}" for n in range(1, 5)} <= set(roles)


def test_a_cancel_during_conflicts_stops_the_backoff_and_writes_nothing_of_ours(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assistant.run.waiting import WaitFailed

    wrapper, waits, _progress, _parses = _setup(world, monkeypatch, times=10**6)
    parsed, current, planned = world.plan("k8s.aws_auth", ARGS)
    ctx = world.ctx()
    # Ctrl-C lands after the second conflict: no third write, and no backoff sleep after it.
    ctx.cancelled = lambda: wrapper.outside >= 2
    with approved_apply("test", "test"), pytest.raises(WaitFailed, match=r"^aws-auth: cancelled after 2 conflicting write"):
        action.AwsAuth().apply(parsed, planned, current, ctx)
    assert wrapper.outside == 2 and len(waits) == 1
    assert not set(OURS) & set(_roles(world))
