"""Keeps each cluster's emulated Kubernetes API in step with its EKS state.

When a cluster turns ACTIVE it gets an API (seeded like a fresh EKS cluster) and an endpoint;
node groups bring Node objects and their aws-auth mapping; add-ons reconfigure kube-system.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import yaml

from assistant.sandbox.eks.state import arn_parts, extras
from assistant.sandbox.k8s import aws_auth, nodes, seed
from assistant.sandbox.k8s.api import ClusterApi
from assistant.sandbox.k8s.resources import by_kind
from assistant.sandbox.k8s.server import KubeApiServer
from assistant.sandbox.k8s.store import Obj

# add-on → (kind, name, container, image repository) of the workload it manages in kube-system.
_ADDON_WORKLOADS = {
    "vpc-cni": ("DaemonSet", "aws-node", "aws-node", "amazon-k8s-cni"),
    "kube-proxy": ("DaemonSet", "kube-proxy", "kube-proxy", "eks/kube-proxy"),
    "coredns": ("Deployment", "coredns", "coredns", "eks/coredns"),
}


def max_pods(instance_type: str, prefix_delegation: bool) -> tuple[int, int, int]:
    """``(max pods, vCPUs, memory MiB)`` from moto's real instance data, as the EKS AMI computes it."""
    from moto.ec2.models.instance_types import INSTANCE_TYPES

    info = INSTANCE_TYPES.get(instance_type)
    if info is None:
        return 110, 2, 4096
    network = info["NetworkInfo"]
    default_card = network.get("DefaultNetworkCardIndex", 0)
    cards = network.get("NetworkCards") or []
    card = next((c for c in cards if c.get("NetworkCardIndex") == default_card), None)
    enis = card["MaximumNetworkInterfaces"] if card else network["MaximumNetworkInterfaces"]
    ips = network["Ipv4AddressesPerInterface"]
    vcpus = info["VCpuInfo"]["DefaultVCpus"]
    memory = info["MemoryInfo"]["SizeInMiB"]
    if prefix_delegation:
        return min(enis * (ips - 1) * 16 + 2, 110 if vcpus <= 30 else 250), vcpus, memory
    return enis * (ips - 1) + 2, vcpus, memory


def _container_env(obj: Obj, container: str) -> dict[str, str]:
    for spec in obj["spec"]["template"]["spec"]["containers"]:
        if spec["name"] == container:
            return {e["name"]: e.get("value", "") for e in spec.get("env", []) if "value" in e}
    return {}


def _addon_env(configuration: str | None) -> dict[str, str]:
    if not configuration:
        return {}
    try:
        values = json.loads(configuration)
    except ValueError:
        values = yaml.safe_load(configuration)
    env = values.get("env") if isinstance(values, dict) else None
    return {str(k): str(v) for k, v in env.items()} if isinstance(env, dict) else {}


class KubeBridge:
    """The lifecycle's ``ClusterObserver``: EKS events in, Kubernetes objects out."""

    def __init__(self, server: KubeApiServer, ca_pem: str) -> None:
        self._server = server
        self._ca_pem = ca_pem

    def _api(self, cluster: Any) -> ClusterApi | None:
        api_id = extras(cluster).api_id
        return self._server.cluster(api_id) if api_id else None

    def cluster_active(self, cluster: Any) -> None:
        """Create and seed the cluster's API, and publish its endpoint and CA like EKS does."""
        record = extras(cluster)
        if record.api_id is None:
            _partition, region, account = arn_parts(cluster.arn)
            api = self._server.add_cluster(cluster.name, cluster.version, cluster.arn, account, region)
            service_cidr = (cluster.kubernetes_network_config or {}).get("serviceIpv4Cidr", "172.20.0.0/16")
            seed.seed(api.store, cluster.version, region, service_cidr, self._ca_pem)
            record.api_id = api.ref.api_id
        cluster.endpoint = self._server.url_for(record.api_id)
        cluster.certificate_authority = {"data": base64.b64encode(self._ca_pem.encode()).decode()}

    def cluster_version_changed(self, cluster: Any) -> None:
        """The API server reports the new version."""
        api = self._api(cluster)
        if api is not None:
            api.kubernetes_version = cluster.version

    def cluster_deleted(self, cluster: Any) -> None:
        """The cluster's API goes away with it."""
        api_id = extras(cluster).api_id
        if api_id:
            self._server.remove_cluster(api_id)

    def nodegroup_active(self, cluster: Any, nodegroup: Any) -> None:
        """Nodes to match desiredSize, and (for aws-auth clusters) the node role mapping."""
        api = self._api(cluster)
        if api is None:
            return
        aws_node = api.store.find(by_kind("DaemonSet"), "kube-system", "aws-node")
        prefix = aws_node is not None and _container_env(aws_node, "aws-node").get("ENABLE_PREFIX_DELEGATION") == "true"
        instance_type = (nodegroup.instance_types or ["t3.medium"])[0]
        pods, vcpus, memory = max_pods(instance_type, prefix)
        _partition, region, _account = arn_parts(cluster.arn)
        shape = nodes.NodeGroupShape(
            cluster=cluster.name,
            name=nodegroup.nodegroup_name,
            desired_size=int(nodegroup.scaling_config.get("desiredSize", 0)),
            instance_type=instance_type,
            kubernetes_version=nodegroup.version,
            region=region,
            capacity_type=nodegroup.capacity_type,
            ami_type=nodegroup.ami_type,
            cpu=vcpus,
            memory_mib=memory,
            max_pods=pods,
            labels=dict(nodegroup.labels or {}),
            taints=list(nodegroup.taints or []),
        )
        nodes.sync_nodes(api.store, shape)
        mode = (getattr(cluster, "access_config", None) or {}).get("authenticationMode", "CONFIG_MAP")
        if mode != "API":
            aws_auth.map_node_role(api.store, nodegroup.node_role)

    def nodegroup_deleted(self, cluster: Any, nodegroup: Any) -> None:
        """Its nodes leave; its role mapping goes unless another node group still uses the role."""
        api = self._api(cluster)
        if api is None:
            return
        nodes.remove_nodes(api.store, nodegroup.nodegroup_name)
        still_used = any(
            other.node_role == nodegroup.node_role for other in cluster.nodegroups.values() if other is not nodegroup
        )
        if not still_used:
            aws_auth.unmap_node_role(api.store, nodegroup.node_role)

    def addon_active(self, cluster: Any, addon: Any) -> None:
        """An add-on owns its kube-system workload: image tag, and for vpc-cni the aws-node env."""
        api = self._api(cluster)
        workload = _ADDON_WORKLOADS.get(addon.addon_name)
        if api is None or workload is None:
            return
        kind, name, container, repository = workload
        env = _addon_env(addon.configuration_values) if addon.addon_name == "vpc-cni" else {}
        res = by_kind(kind)
        if api.store.find(res, "kube-system", name) is None:
            return

        def configure(obj: Obj) -> Obj:
            for spec in obj["spec"]["template"]["spec"]["containers"]:
                if spec["name"] != container:
                    continue
                registry = spec.get("image", "").split("/")[0]
                spec["image"] = f"{registry}/{repository}:{addon.addon_version}"
                current = spec.setdefault("env", [])
                for key, value in env.items():
                    entry = next((e for e in current if e["name"] == key), None)
                    if entry is None:
                        current.append({"name": key, "value": value})
                    else:
                        entry.pop("valueFrom", None)
                        entry["value"] = value
            return obj

        api.store.update(res, "kube-system", name, configure)
