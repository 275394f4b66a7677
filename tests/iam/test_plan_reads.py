"""A plan's reads: asked once per plan (the read cache), per-entry reads sent several at a time,
still read-only, and never reused by the next plan, so drift between plan and apply is caught."""

from __future__ import annotations

import collections
from pathlib import Path
from typing import Any

import pytest

from assistant.actions import common, registry
from assistant.actions.base import ActionContext
from assistant.clients.aws import AwsContext
from assistant.clients.reads import caching_reads
from assistant.engine import Engine
from assistant.errors import GuardViolation, PlanChangedError
from assistant.run.guard import approved_apply, is_read_only
from assistant.run.runner import RunOptions
from assistant.run.waiting import WaitFailed
from assistant.spec import load_spec
from assistant.store import open_store

from ..integration.conftest import owned
from .conftest import ACCOUNT, REGION, World, write_spec

ENTRIES = 24
ARNS = [f"arn:aws:iam::{ACCOUNT}:role/team-{i:02d}" for i in range(ENTRIES)]
FOREIGN = f"arn:aws:iam::{ACCOUNT}:user/someone-else"


def _mappings() -> str:
    lines = []
    for i, arn in enumerate(ARNS):
        lines += [
            f"  - arn: {arn}",
            "    kind: role",
            f"    username: team-{i:02d}",
            f"    groups: [team-{i % 3}]",
            "    via: access-entry",
        ]
        if i % 4 == 0:
            lines += ["    accessPolicies:", "      - policy: AmazonEKSViewPolicy"]
    return "\n".join(lines) + "\n"


class Calls:
    """What the code asked botocore for (before-call) and what went out as HTTP (before-send)."""

    def __init__(self, aws: AwsContext) -> None:
        self.asked: collections.Counter[str] = collections.Counter()
        self.sent: collections.Counter[str] = collections.Counter()
        self.threads: set[str] = set()
        events = aws.session._session.get_component("event_emitter")
        events.register_first("before-call", self._ask, unique_id="test-asked")
        events.register_first("before-send", self._send, unique_id="test-sent")

    def _ask(self, model: Any, **_: Any) -> None:
        self.asked[f"{model.service_model.endpoint_prefix}:{model.name}"] += 1

    def _send(self, event_name: str, **_: Any) -> None:
        import threading

        self.sent[event_name.split(".", 2)[2]] += 1
        self.threads.add(threading.current_thread().name)

    def mutating(self) -> list[str]:
        return [k for k in self.asked if not is_read_only(*k.split(":", 1))]


@pytest.fixture
def applied(world: World, tmp_path: Path) -> tuple[World, str]:
    """The world's cluster with ENTRIES access entries of ours and one somebody else made."""
    spec = write_spec(tmp_path, _mappings())
    engine = Engine(AwsContext(region=REGION), open_store(), options=RunOptions(poll_min=0.02, poll_max=0.1))
    loaded = load_spec(spec)
    engine.apply(loaded, engine.plan(loaded, "iam-mappings").plan.hash, "test", "flag", playbook="iam-mappings")
    with approved_apply("test", "test"):
        world.aws.client("eks").create_access_entry(clusterName="demo", principalArn=FOREIGN, kubernetesGroups=["x"])
    return world, spec


def test_plan_asks_once_per_question_sends_per_entry_reads_in_parallel_and_changes_nothing(
    applied: tuple[World, str],
) -> None:
    world, spec = applied
    aws = AwsContext(region=REGION)
    calls = Calls(aws)
    before = owned(world.sandbox.inventory())
    planning = Engine(aws, open_store()).plan(load_spec(spec), "iam-mappings")
    assert [c.op.value for c in planning.plan.changes] == ["no-op", "no-op"]
    assert calls.mutating() == []
    assert owned(world.sandbox.inventory()) == before
    # The cluster is asked about by the preflight and by both steps, and described once.
    assert calls.asked["eks:DescribeCluster"] > 1
    assert calls.sent["DescribeCluster"] == 1
    # One describe per listed entry: ours, the node role's, the creator's and the foreign one...
    listed = world.aws.client("eks").list_access_entries(clusterName="demo")["accessEntries"]
    assert calls.sent["DescribeAccessEntry"] == len(listed) > ENTRIES
    # ...and policies only for the entries the spec names (or we own): not somebody else's.
    assert calls.sent["ListAssociatedAccessPolicies"] == ENTRIES
    assert len({t for t in calls.threads if t.startswith("eks-assist-entry")}) > 1


def test_parallel_and_serial_reads_plan_the_same(applied: tuple[World, str], monkeypatch: pytest.MonkeyPatch) -> None:
    world, spec = applied
    with approved_apply("test", "test"):
        world.aws.client("eks").update_access_entry(clusterName="demo", principalArn=ARNS[5], kubernetesGroups=["drifted"])
    plans = []
    for workers in (1, common.PER_ENTRY_WORKERS):
        monkeypatch.setattr(common, "PER_ENTRY_WORKERS", workers)
        plans.append(Engine(AwsContext(region=REGION), open_store()).plan(load_spec(spec), "iam-mappings").plan)
    assert plans[0].hash == plans[1].hash
    change = plans[0].change("access_entries")
    assert change is not None and change.notes == [f"~ {ARNS[5]}"]


