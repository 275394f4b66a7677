"""Access entries and access policies: IAM principals mapped into Kubernetes, the API way."""

from __future__ import annotations

import re
import uuid
from typing import Any

from werkzeug.wrappers import Response

from assistant.sandbox.eks import catalog, render
from assistant.sandbox.eks.call import EksCall, page
from assistant.sandbox.eks.errors import InvalidParameter, InvalidRequest, ResourceInUse, ResourceNotFound
from assistant.sandbox.eks.state import AccessEntry, AssociatedAccessPolicy, extras, find_cluster, utcnow

_PRINCIPAL = re.compile(r"^arn:(aws[a-z-]*):iam::(\d{12}):(role|user)/(?:.*/)?([^/]+)$")
_TYPES = ("STANDARD", "EC2_LINUX", "EC2_WINDOWS", "FARGATE_LINUX", "EC2")
_NODE_TYPES = ("EC2_LINUX", "EC2_WINDOWS", "FARGATE_LINUX", "EC2")
_RESERVED_PREFIXES = ("system:", "eks:", "aws:", "amazon:", "iam:")
CLUSTER_ADMIN_POLICY = catalog.ACCESS_POLICY_PREFIX + "AmazonEKSClusterAdminPolicy"


def _require_api_mode(cluster: Any) -> None:
    mode = (getattr(cluster, "access_config", None) or {}).get("authenticationMode", "CONFIG_MAP")
    if mode == "CONFIG_MAP":
        raise InvalidRequest(
            "The cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP] to perform this operation."
        )


def _principal(arn: str) -> re.Match[str]:
    match = _PRINCIPAL.match(arn or "")
    if not match:
        raise InvalidParameter(f"The specified principalArn is invalid: {arn!r} is not an IAM role or user ARN")
    return match


def _default_username(principal_arn: str, entry_type: str) -> str:
    if entry_type in ("EC2_LINUX", "EC2_WINDOWS", "EC2"):
        return "system:node:{{EC2PrivateDNSName}}"
    if entry_type == "FARGATE_LINUX":
        return "system:node:{{SessionName}}"
    partition, account, kind, name = _principal(principal_arn).groups()
    if kind == "role":
        return f"arn:{partition}:sts::{account}:assumed-role/{name}/{{{{SessionName}}}}"
    return principal_arn


def _check_names(username: str | None, groups: list[str]) -> None:
    if username and username.startswith(_RESERVED_PREFIXES):
        raise InvalidParameter(f"The username {username} is invalid, it cannot start with {username.split(':')[0]}:")
    for group in groups:
        if group.startswith("system:"):
            raise InvalidParameter(f"The kubernetes group name {group} is invalid, it cannot start with system:")


def _new_entry(
    call: EksCall,
    cluster: Any,
    principal_arn: str,
    entry_type: str,
    username: str | None,
    groups: list[str],
    tags: dict[str, str] | None = None,
    token: str | None = None,
) -> AccessEntry:
    _partition, account, kind, name = _principal(principal_arn).groups()
    entry = AccessEntry(
        cluster_name=cluster.name,
        principal_arn=principal_arn,
        access_entry_arn=(
            f"arn:aws:eks:{call.region}:{call.account_id}:access-entry/{cluster.name}/{kind}/{account}/{name}/"
            f"{uuid.uuid4().hex[:32]}"
        ),
        username=username or _default_username(principal_arn, entry_type),
        type=entry_type,
        kubernetes_groups=list(groups),
        tags=dict(tags or {}),
        client_request_token=token,
    )
    extras(cluster).access_entries[principal_arn] = entry
    return entry


def _find_entry(cluster: Any, principal_arn: str) -> AccessEntry:
    entry = extras(cluster).access_entries.get(principal_arn)
    if entry is None:
        raise ResourceNotFound(
            "The specified principalArn could not be found. You can view your available access entries with "
            "'list-access-entries'.",
            clusterName=cluster.name,
        )
    return entry


def _render_entry(operation: str, entry: AccessEntry) -> Response:
    return render.ok(operation, {"accessEntry": entry})


