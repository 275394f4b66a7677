"""A plain-data snapshot of everything in the sandbox, to prove that something changed nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from assistant.sandbox.eks.state import extras
from assistant.sandbox.k8s.server import KubeApiServer


def _tags(obj: Any) -> dict[str, str]:
    if hasattr(obj, "get_tags"):  # EC2 resources keep tags in the backend's tag index
        return {t["key"]: t["value"] for t in obj.get_tags()}
    tags = getattr(obj, "tags", None) or {}
    if isinstance(tags, list):
        return {t["Key"]: t["Value"] for t in tags}
    return {k: v["Value"] if isinstance(v, dict) else v for k, v in dict(tags).items()}


def _eks(backend: Any, kube: KubeApiServer | None) -> dict[str, Any]:
    clusters: dict[str, Any] = {}
    for name, cluster in sorted(backend.clusters.items()):
        record = extras(cluster)
        api = kube.cluster(record.api_id) if kube is not None and record.api_id else None
        clusters[name] = {
            "arn": cluster.arn,
            "status": cluster.status,
            "version": cluster.version,
            "endpoint": cluster.endpoint,
            "accessConfig": getattr(cluster, "access_config", None),
            "logging": cluster.logging,
            "resourcesVpcConfig": cluster.resources_vpc_config,
            "tags": dict(cluster.tags),
            "nodegroups": {
                ng_name: {
                    "status": ng.status,
                    "version": ng.version,
                    "nodeRole": ng.node_role,
                    "instanceTypes": list(ng.instance_types),
                    "scalingConfig": dict(ng.scaling_config),
                    "labels": dict(ng.labels or {}),
                    "taints": list(ng.taints or []),
                }
                for ng_name, ng in sorted(cluster.nodegroups.items())
            },
            "addons": {
                a.addon_name: {"status": a.status, "version": a.addon_version, "configuration": a.configuration_values}
                for a in sorted(record.addons.values(), key=lambda a: a.addon_name)
            },
            "accessEntries": {
                e.principal_arn: {
                    "type": e.type,
                    "username": e.username,
                    "kubernetesGroups": list(e.kubernetes_groups),
                    "policies": {arn: p.access_scope for arn, p in sorted(e.policies.items())},
                }
                for e in sorted(record.access_entries.values(), key=lambda e: e.principal_arn)
            },
            "updates": {u.id: {"type": u.type, "status": u.status} for u in record.updates.values()},
            "kubernetes": api.store.versions() if api is not None else None,
        }
    return clusters


def _ec2(backend: Any) -> dict[str, Any]:
    def by_id(items: Any) -> dict[str, Any]:
        return {item.id: _tags(item) for item in sorted(items, key=lambda i: i.id)}

    groups = [g for per_vpc in backend.groups.values() for g in per_vpc.values()]
    return {
        "vpcs": by_id(backend.vpcs.values()),
        "subnets": by_id(s for per_zone in backend.subnets.values() for s in per_zone.values()),
        "internetGateways": by_id(backend.internet_gateways.values()),
        "routeTables": by_id(backend.route_tables.values()),
        "securityGroups": {g.id: {"name": g.name, "tags": _tags(g)} for g in sorted(groups, key=lambda g: g.id)},
        "launchTemplates": by_id(backend.launch_templates.values()),
    }


def _iam(backend: Any) -> dict[str, Any]:
    return {
        "roles": {
            role.name: {
                "arn": role.arn,
                "attachedPolicies": sorted(p.arn for p in role.managed_policies.values()),
                "inlinePolicies": sorted(role.policies),
                "tags": _tags(role),
            }
            for role in sorted(backend.roles.values(), key=lambda r: r.name)
        },
        "instanceProfiles": sorted(p.name for p in backend.instance_profiles.values()),
    }


def snapshot(kube: KubeApiServer | None) -> dict[str, Any]:
    """``{account: {"iam": ..., "regions": {region: {"eks": ..., "ec2": ...}}}}`` for backends in use.

    Only backends moto has already created are read, so taking a snapshot creates nothing.
    """
    from moto.backends import get_backend

    accounts: dict[str, Any] = {}
    for account, per_partition in sorted(get_backend("iam").items()):
        if "aws" in per_partition:
            accounts.setdefault(account, {"iam": {}, "regions": {}})["iam"] = _iam(per_partition["aws"])
    regional: list[tuple[str, Any, Callable[[Any], dict[str, Any]]]] = [
        ("eks", get_backend("eks"), lambda b: _eks(b, kube)),
        ("ec2", get_backend("ec2"), _ec2),
    ]
    for service, backends, render in regional:
        for account, per_region in sorted(backends.items()):
            for region, backend in sorted(per_region.items()):
                regions = accounts.setdefault(account, {"iam": {}, "regions": {}})["regions"]
                regions.setdefault(region, {})[service] = render(backend)
    return accounts
