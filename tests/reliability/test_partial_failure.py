"""Partial failure: one node group fails for good; the run says exactly what exists; destroy cleans up.

The full spec's ``batch`` node group asks for p5.48xlarge, an instance type the sandbox never has
capacity for (``assistant.sandbox.eks.catalog.NO_CAPACITY_INSTANCE_TYPES``): EKS accepts the
create, then the group goes CREATE_FAILED with an ``AsgInstanceLaunchFailures`` health issue, as a
real capacity shortage does. Everything runs through the real CLI against the sandbox.

The drill checks that the steps that do not need the failed one complete, that those that need
it are skipped with a reason, and that the failure report and the run's journal name exactly what
exists in the sandbox afterwards. No step of the cluster playbook needs a node group, so a second
apply, of a small playbook with a GPU node group and an add-on that needs it, has a failure with
a dependent. It then checks that ``destroy`` removes everything of ours, the
failed node group included, and leaves alone resources we did not create: an unrelated VPC,
security group and role, and lookalikes carrying our cluster tag but not our managed-by tag.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest

from assistant.sandbox import Sandbox
from assistant.sandbox.eks.catalog import NO_CAPACITY_INSTANCE_TYPES
from assistant.spec import load_spec
from assistant.tags import CLUSTER, MANAGED_BY, RESOURCE, role_name

from ..drill_report import record
from .conftest import REGION, drill_engine, secrets_in
from .world import full_spec

pytestmark = pytest.mark.slow

NAME = "pf"
SCARCE = "p5.48xlarge"
FAILING = "nodegroup[batch]"
CLI = [sys.executable, "-m", "assistant.cli"]

# No step of the cluster playbook needs a node group, so its failure skips nothing there. This
# playbook, applied next to the same cluster, has a step that does: an add-on that needs nodes.
EXTRAS = f"""
name: extras
description: a GPU node group, an add-on that runs on it, and one that needs no node group
steps:
  - id: node_role
    action: iam.role
    with:
      name: "{{{{ names.nodeRole }}}}"
      cluster: "{{{{ spec.metadata.name }}}}"
      service: ec2.amazonaws.com
      managedPolicies:
        - arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy
        - arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly
        - arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy
      tags: "{{{{ tags }}}}"
  - id: gpu
    action: eks.nodegroup
    with:
      cluster: "{{{{ spec.metadata.name }}}}"
      name: gpu
      nodeRoleArn: "{{{{ steps.node_role.arn }}}}"
      instanceTypes: [{SCARCE}]
      scaling: {{min: 1, desired: 1, max: 1}}
      tags: "{{{{ tags }}}}"
  - id: coredns
    action: eks.addon
    needs: [gpu]
    with: {{cluster: "{{{{ spec.metadata.name }}}}", name: coredns}}
  - id: identity_agent
    action: eks.addon
    with: {{cluster: "{{{{ spec.metadata.name }}}}", name: eks-pod-identity-agent}}
