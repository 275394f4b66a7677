"""The emulated API server through the real ``kubernetes`` client, with a kubeconfig from EKS."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import urllib3
import yaml
from kubernetes import client as k8s
from kubernetes.client import ApiClient
from kubernetes.client.rest import ApiException
from kubernetes.config import new_client_from_config

from .helpers import ReadyCluster, unique


@pytest.fixture
def api(ready_cluster: ReadyCluster) -> Iterator[ApiClient]:
    client = new_client_from_config(config_file=str(ready_cluster.kubeconfig))
    yield client
    client.close()


def _status(exc: pytest.ExceptionInfo[ApiException]) -> dict[str, object]:
    body: dict[str, object] = json.loads(exc.value.body)
    return body


def test_configmap_crud(api: ApiClient) -> None:
    core = k8s.CoreV1Api(api)
    name = unique("cm")
    body = k8s.V1ConfigMap(metadata=k8s.V1ObjectMeta(name=name, labels={"app": "demo"}), data={"a": "1", "b": "2"})
    created = core.create_namespaced_config_map("default", body)
    assert created.metadata.uid and created.metadata.creation_timestamp
    assert created.metadata.namespace == "default"
    first_version = created.metadata.resource_version

    with pytest.raises(ApiException) as exists:
        core.create_namespaced_config_map("default", body)
    assert exists.value.status == 409 and _status(exists)["reason"] == "AlreadyExists"

    listed = core.list_namespaced_config_map("default", label_selector="app in (demo,other)")
    assert [cm.metadata.name for cm in listed.items] == [name]
    assert (
        core.list_namespaced_config_map("default", label_selector="app!=demo", field_selector=f"metadata.name={name}").items == []
    )

    # PUT replaces the whole object: keys left out are gone.
    replaced = core.replace_namespaced_config_map(
        name, "default", k8s.V1ConfigMap(metadata=k8s.V1ObjectMeta(name=name, resource_version=first_version), data={"c": "3"})
    )
    assert replaced.data == {"c": "3"} and replaced.metadata.labels is None
    assert int(replaced.metadata.resource_version) > int(first_version)
    assert replaced.metadata.uid == created.metadata.uid

    with pytest.raises(ApiException) as stale:
        core.replace_namespaced_config_map(
            name, "default", k8s.V1ConfigMap(metadata=k8s.V1ObjectMeta(name=name, resource_version=first_version), data={})
        )
    assert stale.value.status == 409
    assert _status(stale)["reason"] == "Conflict"

    patched = core.patch_namespaced_config_map(name, "default", {"data": {"d": "4", "c": None}})
    assert patched.data == {"d": "4"}
    json_patched = core.patch_namespaced_config_map(name, "default", [{"op": "add", "path": "/data/e", "value": "5"}])
    assert json_patched.data == {"d": "4", "e": "5"}

    deleted = core.delete_namespaced_config_map(name, "default")
    assert deleted["status"] == "Success"  # the client returns the Status as plain data
    with pytest.raises(ApiException) as missing:
        core.read_namespaced_config_map(name, "default")
    status = _status(missing)
    assert missing.value.status == 404
    assert status["kind"] == "Status" and status["reason"] == "NotFound"
    assert status["message"] == f'configmaps "{name}" not found'


def test_namespaces_and_errors(api: ApiClient) -> None:
    core, apps = k8s.CoreV1Api(api), k8s.AppsV1Api(api)
    with pytest.raises(ApiException) as no_ns:
        core.create_namespaced_config_map("nope", k8s.V1ConfigMap(metadata=k8s.V1ObjectMeta(name="x")))
    assert no_ns.value.status == 404 and _status(no_ns)["message"] == 'namespaces "nope" not found'
    with pytest.raises(ApiException) as missing_deploy:
        apps.read_namespaced_deployment("nope", "default")
    assert _status(missing_deploy)["message"] == 'deployments.apps "nope" not found'

    ns = unique("team")
    core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=ns)))
    assert core.read_namespace(ns).status.phase == "Active"
    core.create_namespaced_secret(ns, k8s.V1Secret(metadata=k8s.V1ObjectMeta(name="s"), string_data={"k": "v"}))
    core.delete_namespace(ns)
    with pytest.raises(ApiException):
        core.read_namespaced_secret("s", ns)
    with pytest.raises(ApiException) as forbidden:
        core.delete_namespace("kube-system")
    assert forbidden.value.status == 403


def test_fresh_eks_objects(api: ApiClient, ready_cluster: ReadyCluster) -> None:
    core, apps = k8s.CoreV1Api(api), k8s.AppsV1Api(api)
    assert {"default", "kube-system", "kube-public", "kube-node-lease"} <= {
        ns.metadata.name for ns in core.list_namespace().items
    }
    aws_node = apps.read_namespaced_daemon_set("aws-node", "kube-system")
    env = {e.name: e.value for e in aws_node.spec.template.spec.containers[0].env}
    assert env["ENABLE_PREFIX_DELEGATION"] == "false" and env["WARM_ENI_TARGET"] == "1"
    assert aws_node.status.desired_number_scheduled == ready_cluster.desired_size
    assert apps.read_namespaced_daemon_set("kube-proxy", "kube-system").metadata.name == "kube-proxy"
    assert apps.read_namespaced_deployment("coredns", "kube-system").spec.replicas == 2

    nodes = core.list_node(label_selector=f"eks.amazonaws.com/nodegroup={ready_cluster.nodegroup}").items
    assert len(nodes) == ready_cluster.desired_size
    node = nodes[0]
    assert node.metadata.name.startswith("ip-10-0-") and node.metadata.name.endswith(".ec2.internal")
    assert node.metadata.labels["node.kubernetes.io/instance-type"] == "m5.large"
    assert node.metadata.labels["kubernetes.io/os"] == "linux"
    assert node.status.node_info.kubelet_version == "v1.33.0-eks-sandbox"
    assert node.status.capacity["pods"] == "29"  # m5.large: 3 ENIs x (10 - 1) + 2
    assert [c.status for c in node.status.conditions if c.type == "Ready"] == ["True"]

    aws_auth = core.read_namespaced_config_map("aws-auth", "kube-system")
    roles = yaml.safe_load(aws_auth.data["mapRoles"])
    # aws-auth holds role ARNs without their IAM path.
    assert roles == [
        {
            "rolearn": "arn:aws:iam::123456789012:role/sandbox-node",
            "username": "system:node:{{EC2PrivateDNSName}}",
            "groups": ["system:bootstrappers", "system:nodes"],
        }
    ]
    assert k8s.VersionApi(api).get_code().git_version == "v1.33.0-eks-sandbox"


def test_raw_http_errors(ready_cluster: ReadyCluster, tmp_path: object) -> None:
    import base64
    import ssl

    context = ssl.create_default_context(cadata=base64.b64decode(ready_cluster.ca_data).decode())
    http = urllib3.PoolManager(ssl_context=context)
    try:
        url = ready_cluster.endpoint
        bad = http.request(
            "POST", f"{url}/api/v1/namespaces/default/configmaps", body=b"{nope", headers={"Content-Type": "application/json"}
        )
        assert bad.status == 400 and json.loads(bad.data)["reason"] == "BadRequest"
        unknown = http.request("GET", f"{url}/api/v1/widgets")
        assert unknown.status == 404 and json.loads(unknown.data)["kind"] == "Status"
        gone = http.request("GET", url.rsplit("/", 1)[0] + "/no-such-cluster-0000/api/v1/nodes")
        assert gone.status == 404
        discovery = json.loads(http.request("GET", f"{url}/apis/apps/v1").data)
        daemonsets = next(r for r in discovery["resources"] if r["name"] == "daemonsets")
        assert daemonsets["namespaced"] is True and daemonsets["shortNames"] == ["ds"] and "patch" in daemonsets["verbs"]
    finally:
        http.clear()
