"""The aws-auth step does what its plan says: on a new cluster it creates the ConfigMap, before
any node group joins (EKS writes aws-auth itself when a managed node group joins, so a step that
ran after the node groups would find it there and update it instead).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.clients.aws import AwsContext
from assistant.engine import Engine
from assistant.planning.planner import base_context, expand
from assistant.playbook.loader import load_playbook
from assistant.run.events import Event
from assistant.run.runner import RunOptions
from assistant.sandbox import Sandbox
from assistant.spec import load_spec, loads_spec
from assistant.store import open_store

from .conftest import ACCOUNT

SPEC = f"""\
apiVersion: eks-assist/v1
kind: Cluster
metadata: {{name: fresh, region: us-east-1}}
masters:
  vpc: {{create: {{cidr: 10.0.0.0/16, azCount: 2}}}}
  authenticationMode: API_AND_CONFIG_MAP
workers:
  - {{name: general, instanceTypes: [m5.large]}}
  - {{name: spot, instanceTypes: [t3.medium], capacityType: SPOT}}
iamMappings:
  - {{arn: "arn:aws:iam::{ACCOUNT}:role/admin", kind: role, username: admin, groups: [admins], via: aws-auth}}
kubeconfig: {{write: false}}
"""


def test_node_groups_wait_for_the_aws_auth_step() -> None:
    spec = loads_spec(SPEC, "fresh.yaml").spec.canonical()
    instances = {i.id: i for i in expand(load_playbook("cluster"), base_context(spec))}
    for group in ("nodegroup[general]", "nodegroup[spot]"):
        assert "aws_auth" in instances[group].deps
    assert not any(d.startswith("nodegroup") for d in instances["aws_auth"].deps)


@pytest.fixture
def instant(monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    """A sandbox whose node groups are ACTIVE (and in aws-auth) the moment they are created."""
    with Sandbox(latency="none", port=0, k8s_port=0) as sb:
        for k, v in sb.env().items():
            monkeypatch.setenv(k, v)
        yield sb


def test_a_new_clusters_aws_auth_is_created_as_planned(instant: Sandbox, tmp_path: Path) -> None:
    spec = tmp_path / "fresh.yaml"
    spec.write_text(SPEC)
    loaded = load_spec(str(spec))
    events: list[Event] = []
    # No EKS delays and every step free to run at once: the order comes from the playbook alone.
    engine = Engine(AwsContext(region="us-east-1"), open_store(), sink=events.append, options=RunOptions(parallelism=8))
    planning = engine.plan(loaded)
    planned = planning.plan.change("aws_auth")
    assert planned is not None and planned.op.value == "create"
    engine.apply(loaded, planning.plan.hash, "test", "test")

    ran = [(e.kind, e.step, e.op, e.message) for e in events]
    aws_auth = [(kind, message) for kind, step, _, message in ran if step == "aws_auth"]
    assert aws_auth == [
        ("step_started", "create aws-auth ConfigMap of fresh"),
        ("step_done", "create aws-auth ConfigMap of fresh: done"),
    ]
    order = [(kind, step) for kind, step, _, _ in ran]
    done = order.index(("step_done", "aws_auth"))
    assert all(order.index(("step_started", g)) > done for g in ("nodegroup[general]", "nodegroup[spot]"))
    # The journal says the same.
    steps = {s.step: s for s in engine.store.steps(engine.store.list_runs()[0].id)}
    assert steps["aws_auth"].op == "create"