def bootstrap_creator(call: EksCall, cluster: Any) -> None:
    """The creator's admin entry EKS adds when bootstrapClusterCreatorAdminPermissions is on."""
    from moto.sts.models import sts_backends

    _user_id, arn, _account = sts_backends[call.account_id]["global"].get_caller_identity(call.access_key, call.region)
    # EKS records the IAM principal, not the STS session: assumed-role/R/S becomes role/R.
    assumed = re.match(r"^arn:([^:]+):sts::(\d{12}):assumed-role/([^/]+)/", arn)
    if assumed:
        arn = f"arn:{assumed.group(1)}:iam::{assumed.group(2)}:role/{assumed.group(3)}"
    else:
        arn = re.sub(r"^arn:([^:]+):sts::", r"arn:\1:iam::", arn)
    if not _PRINCIPAL.match(arn) or arn in extras(cluster).access_entries:
        return
    entry = _new_entry(call, cluster, arn, "STANDARD", None, [])
    entry.policies[CLUSTER_ADMIN_POLICY] = AssociatedAccessPolicy(CLUSTER_ADMIN_POLICY, {"type": "cluster"})


def ensure_node_entry(call: EksCall, cluster: Any, role_arn: str) -> None:
    """The EC2_LINUX entry EKS adds for a managed node group's role when the API mode is on."""
    if role_arn not in extras(cluster).access_entries and _PRINCIPAL.match(role_arn):
        _new_entry(call, cluster, role_arn, "EC2_LINUX", None, [])


def create_access_entry(call: EksCall) -> Response:
    """CreateAccessEntry."""
    cluster = find_cluster(call.backend, call.get("clusterName", ""))
    _require_api_mode(cluster)
    principal_arn = call.get("principalArn", "")
    existing = extras(cluster).access_entries.get(principal_arn)
    token = call.get("clientRequestToken")
    if existing is not None and token and existing.client_request_token == token:
        return _render_entry(call.operation, existing)
    if existing is not None:
        raise ResourceInUse("The specified access entry resource is already in use on this cluster.", clusterName=cluster.name)
    _principal(principal_arn)
    entry_type = call.get("type", "STANDARD")
    if entry_type not in _TYPES:
        raise InvalidParameter(f"The access entry type {entry_type} is not supported")
    groups, username = list(call.get("kubernetesGroups", [])), call.get("username")
    if entry_type in _NODE_TYPES:
        if groups or username:
            raise InvalidParameter(f"kubernetesGroups and username cannot be specified for access entries of type {entry_type}")
        if ":role/" not in principal_arn:
            raise InvalidParameter(f"The principalArn of a {entry_type} access entry must be an IAM role")
    _check_names(username, groups)
    entry = _new_entry(call, cluster, principal_arn, entry_type, username, groups, call.get("tags"), token)
    return _render_entry(call.operation, entry)


def describe_access_entry(call: EksCall) -> Response:
    """DescribeAccessEntry."""
    cluster = find_cluster(call.backend, call.get("clusterName", ""))
    _require_api_mode(cluster)
    return _render_entry(call.operation, _find_entry(cluster, call.get("principalArn", "")))


def list_access_entries(call: EksCall) -> Response:
    """ListAccessEntries, optionally only those with a given access policy."""
    cluster = find_cluster(call.backend, call.get("clusterName", ""))
    _require_api_mode(cluster)
    policy = call.get("associatedPolicyArn")
    arns = sorted(arn for arn, entry in extras(cluster).access_entries.items() if policy is None or policy in entry.policies)
    listed, token = page(arns, call.get("maxResults"), call.get("nextToken"))
    return render.ok(call.operation, {"accessEntries": listed, "nextToken": token})


