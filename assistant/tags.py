"""Ownership tags and the names of global resources: what we stamp on everything we create,
and how we recognise it later.

Every resource eks-assist creates carries four tags: ``eks-assist:managed-by``,
``eks-assist:cluster`` (the cluster's name), ``eks-assist:resource`` (what it is for that
cluster) and ``eks-assist:cluster-arn``: the ARN of the EKS cluster that owns it, which names
the partition, the region, the account and the cluster in one value. A cluster's identity
is that ARN, not its name: ``lk`` in us-east-1 and ``lk`` in eu-west-1 are two clusters.

:func:`owner_of` sorts a resource's tags into four kinds (:class:`Ownership`):

- ``OURS``: provably this cluster's. Teardown may delete it; a plan may change it.
- ``LEGACY``: tagged for a cluster of this *name* by an eks-assist that did not yet record
  the cluster ARN, on a *global* resource (an IAM role): it may belong to the cluster of that
  name in any region, so it is never modified or deleted, only used as it is.
- ``OTHER``: tagged by eks-assist for a different cluster (another name, or the same name
  in another region, account or partition). A plan that would adopt it refuses.
- ``FOREIGN``: not created by eks-assist. Used as it is where the spec names it, never
  deleted.

A *regional* resource (a VPC, a subnet, a node group, the cluster itself) lives in one
account and region, and eks-assist only ever creates it in the owning cluster's region. So
older tags without the ARN still prove it is ours: its location supplies the region and
account that the tags leave out. A global resource has no location to supply them, hence
``LEGACY``.

IAM is global, so the names of IAM roles include the region (:func:`role_name`): two
clusters of the same name in two regions never share a role.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

MANAGED_BY = "eks-assist:managed-by"
MANAGED_BY_VALUE = "eks-assist"
CLUSTER = "eks-assist:cluster"
RESOURCE = "eks-assist:resource"
CLUSTER_ARN = "eks-assist:cluster-arn"

Scope = Literal["regional", "global"]

# IAM's limit on a role name.
ROLE_NAME_MAX = 64


@functools.cache
def partition_of(region: str) -> str:
    """The AWS partition of ``region`` (``aws``, ``aws-cn``, ``aws-us-gov``, ...), from botocore's data."""
    import botocore.session

    return str(botocore.session.get_session().get_partition_for_region(region))


@dataclass(frozen=True)
class Owner:
    """The cluster that owns a resource: its name, region and account (and the region's partition)."""

    cluster: str
    region: str
    account: str
    partition: str = "aws"

    @classmethod
    def of(cls, cluster: str, region: str, account: str) -> Owner:
        """The owner for a cluster in ``region`` of ``account``, with the partition looked up."""
        return cls(cluster, region, account, partition_of(region))

    @property
    def arn(self) -> str:
        """The EKS cluster ARN: the identity recorded in ``eks-assist:cluster-arn``."""
        return f"arn:{self.partition}:eks:{self.region}:{self.account}:cluster/{self.cluster}"

    def __str__(self) -> str:
        return f"cluster {self.cluster} in {self.region} (account {self.account})"


class Ownership(StrEnum):
    """Whose a resource is, judged from its tags (see the module docstring)."""

    OURS = "ours"
    LEGACY = "legacy"
    OTHER = "other"
    FOREIGN = "foreign"


def ownership(owner: Owner, resource: str) -> dict[str, str]:
    """Tags that mark a resource as created by eks-assist for ``owner``."""
    return {MANAGED_BY: MANAGED_BY_VALUE, CLUSTER: owner.cluster, RESOURCE: resource, CLUSTER_ARN: owner.arn}


def owner_of(tags: Mapping[str, str] | None, owner: Owner, *, scope: Scope = "regional") -> Ownership:
    """Whether ``tags`` say the resource is ``owner``'s, another eks-assist cluster's, or nobody's we know."""
    tags = tags or {}
    if tags.get(MANAGED_BY) != MANAGED_BY_VALUE:
        return Ownership.FOREIGN
    if tags.get(CLUSTER) != owner.cluster:
        return Ownership.OTHER
    recorded = tags.get(CLUSTER_ARN)
    if recorded is None:
        return Ownership.OURS if scope == "regional" else Ownership.LEGACY
    return Ownership.OURS if recorded == owner.arn else Ownership.OTHER


def is_ours(tags: Mapping[str, str] | None, owner: Owner, *, scope: Scope = "regional") -> bool:
    """True only if ``tags`` prove eks-assist created this for ``owner`` (cluster, region and account)."""
    return owner_of(tags, owner, scope=scope) is Ownership.OURS


def recorded_owner(tags: Mapping[str, str] | None) -> str:
    """Who the tags say owns the resource, for messages: the cluster ARN, else the cluster name."""
    tags = tags or {}
    if CLUSTER_ARN in tags:
        return f"cluster {tags[CLUSTER_ARN]}"
    if CLUSTER in tags:
        return f"cluster {tags[CLUSTER]} (region not recorded)"
    return "nobody (not tagged by eks-assist)"


RoleKind = Literal["cluster", "node"]


def role_name(cluster: str, region: str, kind: RoleKind) -> str:
    """The IAM role name for a cluster's control plane (``cluster``) or nodes (``node``).

    ``<cluster>-<region>-<kind>-role``, e.g. ``lk-us-east-1-node-role``: IAM is global, so the
    region is part of the name. When that is longer than IAM's 64 characters, the cluster
    name is cut and a hash of the whole name keeps it unique and deterministic; the region and
    kind stay readable: ``<cluster prefix>-<hash8>-<region>-<kind>-role``.
    """
    tail = f"{region}-{kind}-role"
    full = f"{cluster}-{tail}"
    if len(full) <= ROLE_NAME_MAX:
        return full
    digest = hashlib.sha256(full.encode()).hexdigest()[:8]
    keep = ROLE_NAME_MAX - len(tail) - len(digest) - 2
    return f"{cluster[:keep]}-{digest}-{tail}"


def global_names(cluster: str, region: str) -> dict[str, str]:
    """Names of the global resources a cluster's playbooks create (the ``names`` template variable)."""
    return {"clusterRole": role_name(cluster, region, "cluster"), "nodeRole": role_name(cluster, region, "node")}


def from_aws_list(items: Iterable[Mapping[str, Any]] | None) -> dict[str, str]:
    """``[{"Key": k, "Value": v}]`` → ``{k: v}``."""
    return {t["Key"]: t.get("Value", "") for t in items or []}


def to_aws_list(tags: Mapping[str, str]) -> list[dict[str, str]]:
    """``{k: v}`` → ``[{"Key": k, "Value": v}]``, sorted for stable plans."""
    return [{"Key": k, "Value": v} for k, v in sorted(tags.items())]
