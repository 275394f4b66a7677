"""Node objects for managed node groups, and the kube-system status that follows them."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from assistant.sandbox.k8s.resources import by_kind
from assistant.sandbox.k8s.store import Obj, ObjectStore, now_rfc3339

NODEGROUP_LABEL = "eks.amazonaws.com/nodegroup"


@dataclass(frozen=True)
class NodeGroupShape:
    """What the Node objects of one managed node group look like."""

    cluster: str
    name: str
    desired_size: int
    instance_type: str
    kubernetes_version: str
    region: str
    capacity_type: str = "ON_DEMAND"
    ami_type: str = "AL2023_x86_64_STANDARD"
    cpu: int = 2
    memory_mib: int = 4096
    max_pods: int = 110
    labels: Mapping[str, str] = field(default_factory=dict)
    taints: Sequence[Mapping[str, str]] = ()


def _dns_suffix(region: str) -> str:
    return "ec2.internal" if region == "us-east-1" else f"{region}.compute.internal"


def _arch(ami_type: str) -> str:
    return "arm64" if "ARM" in ami_type.upper() else "amd64"


def _os_image(ami_type: str) -> str:
    if ami_type.startswith("BOTTLEROCKET"):
        return "Bottlerocket OS 1.39.0 (aws-k8s)"
    if ami_type.startswith("AL2023"):
        return "Amazon Linux 2023.7.20250512"
    return "Amazon Linux 2"


def _taint(taint: Mapping[str, str]) -> dict[str, str]:
    # EKS spells effects NO_SCHEDULE; Kubernetes spells them NoSchedule.
    effects = {"NO_SCHEDULE": "NoSchedule", "NO_EXECUTE": "NoExecute", "PREFER_NO_SCHEDULE": "PreferNoSchedule"}
    effect = str(taint.get("effect", ""))
    converted = {"key": taint.get("key", ""), "value": taint.get("value", ""), "effect": effects.get(effect, effect)}
    return {k: v for k, v in converted.items() if v}


def _condition(kind: str, status: str, reason: str, now: str, message: str = "") -> dict[str, str]:
    condition = {"type": kind, "status": status, "reason": reason, "lastHeartbeatTime": now, "lastTransitionTime": now}
    if message:
        condition["message"] = message
    return condition


def _node(shape: NodeGroupShape, ip: str, zone: str, instance_id: str) -> Obj:
    name = f"ip-{ip.replace('.', '-')}.{_dns_suffix(shape.region)}"
    labels = {
        **shape.labels,
        NODEGROUP_LABEL: shape.name,
        "eks.amazonaws.com/capacityType": shape.capacity_type,
        "eks.amazonaws.com/nodegroup-image": "ami-0" + hashlib.sha256(shape.ami_type.encode()).hexdigest()[:16],
        "node.kubernetes.io/instance-type": shape.instance_type,
        "beta.kubernetes.io/instance-type": shape.instance_type,
        "kubernetes.io/os": "linux",
        "beta.kubernetes.io/os": "linux",
        "kubernetes.io/arch": _arch(shape.ami_type),
        "beta.kubernetes.io/arch": _arch(shape.ami_type),
        "kubernetes.io/hostname": name,
        "topology.kubernetes.io/region": shape.region,
        "topology.kubernetes.io/zone": zone,
        "failure-domain.beta.kubernetes.io/region": shape.region,
        "failure-domain.beta.kubernetes.io/zone": zone,
    }
    capacity = {
        "cpu": str(shape.cpu),
        "memory": f"{shape.memory_mib * 1024}Ki",
        "pods": str(shape.max_pods),
        "ephemeral-storage": "20959212Ki",
    }
    now = now_rfc3339()
    minor = ".".join(shape.kubernetes_version.split(".")[:2])
    spec: dict[str, Any] = {"providerID": f"aws:///{zone}/{instance_id}"}
    if shape.taints:
        spec["taints"] = [_taint(t) for t in shape.taints]
    return {
        "metadata": {"name": name, "labels": labels, "annotations": {"alpha.kubernetes.io/provided-node-ip": ip}},
        "spec": spec,
        "status": {
            "conditions": [
                _condition("MemoryPressure", "False", "KubeletHasSufficientMemory", now),
                _condition("DiskPressure", "False", "KubeletHasNoDiskPressure", now),
                _condition("PIDPressure", "False", "KubeletHasSufficientPID", now),
                _condition("Ready", "True", "KubeletReady", now, "kubelet is posting ready status"),
            ],
            "addresses": [
                {"type": "InternalIP", "address": ip},
                {"type": "InternalDNS", "address": name},
                {"type": "Hostname", "address": name},
            ],
            "capacity": capacity,
            "allocatable": dict(capacity),
            "nodeInfo": {
                "kubeletVersion": f"v{minor}.0-eks-sandbox",
                "kubeProxyVersion": f"v{minor}.0-eks-sandbox",
                "containerRuntimeVersion": "containerd://1.7.27",
                "kernelVersion": "6.1.134-152.225.amzn2023.x86_64",
                "osImage": _os_image(shape.ami_type),
                "operatingSystem": "linux",
                "architecture": _arch(shape.ami_type),
                "machineID": hashlib.md5(name.encode()).hexdigest(),
                "systemUUID": hashlib.md5(instance_id.encode()).hexdigest(),
                "bootID": hashlib.md5((name + instance_id).encode()).hexdigest(),
            },
        },
    }


def nodes_of(store: ObjectStore, nodegroup: str) -> list[Obj]:
    """The Node objects a node group owns."""
    items, _ = store.list(by_kind("Node"), None, lambda o: o["metadata"].get("labels", {}).get(NODEGROUP_LABEL) == nodegroup)
    return items


def sync_nodes(store: ObjectStore, shape: NodeGroupShape) -> None:
    """Make the node group own exactly ``desired_size`` Ready nodes, keeping the oldest ones."""
    node_kind = by_kind("Node")
    with store.lock:
        current = sorted(nodes_of(store, shape.name), key=lambda o: int(o["metadata"]["resourceVersion"]))
        for extra in current[shape.desired_size :]:
            store.delete(node_kind, None, extra["metadata"]["name"])
        taken = {o["metadata"]["name"] for o in store.list(node_kind, None)[0]}
        # Seeded per node group, so names are stable across runs but differ between groups.
        rng = random.Random(f"{shape.cluster}/{shape.name}/{len(taken)}")
        zones = [f"{shape.region}{z}" for z in "abc"]
        for index in range(len(current), shape.desired_size):
            while True:
                ip = f"10.0.{rng.randrange(0, 96)}.{rng.randrange(2, 255)}"
                name = f"ip-{ip.replace('.', '-')}.{_dns_suffix(shape.region)}"
                if name not in taken:
                    break
            taken.add(name)
            instance_id = "i-0" + "".join(rng.choice("0123456789abcdef") for _ in range(16))
            store.create(node_kind, None, _node(shape, ip, zones[index % len(zones)], instance_id))
    refresh_workload_status(store)


def remove_nodes(store: ObjectStore, nodegroup: str) -> None:
    """Delete every node of a node group."""
    with store.lock:
        for node in nodes_of(store, nodegroup):
            store.delete(by_kind("Node"), None, node["metadata"]["name"])
    refresh_workload_status(store)


def refresh_workload_status(store: ObjectStore) -> None:
    """Point the kube-system DaemonSets and coredns at the nodes that now exist."""
    daemonsets, deployments = by_kind("DaemonSet"), by_kind("Deployment")
    with store.lock:
        count = len(store.list(by_kind("Node"), None)[0])
        for name in ("aws-node", "kube-proxy"):
            if store.find(daemonsets, "kube-system", name) is None:
                continue

            def set_ds(obj: Obj) -> Obj:
                obj.setdefault("status", {}).update(
                    desiredNumberScheduled=count,
                    currentNumberScheduled=count,
                    numberReady=count,
                    updatedNumberScheduled=count,
                    numberAvailable=count,
                )
                return obj

            store.update(daemonsets, "kube-system", name, set_ds)
        if store.find(deployments, "kube-system", "coredns") is None:
            return

        def set_deploy(obj: Obj) -> Obj:
            replicas = int(obj.get("spec", {}).get("replicas", 0))
            ready = replicas if count else 0
            obj.setdefault("status", {}).update(
                replicas=replicas,
                updatedReplicas=replicas,
                readyReplicas=ready,
                availableReplicas=ready,
                unavailableReplicas=replicas - ready,
            )
            return obj

        store.update(deployments, "kube-system", "coredns", set_deploy)