def update_access_entry(call: EksCall) -> Response:
    """UpdateAccessEntry: username and Kubernetes groups of a STANDARD entry."""
    cluster = find_cluster(call.backend, call.get("clusterName", ""))
    _require_api_mode(cluster)
    entry = _find_entry(cluster, call.get("principalArn", ""))
    groups, username = call.get("kubernetesGroups"), call.get("username")
    if entry.type in _NODE_TYPES and (groups is not None or username is not None):
        raise InvalidParameter(f"kubernetesGroups and username cannot be updated for {entry.type} access entries")
    _check_names(username, list(groups or []))
    if groups is not None:
        entry.kubernetes_groups = list(groups)
    if username is not None:
        entry.username = username
    entry.modified_at = utcnow()
    return _render_entry(call.operation, entry)


def delete_access_entry(call: EksCall) -> Response:
    """DeleteAccessEntry (its policy associations go with it)."""
    cluster = find_cluster(call.backend, call.get("clusterName", ""))
    _require_api_mode(cluster)
    entry = _find_entry(cluster, call.get("principalArn", ""))
    del extras(cluster).access_entries[entry.principal_arn]
    return render.ok(call.operation, {})


def associate_access_policy(call: EksCall) -> Response:
    """AssociateAccessPolicy: adds the policy, or changes the scope of one already associated."""
    cluster = find_cluster(call.backend, call.get("clusterName", ""))
    _require_api_mode(cluster)
    entry = _find_entry(cluster, call.get("principalArn", ""))
    policy_arn = call.get("policyArn", "")
    if policy_arn not in catalog.access_policy_arns():
        raise InvalidParameter(f"The specified policyArn is invalid: {policy_arn}")
    if entry.type != "STANDARD":
        raise InvalidParameter("Access policies can only be associated with access entries of type STANDARD")
    scope = dict(call.get("accessScope") or {})
    namespaces = list(scope.get("namespaces") or [])
    if scope.get("type") == "cluster" and namespaces:
        raise InvalidParameter("Namespaces cannot be specified for an access scope of type cluster")
    if scope.get("type") == "namespace" and not namespaces:
        raise InvalidParameter("At least one namespace must be specified for an access scope of type namespace")
    if scope.get("type") not in ("cluster", "namespace"):
        raise InvalidParameter("accessScope.type must be cluster or namespace")
    scope = {"type": scope["type"], "namespaces": namespaces} if namespaces else {"type": scope["type"]}
    associated = entry.policies.get(policy_arn)
    if associated is None:
        associated = entry.policies[policy_arn] = AssociatedAccessPolicy(policy_arn, scope)
    else:
        associated.access_scope, associated.modified_at = scope, utcnow()
    return render.ok(
        call.operation,
        {"clusterName": cluster.name, "principalArn": entry.principal_arn, "associatedAccessPolicy": associated},
    )


def disassociate_access_policy(call: EksCall) -> Response:
    """DisassociateAccessPolicy."""
    cluster = find_cluster(call.backend, call.get("clusterName", ""))
    _require_api_mode(cluster)
    entry = _find_entry(cluster, call.get("principalArn", ""))
    if entry.policies.pop(call.get("policyArn", ""), None) is None:
        raise ResourceNotFound(
            f"The policy {call.get('policyArn')} is not associated with principal {entry.principal_arn}",
            clusterName=cluster.name,
        )
    return render.ok(call.operation, {})


def list_associated_access_policies(call: EksCall) -> Response:
    """ListAssociatedAccessPolicies."""
    cluster = find_cluster(call.backend, call.get("clusterName", ""))
    _require_api_mode(cluster)
    entry = _find_entry(cluster, call.get("principalArn", ""))
    policies = [entry.policies[arn] for arn in sorted(entry.policies)]
    listed, token = page(policies, call.get("maxResults"), call.get("nextToken"))
    return render.ok(
        call.operation,
        {
            "clusterName": cluster.name,
            "principalArn": entry.principal_arn,
            "associatedAccessPolicies": listed,
            "nextToken": token,
        },
    )


def list_access_policies(call: EksCall) -> Response:
    """ListAccessPolicies: the policies any access entry can be given."""
    policies = [{"name": arn.rsplit("/", 1)[1], "arn": arn} for arn in catalog.access_policy_arns()]
    listed, token = page(policies, call.get("maxResults"), call.get("nextToken"))
    return render.ok(call.operation, {"accessPolicies": listed, "nextToken": token})
