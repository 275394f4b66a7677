"""Edits to ``kube-system/aws-auth`` that EKS makes for managed node groups."""

from __future__ import annotations

import re

import yaml

from assistant.sandbox.k8s.resources import by_kind
from assistant.sandbox.k8s.store import Obj, ObjectStore

NODE_GROUPS = ["system:bootstrappers", "system:nodes"]
NODE_USERNAME = "system:node:{{EC2PrivateDNSName}}"
_ROLE_PATH = re.compile(r"^(arn:[^:]+:iam::\d{12}:role/)(?:.*/)?([^/]+)$")


def without_path(role_arn: str) -> str:
    """aws-auth matches role ARNs without their IAM path, so EKS writes them that way."""
    match = _ROLE_PATH.match(role_arn)
    return f"{match.group(1)}{match.group(2)}" if match else role_arn


def _map_roles(obj: Obj) -> list[dict[str, object]]:
    text = (obj.get("data") or {}).get("mapRoles") or "[]"
    try:
        loaded = yaml.safe_load(text)
    except yaml.YAMLError:
        return []
    return loaded if isinstance(loaded, list) else []


def _dump(roles: list[dict[str, object]]) -> str:
    return str(yaml.safe_dump(roles, default_flow_style=False, sort_keys=True))


def map_node_role(store: ObjectStore, role_arn: str) -> None:
    """Make sure the node role is mapped, creating aws-auth if this is the first node group."""
    configmaps = by_kind("ConfigMap")
    rolearn = without_path(role_arn)
    entry: dict[str, object] = {"groups": list(NODE_GROUPS), "rolearn": rolearn, "username": NODE_USERNAME}
    with store.lock:
        if store.find(configmaps, "kube-system", "aws-auth") is None:
            store.create(
                configmaps,
                "kube-system",
                {"metadata": {"name": "aws-auth", "namespace": "kube-system"}, "data": {"mapRoles": _dump([entry])}},
            )
            return

        def add(obj: Obj) -> Obj:
            roles = _map_roles(obj)
            if not any(r.get("rolearn") == rolearn for r in roles if isinstance(r, dict)):
                roles.append(entry)
                obj.setdefault("data", {})["mapRoles"] = _dump(roles)
            return obj

        store.update(configmaps, "kube-system", "aws-auth", add)


def unmap_node_role(store: ObjectStore, role_arn: str) -> None:
    """Remove the node role's mapping (called only when no node group uses the role any more)."""
    configmaps = by_kind("ConfigMap")
    rolearn = without_path(role_arn)
    with store.lock:
        if store.find(configmaps, "kube-system", "aws-auth") is None:
            return

        def remove(obj: Obj) -> Obj:
            roles = _map_roles(obj)
            kept = [
                r
                for r in roles
                if not (isinstance(r, dict) and r.get("rolearn") == rolearn and r.get("username") == NODE_USERNAME)
            ]
            if len(kept) != len(roles):
                obj.setdefault("data", {})["mapRoles"] = _dump(kept)
            return obj

        store.update(configmaps, "kube-system", "aws-auth", remove)
