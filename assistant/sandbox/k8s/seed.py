"""What a fresh EKS cluster already has in it: namespaces, kube-system add-ons, the CA bundle."""

from __future__ import annotations

import ipaddress
from typing import Any

from assistant.sandbox.k8s.resources import by_kind
from assistant.sandbox.k8s.store import Obj, ObjectStore

NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
VPC_CNI_VERSION = "v1.19.6-eksbuild.1"
COREDNS_VERSION = "v1.11.4-eksbuild.14"
# Account that hosts the EKS add-on images in most regions.
_ECR_ACCOUNT = "602401143452"

# The aws-node settings EKS ships with; ENABLE_PREFIX_DELEGATION and WARM_ENI_TARGET decide max pods.
AWS_NODE_ENV: dict[str, str] = {
    "ADDITIONAL_ENI_TAGS": "{}",
    "ANNOTATE_POD_IP": "false",
    "AWS_VPC_CNI_NODE_PORT_SUPPORT": "true",
    "AWS_VPC_ENI_MTU": "9001",
    "AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG": "false",
    "AWS_VPC_K8S_CNI_EXTERNALSNAT": "false",
    "AWS_VPC_K8S_CNI_LOGLEVEL": "DEBUG",
    "AWS_VPC_K8S_CNI_RANDOMIZESNAT": "prng",
    "AWS_VPC_K8S_CNI_VETHPREFIX": "eni",
    "DISABLE_INTROSPECTION": "false",
    "DISABLE_METRICS": "false",
    "DISABLE_NETWORK_RESOURCE_PROVISIONING": "false",
    "ENABLE_IPv4": "true",
    "ENABLE_IPv6": "false",
    "ENABLE_POD_ENI": "false",
    "ENABLE_PREFIX_DELEGATION": "false",
    "NETWORK_POLICY_ENFORCING_MODE": "standard",
    "VPC_CNI_VERSION": VPC_CNI_VERSION.split("-")[0],
    "WARM_ENI_TARGET": "1",
    "WARM_PREFIX_TARGET": "1",
}


def _image(region: str, repo: str, tag: str) -> str:
    return f"{_ECR_ACCOUNT}.dkr.ecr.{region}.amazonaws.com/{repo}:{tag}"


def _meta(name: str, namespace: str | None = None, labels: dict[str, str] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    if labels:
        meta["labels"] = labels
    return meta


def _daemonset(name: str, labels: dict[str, str], containers: list[Obj]) -> Obj:
    return {
        "metadata": _meta(name, "kube-system", labels),
        "spec": {
            "selector": {"matchLabels": {"k8s-app": name}},
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "10%"}},
            "template": {
                "metadata": {"labels": {"k8s-app": name}},
                "spec": {
                    "serviceAccountName": name,
                    "hostNetwork": True,
                    "priorityClassName": "system-node-critical",
                    "containers": containers,
                },
            },
        },
        "status": {
            "desiredNumberScheduled": 0,
            "currentNumberScheduled": 0,
            "numberReady": 0,
            "updatedNumberScheduled": 0,
            "numberAvailable": 0,
            "numberMisscheduled": 0,
            "observedGeneration": 1,
        },
    }


def _nth_host(cidr: str, n: int) -> str:
    return str(ipaddress.ip_network(cidr, strict=False).network_address + n)


