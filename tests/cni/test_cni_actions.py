"""The vpc-cni add-on, the aws-node env fallback and ENIConfigs, planned and applied on the sandbox."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import boto3
import pytest

from assistant.clients.aws import AwsContext
from assistant.engine import Engine
from assistant.errors import InputError
from assistant.planning.plan import Op
from assistant.run.guard import approved_apply
from assistant.run.runner import RunOptions
from assistant.sandbox import Sandbox
from assistant.spec import LoadedSpec, load_spec
from assistant.store import open_store

from ..integration.conftest import CallLog

SPEC = """\
apiVersion: eks-assist/v1
kind: Cluster
metadata:
  name: cni
  region: us-east-1
cni:
{cni}
"""


def write_spec(tmp_path: Path, cni: str) -> LoadedSpec:
    path = tmp_path / "cni.yaml"
    path.write_text(SPEC.format(cni=cni), encoding="utf-8")
    return load_spec(path)


def make_cluster(name: str = "cni") -> dict[str, Any]:
    """An ACTIVE EKS cluster made directly, so these tests exercise only the CNI playbook."""
    ec2 = boto3.client("ec2", region_name="us-east-1")
    iam = boto3.client("iam", region_name="us-east-1")
    eks = boto3.client("eks", region_name="us-east-1")
    vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.1.{i}.0/24", AvailabilityZone=f"us-east-1{z}")["Subnet"]["SubnetId"]
        for i, z in enumerate("ab")
    ]
    role = iam.create_role(RoleName=f"{name}-cluster", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    eks.create_cluster(name=name, roleArn=role, resourcesVpcConfig={"subnetIds": subnets}, version="1.33")
    for _ in range(2000):
        c = eks.describe_cluster(name=name)["cluster"]
        if c["status"] == "ACTIVE":
            return {"subnets": subnets, "cluster": c}
        time.sleep(0.01)
    raise AssertionError("cluster never became ACTIVE")


def engine() -> Engine:
    return Engine(AwsContext(region="us-east-1"), open_store(), options=RunOptions(poll_min=0.01, poll_max=0.05))


def changes(loaded: LoadedSpec) -> dict[str, Any]:
    eng = engine()
    log = CallLog(eng.aws)
    plan = eng.plan(loaded, "cni", preflight=False).plan
    assert log.mutating == [], "planning the cni playbook must be read-only"
    return {c.step: c for c in plan.changes}


def apply(loaded: LoadedSpec) -> None:
    eng = engine()
    eng.apply(loaded, eng.plan(loaded, "cni", preflight=False).plan.hash, "test", "flag", playbook="cni", kind="cni")


def aws_node_env() -> dict[str, str]:
    import kubernetes.client

    from assistant.clients.kube import api_client

    apps = kubernetes.client.AppsV1Api(api_client(AwsContext(region="us-east-1"), "cni"))
    ds = apps.read_namespaced_daemon_set("aws-node", "kube-system")
    return {e.name: e.value for e in ds.spec.template.spec.containers[0].env}


def test_addon_gets_prefix_delegation_config_then_noop(sandbox: Sandbox, tmp_path: Path) -> None:
    make_cluster()
    loaded = write_spec(tmp_path, "  prefixDelegation: true\n  externalSnat: true")
    planned = changes(loaded)
    addon = planned["vpc_cni"]
    assert addon.op is Op.CREATE
    assert addon.after["configurationValues"] == {
        "env": {
            "AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG": "false",
            "AWS_VPC_K8S_CNI_EXTERNALSNAT": "true",
            "ENABLE_PREFIX_DELEGATION": "true",
            "WARM_PREFIX_TARGET": "1",
        }
    }
    assert any("before node groups launch" in n for n in addon.notes)
    # The add-on will carry the settings: the DaemonSet fallback stands down.
    assert planned["aws_node_env"].op is Op.NOOP
    apply(loaded)
    a = boto3.client("eks", region_name="us-east-1").describe_addon(clusterName="cni", addonName="vpc-cni")["addon"]
    assert a["status"] == "ACTIVE"
    assert json.loads(a["configurationValues"])["env"]["ENABLE_PREFIX_DELEGATION"] == "true"
    again = changes(loaded)
    assert {s: c.op for s, c in again.items()} == {"vpc_cni": Op.NOOP, "aws_node_env": Op.NOOP}
    # A changed setting is an in-place update of configurationValues.
    changed = changes(write_spec(tmp_path, "  prefixDelegation: true\n  warmPrefixTarget: 2"))["vpc_cni"]
    assert changed.op is Op.UPDATE
    assert changed.after["configurationValues"]["env"]["WARM_PREFIX_TARGET"] == "2"


def test_aws_node_env_fallback_without_addon(sandbox: Sandbox, tmp_path: Path) -> None:
    make_cluster()
    loaded = write_spec(tmp_path, "  prefixDelegation: true\n  warmEniTarget: 2")
    from assistant.actions.base import ActionContext
    from assistant.actions.k8s.aws_node_env import AwsNodeEnv, AwsNodeEnvArgs

    aws = AwsContext(region="us-east-1")
    ctx = ActionContext(client=aws.client, account=aws.account, region="us-east-1", step="aws_node_env", session=aws.session)
    action = AwsNodeEnv()
    args = AwsNodeEnvArgs.model_validate({"cluster": "cni", "cni": loaded.spec.canonical()["cni"]})
    log = CallLog(aws)
    current = action.read(args, ctx)
    planned = action.plan(args, current, ctx)
    assert log.mutating == []
    assert planned.op is Op.UPDATE
    seeded = aws_node_env()
    # The plan shows the env diff: the seeded values before, ours after.
    assert planned.before == {"env": {k: seeded.get(k) for k in planned.after["env"]}}
    assert planned.before["env"]["ENABLE_PREFIX_DELEGATION"] == "false"
    assert planned.before["env"]["WARM_ENI_TARGET"] == "1"
    assert planned.after["env"]["ENABLE_PREFIX_DELEGATION"] == "true"
    assert planned.after["env"]["WARM_ENI_TARGET"] == "2"
    other_before = {k: v for k, v in aws_node_env().items() if k not in planned.after["env"]}
    with approved_apply(planned.op.value, "test"):
        action.apply(args, planned, current, ctx)
    env = aws_node_env()
    assert env["ENABLE_PREFIX_DELEGATION"] == "true" and env["WARM_ENI_TARGET"] == "2"
    assert {k: v for k, v in env.items() if k not in planned.after["env"]} == other_before
    assert action.plan(args, action.read(args, ctx), ctx).op is Op.NOOP


def test_custom_networking_creates_eniconfigs(sandbox: Sandbox, tmp_path: Path) -> None:
    made = make_cluster()
    a, b = made["subnets"]
    loaded = write_spec(
        tmp_path,
        "  customNetworking:\n    enabled: true\n    eniConfigs:\n"
        f"      - {{availabilityZone: us-east-1a, subnetId: {a}, securityGroupIds: [sg-0123456789abcdef0]}}\n"
        f"      - {{availabilityZone: us-east-1b, subnetId: {b}}}\n",
    )
    planned = changes(loaded)
    assert planned["eniconfig[us-east-1a]"].op is Op.CREATE
    env = planned["vpc_cni"].after["configurationValues"]["env"]
    assert env["AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG"] == "true"
    assert env["ENI_CONFIG_LABEL_DEF"] == "topology.kubernetes.io/zone"
    apply(loaded)
    import kubernetes.client

    from assistant.clients.kube import api_client

    api = kubernetes.client.CustomObjectsApi(api_client(AwsContext(region="us-east-1"), "cni"))
    got = api.get_cluster_custom_object("crd.k8s.amazonaws.com", "v1alpha1", "eniconfigs", "us-east-1a")
    assert got["spec"] == {"subnet": a, "securityGroups": ["sg-0123456789abcdef0"]}
    assert {s: c.op for s, c in changes(loaded).items()} == {
        "vpc_cni": Op.NOOP,
        "aws_node_env": Op.NOOP,
        "eniconfig[us-east-1a]": Op.NOOP,
        "eniconfig[us-east-1b]": Op.NOOP,
    }


def test_bad_cni_combination_is_refused_when_the_spec_loads(tmp_path: Path) -> None:
    # The spec model holds the VPC CNI's combination rules, so `validate` and the wizard refuse it too.
    with pytest.raises(InputError) as exc:
        write_spec(tmp_path, "  warmPrefixTarget: 1")
    assert exc.value.exit_code == 2
    [problem] = exc.value.problems
    assert problem.path == "cni.warmPrefixTarget" and problem.line is not None
    assert "warmPrefixTarget needs prefixDelegation: true" in problem.message


def test_plan_before_the_cluster_exists(sandbox: Sandbox, tmp_path: Path) -> None:
    # Composed into cluster.yaml the CNI steps are planned before the cluster exists.
    loaded = write_spec(
        tmp_path,
        "  prefixDelegation: true\n  customNetworking:\n    enabled: true\n    eniConfigs:\n"
        "      - {availabilityZone: us-east-1a, subnetId: subnet-0123456789abcdef0}\n",
    )
    ops = {s: c.op for s, c in changes(loaded).items()}
    assert ops == {"vpc_cni": Op.CREATE, "aws_node_env": Op.NOOP, "eniconfig[us-east-1a]": Op.CREATE}