"""


def _cli(*args: str, expect: int = 0) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=300)
    assert done.returncode == expect, f"eks-assist {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done


def _foreign() -> dict[str, Any]:
    """Resources eks-assist did not create: unrelated ones, and lookalikes with our cluster tag only."""
    ec2, iam = boto3.client("ec2", region_name=REGION), boto3.client("iam", region_name=REGION)
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
        }
    )

    def tagged(kind: str, tags: dict[str, str]) -> list[dict[str, Any]]:
        return [{"ResourceType": kind, "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}]

    lookalike = {CLUSTER: NAME, "Name": f"{NAME}-vpc"}
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16", TagSpecifications=tagged("vpc", {"Name": "platform-shared"}))["Vpc"]["VpcId"]
    twin = ec2.create_vpc(CidrBlock="10.0.0.0/16", TagSpecifications=tagged("vpc", {**lookalike, RESOURCE: "vpc"}))["Vpc"][
        "VpcId"
    ]
    group = ec2.create_security_group(GroupName="platform-bastion", Description="not ours", VpcId=vpc)["GroupId"]
    twin_group = ec2.create_security_group(
        GroupName=f"{NAME}-control-plane-sg",
        Description="looks like ours",
        VpcId=twin,
        TagSpecifications=tagged("security-group", {**lookalike, RESOURCE: "control-plane-sg"}),
    )["GroupId"]
    iam.create_role(RoleName="platform-ci", AssumeRolePolicyDocument=trust)
    iam.create_role(RoleName=f"{NAME}-legacy-node-role", AssumeRolePolicyDocument=trust, Tags=[{"Key": CLUSTER, "Value": NAME}])
    return {"vpcs": {vpc, twin}, "securityGroups": {group, twin_group}, "roles": {"platform-ci", f"{NAME}-legacy-node-role"}}


def _ours(inventory: dict[str, Any]) -> set[str]:
    """What exists of ours for the cluster: resources with our ownership tags, and the cluster's EKS parts.

    An EKS resource is keyed by what the spec made it for; access entries EKS adds by itself
    (the node role's and the creator's) go with the cluster and are not listed.
    """
    mapped = {m.arn for m in full_spec(NAME).spec.iam_mappings}
    found: set[str] = set()
    for account in inventory.values():
        for role in account.get("iam", {}).get("roles", {}).values():
            if role["tags"].get(MANAGED_BY) and role["tags"].get(CLUSTER) == NAME:
                found.add(role["tags"][RESOURCE])
        ec2 = account["regions"].get(REGION, {}).get("ec2", {})
        for kind in ("vpcs", "subnets", "internetGateways", "routeTables", "launchTemplates"):
            found |= {t[RESOURCE] for t in ec2.get(kind, {}).values() if t.get(MANAGED_BY) and t.get(CLUSTER) == NAME}
        for group in ec2.get("securityGroups", {}).values():
            tags = group["tags"]
            if (tags.get(MANAGED_BY) and tags.get(CLUSTER) == NAME) or tags.get("aws:eks:cluster-name") == NAME:
                found.add(tags.get(RESOURCE, f"eks-made:{group['name'].rsplit('-', 1)[0]}"))
        cluster = account["regions"].get(REGION, {}).get("eks", {}).get(NAME)
        if cluster is not None:
            found.add(f"eks-cluster:{cluster['status']}")
            found |= {f"nodegroup/{n}:{g['status']}" for n, g in cluster["nodegroups"].items()}
            found |= {f"addon/{a}:{v['status']}" for a, v in cluster["addons"].items()}
            found |= {f"access-entry/{arn}" for arn in cluster["accessEntries"] if arn in mapped}
    return found


def _what_the_journal_says_exists(steps: list[dict[str, Any]]) -> set[str]:
    """The resources each step names, for the steps the journal says went through (done, or failed after their call)."""
    access = [m.arn for m in full_spec(NAME).spec.iam_mappings if m.via == "access-entry"]
    made = {
        "cluster_role": {f"iam-role/{role_name(NAME, REGION, 'cluster')}"},
        "node_role": {f"iam-role/{role_name(NAME, REGION, 'node')}"},
        "vpc": {"vpc"},
        "subnets": {"subnet-0", "subnet-1"},
        "internet_gateway": {"igw"},
        "route_table": {"public-rt"},
        "control_plane_sg": {"control-plane-sg"},
        # EKS makes the cluster security group with the cluster.
        "cluster": {"eks-cluster:ACTIVE", f"eks-made:eks-cluster-sg-{NAME}"},
        "vpc_cni": {"addon/vpc-cni:ACTIVE"},
        "coredns": {"addon/coredns:ACTIVE"},
        "identity_agent": {"addon/eks-pod-identity-agent:ACTIVE"},
        "access_entries": {f"access-entry/{arn}" for arn in access},
        # Kubernetes objects and a local file: checked on their own.
        "aws_auth": set(),
        "aws_node_env": set(),
        "kubeconfig": set(),
    }
    exists: set[str] = set()
    for step in steps:
        if step["status"] == "done" or (step["status"] == "failed" and " went through" in step["error"]):
            if step["step"].startswith("nodegroup[") or step["step"] == "gpu":
                group = step["step"][len("nodegroup[") : -1] if step["step"] != "gpu" else "gpu"
                exists.add(f"nodegroup/{group}:{'ACTIVE' if step['status'] == 'done' else 'CREATE_FAILED'}")
            else:
                exists |= made[step["step"]]
    return exists


def _dependents(instances: list[Any], failed: set[str]) -> set[str]:
    """Every step that needs a failed step, directly or through others."""
    out: set[str] = set()
    grew = True
    while grew:
        grew = False
        for inst in instances:
            if inst.id not in out and set(inst.deps) & (failed | out):
                out.add(inst.id)
                grew = True
    return out


def test_partial_failure_reports_what_exists_and_destroy_cleans_up(drill_sandbox: Sandbox, tmp_path: Path) -> None:
    assert SCARCE in NO_CAPACITY_INSTANCE_TYPES
    spec_file = tmp_path / f"{NAME}.yaml"
    full_spec(NAME, spec_file)
    spec_file.write_text(spec_file.read_text(encoding="utf-8").replace("[c5.large]", f"[{SCARCE}]"), encoding="utf-8")
    loaded = load_spec(str(spec_file))
    assert [ng.instance_types for ng in loaded.spec.workers if ng.name == "batch"] == [[SCARCE]]
    foreign = _foreign()
    before = drill_sandbox.inventory()
    outputs: dict[str, str] = {}

    plan = json.loads(_cli("plan", "-f", str(spec_file), "-o", "json").stdout)
    applied = _cli("apply", "-f", str(spec_file), "--approve", plan["hash"], "--poll-max", "0.1", expect=1)
    outputs["apply"] = applied.stdout + applied.stderr
    [run] = json.loads(_cli("runs", "-o", "json").stdout)
    journal = json.loads(_cli("runs", run["id"], "-o", "json").stdout)
    steps = {s["step"]: s for s in journal["steps"]}
    status = json.loads(_cli("status", NAME, "-o", "json").stdout)
    outputs.update(runs=json.dumps(journal), status=json.dumps(status))

    # What failed, what completed, what was skipped, and why.
    failed = {k for k, s in steps.items() if s["status"] == "failed"}
    skipped = {k for k, s in steps.items() if s["status"] == "skipped"}
    done = {k for k, s in steps.items() if s["status"] == "done"}
    instances = drill_engine().plan(loaded).instances
    assert failed == {FAILING}, steps
    assert skipped == _dependents(instances, failed)  # none: no step of the cluster playbook needs a node group
    assert all(f"needs {FAILING}" in steps[k]["error"] or "which did not complete" in steps[k]["error"] for k in skipped)
    assert done == {i.id for i in instances} - failed - skipped
    error = steps[FAILING]["error"]
    assert steps[FAILING]["op"] == "create"
    assert error.startswith(f"the create of node group {NAME}/batch went through, then: ")
    assert "CREATE_FAILED" in error and f"InsufficientInstanceCapacity - We currently do not have sufficient {SCARCE}" in error
    assert run["status"] == journal["status"] == "failed"

    # The report on stderr names every step by what it did; the journal says the same.
    report = applied.stderr[applied.stderr.index("error: ") :]
    assert report.startswith(f"error: 1 step(s) failed, {len(skipped)} skipped, {len(done)} done:")
    assert f"{FAILING}: the create of node group {NAME}/batch went through" in report
    [done_line] = [line.strip() for line in report.splitlines() if line.strip().startswith("done: ")]
    reported_done = {step for part in done_line[len("done: ") :].split("; ") for step in part.split(" ", 1)[1].split(", ")}
    assert reported_done == done
    for part in done_line[len("done: ") :].split("; "):
        op, ids = part.split(" ", 1)
        assert all(steps[i]["op"] == op for i in ids.split(", ")), part

    # ... and that is exactly what exists in the sandbox.
    exists = _ours(drill_sandbox.inventory())
    assert exists == _what_the_journal_says_exists(journal["steps"])
    assert {g["name"]: g["status"] for g in status["nodeGroups"]} == {
        "general": "ACTIVE",
        "spot": "ACTIVE",
        "batch": "CREATE_FAILED",
    }

    # A fresh plan does not call the failed group converged, and apply will not paper over it.
    again = json.loads(_cli("plan", "-f", str(spec_file), "-o", "json").stdout)
    changed = {c["step"]: c for c in again["changes"] if c["op"] != "no-op"}
    assert list(changed) == [FAILING] and changed[FAILING]["op"] == "replace"
    assert "CREATE_FAILED" in changed[FAILING]["reason"]

    # A failure with dependents: they are skipped, with the reason; the rest completes.
    extras = tmp_path / "extras.yaml"
    extras.write_text(EXTRAS, encoding="utf-8")
    plan = json.loads(_cli("plan", "-f", str(spec_file), "--playbook", str(extras), "-o", "json").stdout)
    more = _cli(
        "apply", "-f", str(spec_file), "--playbook", str(extras), "--approve", plan["hash"], "--poll-max", "0.1", expect=1
    )
    outputs["extras"] = more.stdout + more.stderr
    extra_run = json.loads(_cli("runs", "-o", "json").stdout)[0]["id"]
    extra_journal = json.loads(_cli("runs", extra_run, "-o", "json").stdout)["steps"]
    extra_steps = {s["step"]: (s["status"], s["op"]) for s in extra_journal}
    assert extra_steps == {
        "node_role": ("done", "no-op"),
        "gpu": ("failed", "create"),
        "coredns": ("skipped", ""),
        "identity_agent": ("done", "create"),
    }
    reason = "skipped: needs gpu, which did not complete"
    assert [s["error"] for s in extra_journal if s["step"] == "coredns"] == [reason]
    report = more.stderr[more.stderr.index("error: ") :]
    assert report.startswith("error: 1 step(s) failed, 1 skipped, 2 done:")
    assert f"coredns: {reason}" in report and "done: no-op node_role; create identity_agent" in report
    journals = journal["steps"] + extra_journal
    skipped |= {"coredns"}
    failed |= {"gpu"}
    done |= {"node_role", "identity_agent"}
    exists = _ours(drill_sandbox.inventory())
    assert exists == _what_the_journal_says_exists(journals)
    assert "addon/coredns:ACTIVE" not in exists and "nodegroup/gpu:CREATE_FAILED" in exists

    # Destroy: everything of ours goes, the failed groups included (gpu is not even in the spec);
    # nothing else does.
    teardown = json.loads(_cli("plan", "-f", str(spec_file), "--playbook", "teardown", "-o", "json").stdout)
    destroyed = _cli("destroy", "-f", str(spec_file), "--approve", teardown["hash"], "--poll-max", "0.1")
    outputs["destroy"] = destroyed.stdout + destroyed.stderr
    final = drill_sandbox.inventory()
    assert _ours(final) == set()
    leftovers = [k for k in final.get("123456789012", {}).get("regions", {}).get(REGION, {}).get("eks", {}) if k == NAME]
    assert leftovers == []
    account = next(iter(final.values()))
    ec2 = account["regions"][REGION]["ec2"]
    kept = {
        "vpcs": foreign["vpcs"] & set(ec2["vpcs"]),
        "securityGroups": foreign["securityGroups"] & set(ec2["securityGroups"]),
        "roles": foreign["roles"] & set(account["iam"]["roles"]),
    }
    assert kept == foreign
    # Everything that was there before the apply is still there, tags and all.
    for kind in ("vpcs", "subnets", "internetGateways", "routeTables"):
        assert {k: v for k, v in ec2[kind].items() if k in before[next(iter(before))]["regions"][REGION]["ec2"][kind]} == before[
            next(iter(before))
        ]["regions"][REGION]["ec2"][kind]
    assert {k: account["iam"]["roles"][k] for k in before[next(iter(before))]["iam"]["roles"]} == before[next(iter(before))][
        "iam"
    ]["roles"]

    found, files = secrets_in([tmp_path], outputs)
    assert files > 0 and not found, [str(f) for f in found]
    record(
        "partial failure",
        runs=2,
        faults=f"node groups on {SCARCE}: CREATE_FAILED (no capacity)",
        outcome="report matches sandbox; destroy left 0 of ours",
        steps_done=len(done),
        steps_failed=len(failed),
        steps_skipped=len(skipped),
        resources_after_apply=len(exists),
        resources_left_after_destroy=len(_ours(final)),
        foreign_resources_kept=sum(len(v) for v in kept.values()),
        apply_exit_codes=f"{applied.returncode},{more.returncode}",
        secrets_found=len(found),
    )