def test_drift_after_the_plan_is_seen_by_the_next_plan_and_refuses_the_apply(applied: tuple[World, str]) -> None:
    world, spec = applied
    engine = Engine(AwsContext(region=REGION), open_store(), options=RunOptions(poll_min=0.02, poll_max=0.1))
    loaded = load_spec(spec)
    approved = engine.plan(loaded, "iam-mappings").plan
    assert [c.op.value for c in approved.changes] == ["no-op", "no-op"]
    # Somebody changes one of our entries, and one of its policies, after the plan.
    eks = world.aws.client("eks")
    with approved_apply("test", "test"):
        eks.update_access_entry(clusterName="demo", principalArn=ARNS[7], kubernetesGroups=["drifted"])
        eks.disassociate_access_policy(
            clusterName="demo", principalArn=ARNS[8], policyArn="arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"
        )
    again = engine.plan(loaded, "iam-mappings").plan
    change = again.change("access_entries")
    assert change is not None and sorted(change.notes) == [f"~ {ARNS[7]}", f"~ {ARNS[8]}"]
    before = owned(world.sandbox.inventory())
    with pytest.raises(PlanChangedError):
        engine.apply(loaded, approved.hash, "test", "flag", playbook="iam-mappings")
    assert owned(world.sandbox.inventory()) == before


def test_the_cache_keeps_not_found_and_never_lets_a_write_through(world: World) -> None:
    aws = AwsContext(region=REGION)
    sent = Calls(aws)  # before the clients: a client copies the session's hooks when it is made
    eks = aws.client("eks")
    with caching_reads() as cache:
        for _ in range(3):
            with pytest.raises(eks.exceptions.ResourceNotFoundException):
                eks.describe_cluster(name="nope")
        with pytest.raises(GuardViolation):
            eks.create_access_entry(clusterName="demo", principalArn=FOREIGN)
        # An answer edited by one caller is not what the next caller gets.
        eks.describe_cluster(name="demo")["cluster"]["name"] = "edited"
        assert eks.describe_cluster(name="demo")["cluster"]["name"] == "demo"
    assert sent.sent["DescribeCluster"] == 2 and cache.hits == 3
    eks.describe_cluster(name="demo")  # outside the plan: asked again
    assert sent.sent["DescribeCluster"] == 3


def test_apply_starts_from_the_steps_read_and_recovers_when_an_entry_appeared_since(world: World) -> None:
    args = {
        "cluster": "demo",
        "mappings": [
            {
                "arn": ARNS[0],
                "kind": "role",
                "username": "team-00",
                "groups": ["a"],
                "via": "access-entry",
                "accessPolicies": [{"policy": "AmazonEKSViewPolicy"}],
            },
            {"arn": ARNS[1], "kind": "role", "username": "team-01", "groups": ["b"], "via": "access-entry"},
        ],
        "authenticationMode": "API_AND_CONFIG_MAP",
    }
    parsed, current, planned = world.plan("eks.access_entry", args)
    assert planned.op.value == "create"
    aws = AwsContext(region=REGION)
    calls = Calls(aws)
    eks = aws.client("eks")
    ctx = ActionContext(client=aws.client, account=ACCOUNT, region=REGION, step="test", session=aws.session)
    with approved_apply("test", "test"):
        # ARNS[1] appears after the read, with other groups (a killed run, or another writer).
        world.aws.client("eks").create_access_entry(clusterName="demo", principalArn=ARNS[1], kubernetesGroups=["other"])
        registry.get("eks.access_entry")().apply(parsed, planned, current, ctx)
    # Absent at the read: created with no describe first; the one that appeared is read once.
    assert calls.sent["DescribeAccessEntry"] == 1
    assert calls.sent["CreateAccessEntry"] == 2  # ARNS[0], and ARNS[1] refused as in use
    e1 = eks.describe_access_entry(clusterName="demo", principalArn=ARNS[1])["accessEntry"]
    assert e1["kubernetesGroups"] == ["b"] and e1["username"] == "team-01"
    pols = eks.list_associated_access_policies(clusterName="demo", principalArn=ARNS[0])["associatedAccessPolicies"]
    assert [p["policyArn"].rsplit("/", 1)[1] for p in pols] == ["AmazonEKSViewPolicy"]


def test_a_cancel_before_the_entries_are_written_leaves_them_unwritten(world: World) -> None:
    args = {
        "cluster": "demo",
        "mappings": [{"arn": a, "kind": "role", "groups": ["a"], "via": "access-entry"} for a in ARNS[:5]],
        "authenticationMode": "API_AND_CONFIG_MAP",
    }
    parsed, current, planned = world.plan("eks.access_entry", args)
    aws = AwsContext(region=REGION)
    calls = Calls(aws)
    ctx = ActionContext(
        client=aws.client, account=ACCOUNT, region=REGION, step="test", session=aws.session, cancelled=lambda: True
    )
    with approved_apply("test", "test"), pytest.raises(WaitFailed, match="cancelled"):
        registry.get("eks.access_entry")().apply(parsed, planned, current, ctx)
    assert calls.mutating() == [] and not calls.sent
