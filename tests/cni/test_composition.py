"""cni.yaml composes into the cluster playbook between the cluster and the node groups."""

from __future__ import annotations

import shutil
from pathlib import Path

from assistant.clients.aws import AwsContext
from assistant.engine import Engine
from assistant.planning.plan import Op
from assistant.sandbox import Sandbox
from assistant.spec import load_spec
from assistant.store import open_store

from ..conftest import EXAMPLES

REPO = Path(__file__).resolve().parents[2]


def composed(tmp_path: Path) -> Path:
    """The composition the cluster playbook should use: workers wait for the CNI steps."""
    for name in ("masters", "cni"):
        shutil.copy(REPO / "playbooks" / f"{name}.yaml", tmp_path / f"{name}.yaml")
    workers = (REPO / "playbooks" / "workers.yaml").read_text(encoding="utf-8")
    workers = workers.replace("after: [cluster, route_table]", "after: [cluster, route_table, vpc_cni, aws_node_env, eniconfig]")
    (tmp_path / "workers.yaml").write_text(workers, encoding="utf-8")
    path = tmp_path / "cluster.yaml"
    path.write_text("name: cluster\ndescription: composed\ninclude: [masters.yaml, cni.yaml, workers.yaml]\n", encoding="utf-8")
    return path


def test_cni_settings_precede_node_groups(sandbox: Sandbox, tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text((EXAMPLES / "demo.yaml").read_text(encoding="utf-8") + "\ncni:\n  prefixDelegation: true\n", encoding="utf-8")
    plan = Engine(AwsContext(region="us-east-1"), open_store()).plan(load_spec(spec), str(composed(tmp_path))).plan
    wave = {step: i for i, ids in enumerate(plan.order) for step in ids}
    assert wave["cluster"] < wave["vpc_cni"] < wave["nodegroup[general]"]
    assert wave["vpc_cni"] < wave["nodegroup[spot]"]
    ops = {c.step: c.op for c in plan.changes}
    assert (ops["vpc_cni"], ops["aws_node_env"]) == (Op.CREATE, Op.NOOP)
