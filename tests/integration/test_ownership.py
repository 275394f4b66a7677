"""Ownership across regions: roles named per region, adoption refused, older clusters migrated safely.

Real CLI (``main()``) and real engine against the sandbox over HTTP. The clusters "from an
older eks-assist" are made the way it made them: the built-in playbooks with the old role
names (``<name>-cluster-role``, ``<name>-node-role``), and role tags without the cluster ARN.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import boto3
import pytest

from assistant.clients.aws import AwsContext
from assistant.engine import Engine
from assistant.planning.plan import Op
from assistant.playbook.loader import playbooks_dir
from assistant.run.runner import RunOptions
from assistant.sandbox import Sandbox
from assistant.spec import LoadedSpec, loads_spec
from assistant.store import open_store
from assistant.tags import CLUSTER, CLUSTER_ARN, MANAGED_BY, RESOURCE

from ..cli.conftest import CliRunner
from .conftest import DEMO, owned

ACCOUNT = "123456789012"
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "eks.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
)


def _spec_file(tmp_path: Path, region: str = "us-east-1", name: str = "lk") -> Path:
    # No kubeconfig: each apply would make its own context current, and that is a change.
    text = Path(DEMO).read_text(encoding="utf-8").replace("name: demo\n", f"name: {name}\n", 1) + "kubeconfig:\n  write: false\n"
    path = tmp_path / f"{name}-{region}.yaml"
    path.write_text(text.replace("region: us-east-1\n", f"region: {region}\n", 1), encoding="utf-8")
    return path


def _loaded(path: Path) -> LoadedSpec:
    return loads_spec(path.read_text(encoding="utf-8"), str(path))


def _engine(region: str) -> Engine:
    return Engine(AwsContext(region=region), open_store(), options=RunOptions(poll_min=0.02, poll_max=0.1))


def _apply(engine: Engine, loaded: LoadedSpec, playbook: str = "cluster") -> None:
    kind = "destroy" if Path(playbook).stem == "teardown" else "apply"
    plan = engine.plan(loaded, playbook, preflight=kind == "apply").plan
    engine.apply(loaded, plan.hash, "test", "flag", playbook=playbook, kind=kind)


def _legacy_playbooks(tmp_path: Path) -> Path:
    """The built-in playbooks as an older eks-assist had them: one role name for every region."""
    out = tmp_path / "legacy-playbooks"
    shutil.copytree(playbooks_dir(), out)
    for path in out.glob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        text = text.replace('"{{ names.clusterRole }}"', '"{{ spec.metadata.name }}-cluster-role"')
        text = text.replace('"{{ names.nodeRole }}"', '"{{ spec.metadata.name }}-node-role"')
        text = text.replace('"{{ steps.node_role.arn || names.nodeRole }}"', '"{{ spec.metadata.name }}-node-role"')
        text = re.sub(r"\n +usedBy: \w+", "", text)
        path.write_text(text, encoding="utf-8")
    return out


def _forget_region(iam: object, *roles: str) -> None:
    """Role tags as the older eks-assist wrote them: managed-by, cluster and resource, no cluster ARN."""
    for role in roles:
        iam.untag_role(RoleName=role, TagKeys=[CLUSTER_ARN])  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("tags", "owner"),
    [
        # The same name in another region: the cluster the role really serves.
        (
            {MANAGED_BY: "eks-assist", CLUSTER: "lk", CLUSTER_ARN: f"arn:aws:eks:eu-west-1:{ACCOUNT}:cluster/lk"},
            f"cluster arn:aws:eks:eu-west-1:{ACCOUNT}:cluster/lk",
        ),
        # Another cluster's, tagged by an older eks-assist.
        ({MANAGED_BY: "eks-assist", CLUSTER: "other"}, "cluster other (region not recorded)"),
    ],
)
def test_plan_refuses_to_adopt_a_role_of_another_cluster(
    sandbox: Sandbox, cli: CliRunner, tmp_path: Path, tags: dict[str, str], owner: str
) -> None:
    iam = boto3.client("iam", region_name="us-east-1")
    aws_tags = [{"Key": k, "Value": v} for k, v in {**tags, RESOURCE: "iam-role/x"}.items()]
    iam.create_role(RoleName="lk-us-east-1-cluster-role", AssumeRolePolicyDocument=TRUST, Tags=aws_tags)
    spec = _spec_file(tmp_path)
    line = next(i for i, text in enumerate(spec.read_text().splitlines(), 1) if text.startswith("  name: lk"))
    before = owned(sandbox.inventory())

    r = cli("plan", "-f", str(spec))
    assert r.code == 2, r.out + r.err
    assert (
        f"{spec}:{line}:9: metadata.name: IAM role lk-us-east-1-cluster-role already exists and eks-assist created it for {owner}, not for cluster lk in us-east-1 (account {ACCOUNT}); refusing to adopt it"
        in r.err
    )
    r = cli("apply", "-f", str(spec), "--approve", "0" * 64)
    assert r.code == 2 and "refusing to adopt it" in r.err
    assert owned(sandbox.inventory()) == before


def test_a_role_from_before_regions_is_used_but_never_changed_or_deleted(
    sandbox: Sandbox, cli: CliRunner, tmp_path: Path
) -> None:
    # A role with this cluster's new name that an older eks-assist tagged (no region): it is
    # not provably ours, so the plan uses it as it is and destroy leaves it.
    iam = boto3.client("iam", region_name="us-east-1")
    legacy = [{"Key": MANAGED_BY, "Value": "eks-assist"}, {"Key": CLUSTER, "Value": "lk"}, {"Key": RESOURCE, "Value": "x"}]
    iam.create_role(RoleName="lk-us-east-1-cluster-role", AssumeRolePolicyDocument=TRUST, Tags=legacy)
    spec = _spec_file(tmp_path)
    plan = json.loads(cli("plan", "-f", str(spec), "-o", "json").out)
    role = next(c for c in plan["changes"] if c["step"] == "cluster_role")
    assert role["op"] == "no-op"
    assert "without recording the region" in " ".join(role["notes"])
    assert "it lacks policies this cluster needs: arn:aws:iam::aws:policy/AmazonEKSClusterPolicy" in role["notes"]


def test_clusters_from_before_regions_keep_their_roles_and_destroy_spares_them(sandbox: Sandbox, tmp_path: Path) -> None:
    """The field report, as an older eks-assist left the world, then handled by this one."""
    iam = boto3.client("iam", region_name="us-east-1")
    legacy = str(_legacy_playbooks(tmp_path) / "cluster.yaml")
    us, eu = _loaded(_spec_file(tmp_path, "us-east-1")), _loaded(_spec_file(tmp_path, "eu-west-1"))
    _apply(_engine("us-east-1"), us, legacy)
    _forget_region(iam, "lk-cluster-role", "lk-node-role")
    _apply(_engine("eu-west-1"), eu, legacy)  # the older eks-assist adopted the same two roles
    _forget_region(iam, "lk-cluster-role", "lk-node-role")
    legacy_arns = {f"arn:aws:iam::{ACCOUNT}:role/lk-cluster-role", f"arn:aws:iam::{ACCOUNT}:role/lk-node-role"}

    # This eks-assist plans the running clusters without replacing anything: they keep the
    # roles they run on (EKS cannot change them in place), which it never modifies.
    for region, loaded in (("us-east-1", us), ("eu-west-1", eu)):
        plan = _engine(region).plan(loaded).plan
        assert [(c.step, c.op.value) for c in plan.changes if c.op is not Op.NOOP] == [], region
        roles = {c.step: c for c in plan.changes if c.action == "iam.role"}
        assert {c.resource for c in roles.values()} == {"IAM role lk-cluster-role", "IAM role lk-node-role"}
        assert all("without recording the region" in " ".join(c.notes) for c in roles.values())

    # iam-mappings alone (how /eks map-role works) maps the node role the node groups run on:
    # no new mapping for a role nobody uses, and no refused removal of the one they need.
    alone = _engine("us-east-1").plan(us, "iam-mappings").plan
    assert [(c.step, c.op.value) for c in alone.changes if c.op is not Op.NOOP] == []

    # Destroying eu-west-1 spares the roles us-east-1 runs on, and says so.
    teardown = _engine("eu-west-1").plan(eu, "teardown", preflight=False).plan
    for change in (c for c in teardown.changes if c.action == "iam.role"):
        assert change.op is Op.NOOP
        assert any("left alone" in n and "another region" in n for n in change.notes), change.notes
    _apply(_engine("eu-west-1"), eu, "teardown")

    assert boto3.client("eks", region_name="eu-west-1").list_clusters()["clusters"] == []
    assert {f"arn:aws:iam::{ACCOUNT}:role/{n}" for n in ("lk-cluster-role", "lk-node-role")} <= {
        r["Arn"] for r in iam.list_roles()["Roles"]
    }
    cluster = boto3.client("eks", region_name="us-east-1").describe_cluster(name="lk")["cluster"]
    assert cluster["status"] == "ACTIVE" and cluster["roleArn"] in legacy_arns
    assert iam.list_attached_role_policies(RoleName="lk-cluster-role")["AttachedPolicies"]
    assert not _engine("us-east-1").plan(us).plan.has_changes
