"""Ownership tags: what we stamp on everything we create, and how we recognise it later.

Teardown deletes only resources carrying both our managed-by tag and the cluster's name,
so nothing that eks-assist did not create is ever deleted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

MANAGED_BY = "eks-assist:managed-by"
MANAGED_BY_VALUE = "eks-assist"
CLUSTER = "eks-assist:cluster"
RESOURCE = "eks-assist:resource"


def ownership(cluster: str, resource: str) -> dict[str, str]:
    """Tags that mark a resource as created by eks-assist for ``cluster``."""
    return {MANAGED_BY: MANAGED_BY_VALUE, CLUSTER: cluster, RESOURCE: resource}


def is_ours(tags: Mapping[str, str] | None, cluster: str) -> bool:
    """True only if ``tags`` say eks-assist created this for ``cluster``."""
    tags = tags or {}
    return tags.get(MANAGED_BY) == MANAGED_BY_VALUE and tags.get(CLUSTER) == cluster


def from_aws_list(items: Iterable[Mapping[str, Any]] | None) -> dict[str, str]:
    """``[{"Key": k, "Value": v}]`` → ``{k: v}``."""
    return {t["Key"]: t.get("Value", "") for t in items or []}


def to_aws_list(tags: Mapping[str, str]) -> list[dict[str, str]]:
    """``{k: v}`` → ``[{"Key": k, "Value": v}]``, sorted for stable plans."""
    return [{"Key": k, "Value": v} for k, v in sorted(tags.items())]
