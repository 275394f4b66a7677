"""Records the sandbox keeps for each EKS cluster beyond what moto's ``Cluster`` holds."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from assistant.sandbox.eks.errors import ResourceNotFound

CREATING, ACTIVE, UPDATING, DELETING = "CREATING", "ACTIVE", "UPDATING", "DELETING"
CREATE_FAILED = "CREATE_FAILED"


def utcnow() -> dt.datetime:
    """Timezone-aware now, for createdAt/modifiedAt fields."""
    return dt.datetime.now(dt.UTC)


@dataclass
class Addon:
    """One EKS add-on; attribute names are the snake_case of the API's member names."""

    addon_name: str
    cluster_name: str
    addon_version: str
    addon_arn: str
    status: str = CREATING
    service_account_role_arn: str | None = None
    configuration_values: str | None = None
    resolve_conflicts: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    health: dict[str, Any] = field(default_factory=lambda: {"issues": []})
    publisher: str = "eks"
    owner: str = "aws"
    created_at: dt.datetime = field(default_factory=utcnow)
    modified_at: dt.datetime = field(default_factory=utcnow)
    client_request_token: str | None = None


@dataclass
class AssociatedAccessPolicy:
    """An access policy associated with an access entry, with its scope."""

    policy_arn: str
    access_scope: dict[str, Any]
    associated_at: dt.datetime = field(default_factory=utcnow)
    modified_at: dt.datetime = field(default_factory=utcnow)


@dataclass
class AccessEntry:
    """One EKS access entry: an IAM principal mapped to a Kubernetes username and groups."""

    cluster_name: str
    principal_arn: str
    access_entry_arn: str
    username: str
    type: str = "STANDARD"
    kubernetes_groups: list[str] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    created_at: dt.datetime = field(default_factory=utcnow)
    modified_at: dt.datetime = field(default_factory=utcnow)
    policies: dict[str, AssociatedAccessPolicy] = field(default_factory=dict)
    client_request_token: str | None = None


@dataclass
class Update:
    """One EKS update (version, config, node group or add-on update) and its progress."""

    type: str
    params: list[dict[str, str]]
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    status: str = "InProgress"
    errors: list[dict[str, Any]] = field(default_factory=list)
    created_at: dt.datetime = field(default_factory=utcnow)
    nodegroup_name: str | None = None
    addon_name: str | None = None
    client_request_token: str | None = None


@dataclass
class ClusterExtras:
    """Everything the sandbox tracks for one cluster that moto does not."""

    addons: dict[str, Addon] = field(default_factory=dict)
    access_entries: dict[str, AccessEntry] = field(default_factory=dict)
    updates: dict[str, Update] = field(default_factory=dict)
    api_id: str | None = None  # path segment of the cluster's emulated Kubernetes API


def extras(cluster: Any) -> ClusterExtras:
    """The sandbox record riding on a moto ``Cluster`` (created on first use)."""
    record = getattr(cluster, "sandbox_extras", None)
    if record is None:
        record = ClusterExtras()
        cluster.sandbox_extras = record
    return record


def update_by_token(cluster: Any, token: str | None) -> Update | None:
    """The update an earlier call with this clientRequestToken started (a retry must not start another)."""
    if not token:
        return None
    return next((u for u in extras(cluster).updates.values() if u.client_request_token == token), None)


def find_cluster(backend: Any, name: str) -> Any:
    """A moto cluster by name, or EKS's not-found error."""
    cluster = backend.clusters.get(name)
    if cluster is None:
        raise ResourceNotFound(f"No cluster found for name: {name}.", clusterName=name)
    return cluster


def find_nodegroup(backend: Any, cluster_name: str, nodegroup_name: str) -> Any:
    """A moto node group by cluster and name, or EKS's not-found error."""
    cluster = find_cluster(backend, cluster_name)
    nodegroup = cluster.nodegroups.get(nodegroup_name)
    if nodegroup is None:
        raise ResourceNotFound(
            f"No node group found for name: {nodegroup_name}.",
            clusterName=cluster_name,
            nodegroupName=nodegroup_name,
        )
    return nodegroup


def arn_parts(arn: str) -> tuple[str, str, str]:
    """``(partition, region, account_id)`` of an ARN."""
    parts = arn.split(":")
    return parts[1], parts[3], parts[4]