def fresh_cluster_objects(kubernetes_version: str, region: str, service_cidr: str, ca_pem: str) -> list[Obj]:
    """The objects EKS puts in a new cluster, in creation order (namespaces first)."""
    objects: list[Obj] = [{"kind": "Namespace", "metadata": _meta(ns)} for ns in NAMESPACES]
    for ns in NAMESPACES:
        objects.append({"kind": "ServiceAccount", "metadata": _meta("default", ns)})
        objects.append({"kind": "ConfigMap", "metadata": _meta("kube-root-ca.crt", ns), "data": {"ca.crt": ca_pem}})
    objects.append(
        {
            "kind": "Service",
            "metadata": _meta("kubernetes", "default", {"component": "apiserver", "provider": "kubernetes"}),
            "spec": {
                "type": "ClusterIP",
                "clusterIP": _nth_host(service_cidr, 1),
                "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 443}],
            },
        }
    )
    for sa in ("aws-node", "kube-proxy", "coredns"):
        objects.append({"kind": "ServiceAccount", "metadata": _meta(sa, "kube-system")})
    objects.append(
        {
            "kind": "DaemonSet",
            **_daemonset(
                "aws-node",
                {
                    "k8s-app": "aws-node",
                    "app.kubernetes.io/name": "aws-node",
                    "app.kubernetes.io/version": VPC_CNI_VERSION.split("-")[0],
                },
                [
                    {
                        "name": "aws-node",
                        "image": _image(region, "amazon-k8s-cni", VPC_CNI_VERSION),
                        "env": [{"name": k, "value": v} for k, v in AWS_NODE_ENV.items()]
                        + [
                            {"name": "MY_NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
                            {"name": "MY_POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                        ],
                        "ports": [{"containerPort": 61678, "name": "metrics", "protocol": "TCP"}],
                        "resources": {"requests": {"cpu": "25m"}},
                    },
                    {
                        "name": "aws-eks-nodeagent",
                        "image": _image(region, "amazon/aws-network-policy-agent", "v1.2.1-eksbuild.1"),
                    },
                ],
            ),
        }
    )
    minor = ".".join(kubernetes_version.split(".")[:2])
    objects.append(
        {
            "kind": "DaemonSet",
            **_daemonset(
                "kube-proxy",
                {"k8s-app": "kube-proxy", "eks.amazonaws.com/component": "kube-proxy"},
                [
                    {
                        "name": "kube-proxy",
                        "image": _image(region, "eks/kube-proxy", f"v{minor}.0-minimal-eksbuild.1"),
                        "command": ["kube-proxy", "--v=2", "--config=/var/lib/kube-proxy-config/config"],
                        "resources": {"requests": {"cpu": "100m"}},
                    }
                ],
            ),
        }
    )
    objects.append(
        {
            "kind": "ConfigMap",
            "metadata": _meta("kube-proxy-config", "kube-system", {"eks.amazonaws.com/component": "kube-proxy"}),
            "data": {"config": "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: iptables\n"},
        }
    )
    objects.append(
        {
            "kind": "ConfigMap",
            "metadata": _meta("amazon-vpc-cni", "kube-system", {"app.kubernetes.io/name": "aws-node"}),
            "data": {"enable-network-policy-controller": "false", "enable-windows-ipam": "false"},
        }
    )
    objects.append(
        {
            "kind": "Deployment",
            "metadata": _meta("coredns", "kube-system", {"k8s-app": "kube-dns", "eks.amazonaws.com/component": "coredns"}),
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"k8s-app": "kube-dns", "eks.amazonaws.com/component": "coredns"}},
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": "25%"}},
                "template": {
                    "metadata": {"labels": {"k8s-app": "kube-dns", "eks.amazonaws.com/component": "coredns"}},
                    "spec": {
                        "serviceAccountName": "coredns",
                        "priorityClassName": "system-cluster-critical",
                        "containers": [
                            {
                                "name": "coredns",
                                "image": _image(region, "eks/coredns", COREDNS_VERSION),
                                "args": ["-conf", "/etc/coredns/Corefile"],
                                "ports": [
                                    {"containerPort": 53, "name": "dns", "protocol": "UDP"},
                                    {"containerPort": 53, "name": "dns-tcp", "protocol": "TCP"},
                                ],
                            }
                        ],
                    },
                },
            },
            "status": {
                "replicas": 2,
                "updatedReplicas": 2,
                "readyReplicas": 0,
                "availableReplicas": 0,
                "unavailableReplicas": 2,
                "observedGeneration": 1,
            },
        }
    )
    objects.append(
        {
            "kind": "ConfigMap",
            "metadata": _meta("coredns", "kube-system", {"k8s-app": "kube-dns", "eks.amazonaws.com/component": "coredns"}),
            "data": {
                "Corefile": ".:53 {\n    errors\n    health {\n        lameduck 5s\n      }\n    ready\n"
                "    kubernetes cluster.local in-addr.arpa ip6.arpa {\n      pods insecure\n"
                "      fallthrough in-addr.arpa ip6.arpa\n    }\n    prometheus :9153\n"
                "    forward . /etc/resolv.conf\n    cache 30\n    loop\n    reload\n    loadbalance\n}\n"
            },
        }
    )
    objects.append(
        {
            "kind": "Service",
            "metadata": _meta("kube-dns", "kube-system", {"k8s-app": "kube-dns", "eks.amazonaws.com/component": "kube-dns"}),
            "spec": {
                "type": "ClusterIP",
                "clusterIP": _nth_host(service_cidr, 10),
                "selector": {"k8s-app": "kube-dns"},
                "ports": [
                    {"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
                    {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53},
                ],
            },
        }
    )
    return objects


def seed(store: ObjectStore, kubernetes_version: str, region: str, service_cidr: str, ca_pem: str) -> None:
    """Fill an empty store with a fresh EKS cluster's objects."""
    for obj in fresh_cluster_objects(kubernetes_version, region, service_cidr, ca_pem):
        res = by_kind(obj["kind"])
        store.create(res, obj["metadata"].get("namespace"), obj)
