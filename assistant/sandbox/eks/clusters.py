"""Cluster operations: create and delete with a lifecycle, config and version updates, versions."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from typing import Any

from werkzeug.wrappers import Response

from assistant.sandbox.eks import access, aws_resources, catalog, render
from assistant.sandbox.eks.call import EksCall, page
from assistant.sandbox.eks.errors import InvalidParameter, InvalidRequest, ResourceInUse
from assistant.sandbox.eks.state import (
    ACTIVE,
    CREATING,
    DELETING,
    UPDATING,
    Update,
    extras,
    find_cluster,
    update_by_token,
)

AUTH_MODES = ("CONFIG_MAP", "API_AND_CONFIG_MAP", "API")
_NAME = re.compile(r"^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$")
_ENDPOINT_KEYS = {"endpointPublicAccess", "endpointPrivateAccess", "publicAccessCidrs"}
_UPDATABLE = ("logging", "resourcesVpcConfig", "accessConfig")
# The control plane log types, in the order EKS lists them.
LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")


def enabled_log_types(logging: dict[str, Any] | None) -> set[str]:
    """The log types a stored ``Logging`` has on."""
    return {t for entry in (logging or {}).get("clusterLogging") or [] if entry.get("enabled") for t in entry.get("types") or []}


def logging_config(enabled: set[str]) -> dict[str, Any]:
    """``Logging`` as EKS reports it: all five types, split across an enabled and a disabled entry."""
    on = [t for t in LOG_TYPES if t in enabled]
    off = [t for t in LOG_TYPES if t not in enabled]
    entries = [{"types": types, "enabled": flag} for types, flag in ((on, True), (off, False)) if types]
    return {"clusterLogging": entries}


def _set_log_types(enabled: set[str], requested: Any) -> set[str]:
    """``enabled`` with each requested entry applied: the named types on or off, the others as they were."""
    setups = requested.get("clusterLogging") if isinstance(requested, dict) else None
    if not isinstance(setups, list):
        raise InvalidParameter("logging must have a clusterLogging list")
    result, seen = set(enabled), set()
    for setup in setups:
        types = setup.get("types") if isinstance(setup, dict) else None
        if not isinstance(types, list):
            raise InvalidParameter("each clusterLogging entry needs a list of types")
        for log_type in types:
            if log_type not in LOG_TYPES:
                raise InvalidParameter(f"Unknown log type {log_type!r}; valid types are {', '.join(LOG_TYPES)}")
            if log_type in seen:
                raise InvalidParameter(f"Log type {log_type!r} appears more than once in the logging config")
            seen.add(log_type)
        if setup.get("enabled"):
            result |= set(types)
        else:
            result -= set(types)
    return result


def _access_config(requested: dict[str, Any] | None) -> dict[str, Any]:
    requested = requested or {}
    mode = requested.get("authenticationMode", "CONFIG_MAP")
    if mode not in AUTH_MODES:
        raise InvalidParameter(f"Unsupported authentication mode {mode!r}; use one of {', '.join(AUTH_MODES)}")
    bootstrap = requested.get("bootstrapClusterCreatorAdminPermissions", True)
    if mode == "CONFIG_MAP" and bootstrap is False:
        raise InvalidParameter(
            "bootstrapClusterCreatorAdminPermissions must be true if cluster authentication mode is set to CONFIG_MAP"
        )
    return {"bootstrapClusterCreatorAdminPermissions": bool(bootstrap), "authenticationMode": mode}


def _network_config(requested: dict[str, Any] | None) -> dict[str, Any]:
    config = {"ipFamily": "ipv4", "serviceIpv4Cidr": "172.20.0.0/16", "elasticLoadBalancing": {"enabled": False}}
    config.update(copy.deepcopy(requested or {}))
    if config["ipFamily"] not in ("ipv4", "ipv6"):
        raise InvalidParameter(f"Unsupported ipFamily {config['ipFamily']!r}")
    return config


def _validate_new_cluster(call: EksCall) -> tuple[dict[str, Any], dict[str, Any], str | None]:
    name = call.get("name", "")
    if not _NAME.match(name):
        raise InvalidParameter(
            f"Cluster name {name!r} is invalid: use 1-100 letters, digits, '-' or '_', starting with a letter or digit",
        )
    version = call.get("version") or catalog.default_version(call.today())
    if not catalog.available_on(version, call.today()):
        # EKS's words; it also refuses versions past their end of extended support.
        raise InvalidParameter(f"unsupported Kubernetes version {version}", clusterName=name)
    access_config = _access_config(call.get("accessConfig"))
    network = _network_config(call.get("kubernetesNetworkConfig"))
    if call.get("logging") is not None:
        _set_log_types(set(), call.get("logging"))
    aws_resources.require_role(call.account_id, call.get("roleArn", ""))
    vpc = call.get("resourcesVpcConfig", {})
    vpc_id = aws_resources.require_subnets(call.account_id, call.region, list(vpc.get("subnetIds") or []), 2)
    return access_config, network, vpc_id


def create_cluster(call: EksCall) -> Response:
    """CreateCluster: validated, stored by moto, then CREATING until the profile says ACTIVE."""
    name = call.get("name", "")
    existing = call.backend.clusters.get(name)
    token = call.get("clientRequestToken")
    if existing is not None and token and existing.client_request_token == token:
        return render.ok("CreateCluster", {"cluster": existing})
    if existing is not None:
        return call.forward()  # moto's ResourceInUseException, word for word
    access_config, network, vpc_id = _validate_new_cluster(call)
    response = call.forward()
    if response.status_code != 200:
        return response
    cluster = call.backend.clusters[name]
    cluster.status = CREATING
    cluster.endpoint = None
    cluster.certificate_authority = {}
    cluster.version = call.get("version") or catalog.default_version(call.today())
    cluster.platformVersion = "eks.10"
    cluster.access_config = access_config
    cluster.kubernetes_network_config = network
    # What was asked for, in the shape EKS reports (also a private copy: moto's default is shared).
    cluster.logging = logging_config(_set_log_types(set(), call.get("logging") or {"clusterLogging": []}))
    vpc_config = {"endpointPublicAccess": True, "endpointPrivateAccess": False, "publicAccessCidrs": ["0.0.0.0/0"]}
    vpc_config.update(copy.deepcopy(cluster.resources_vpc_config or {}))
    vpc_config.setdefault("securityGroupIds", [])
    if vpc_id:
        vpc_config["vpcId"] = vpc_id
        vpc_config["clusterSecurityGroupId"] = aws_resources.create_cluster_security_group(
            call.account_id, call.region, vpc_id, name
        )
    cluster.resources_vpc_config = vpc_config
    if access_config["authenticationMode"] != "CONFIG_MAP" and access_config["bootstrapClusterCreatorAdminPermissions"]:
        access.bootstrap_creator(call, cluster)
    observer = call.lifecycle.observer

    def activate() -> None:
        if call.backend.clusters.get(name) is cluster and cluster.status == CREATING:
            cluster.status = ACTIVE
            observer.cluster_active(cluster)

    call.lifecycle.after("cluster", "create", activate)
    call.lifecycle.advance()  # with a zero delay the cluster is ACTIVE in this very response
    return render.ok("CreateCluster", {"cluster": cluster})


def delete_cluster(call: EksCall) -> Response:
    """DeleteCluster: refused while node groups remain; DELETING until the profile says gone."""
    cluster = find_cluster(call.backend, call.get("name", ""))
    if cluster.nodegroups:
        raise ResourceInUse(
            "Cluster has nodegroups attached",
            clusterName=cluster.name,
            nodegroupName=",".join(cluster.nodegroups),
        )
    if cluster.status == DELETING:
        return render.ok("DeleteCluster", {"cluster": cluster})
    cluster.status = DELETING
    for addon in extras(cluster).addons.values():
        addon.status = DELETING
    backend, observer = call.backend, call.lifecycle.observer

    def remove() -> None:
        if backend.clusters.get(cluster.name) is cluster:
            del backend.clusters[cluster.name]
            backend.cluster_count -= 1
            group_id = (cluster.resources_vpc_config or {}).get("clusterSecurityGroupId")
            if group_id:
                aws_resources.delete_security_group(call.account_id, call.region, group_id)
            observer.cluster_deleted(cluster)

    call.lifecycle.after("cluster", "delete", remove)
    return render.ok("DeleteCluster", {"cluster": cluster})


def _require_updatable(cluster: Any) -> None:
    if cluster.status == UPDATING:
        raise ResourceInUse(f"Update already in progress for cluster {cluster.name}", clusterName=cluster.name)
    if cluster.status != ACTIVE:
        raise InvalidRequest(f"Cluster '{cluster.name}' is not in ACTIVE status", clusterName=cluster.name)


def _start_update(call: EksCall, cluster: Any, update: Update, kind: str, apply: Callable[[], None]) -> Response:
    extras(cluster).updates[update.id] = update
    cluster.status = UPDATING

    def finish() -> None:
        if call.backend.clusters.get(cluster.name) is cluster and cluster.status == UPDATING:
            apply()
            cluster.status = ACTIVE
            update.status = "Successful"

    # A version update has its own duration (kind "update"); config updates are cluster updates.
    call.lifecycle.after(kind, "update", finish)
    call.lifecycle.advance()
    return render.ok(call.operation, {"update": update})


def _config_update(cluster: Any, field: str, value: Any) -> tuple[str, list[dict[str, str]], Callable[[], None]]:
    """``(update type, params, apply)`` for one UpdateClusterConfig section."""
    if field == "logging":
        # Only the named types change: EKS merges the request into what the cluster has.
        wanted = _set_log_types(enabled_log_types(cluster.logging), value)
        if wanted == enabled_log_types(cluster.logging):
            raise InvalidParameter("No changes needed for the logging config provided")

        def apply_logging() -> None:
            cluster.logging = logging_config(wanted)

        return "LoggingUpdate", [{"type": "ClusterLogging", "value": json.dumps(value)}], apply_logging
    if field == "resourcesVpcConfig":
        current = cluster.resources_vpc_config or {}
        changed = {k: v for k, v in value.items() if current.get(k) != v}
        if not changed:
            raise InvalidParameter(
                "Cluster is already at the desired configuration with endpointPrivateAccess, "
                "endpointPublicAccess and publicAccessCidrs"
            )
        names = {
            "endpointPublicAccess": "EndpointPublicAccess",
            "endpointPrivateAccess": "EndpointPrivateAccess",
            "publicAccessCidrs": "PublicAccessCidrs",
            "subnetIds": "Subnets",
            "securityGroupIds": "SecurityGroups",
        }
        params = [{"type": names.get(k, k), "value": json.dumps(v) if not isinstance(v, str) else v} for k, v in changed.items()]
        update_type = "EndpointAccessUpdate" if set(changed) <= _ENDPOINT_KEYS else "VpcConfigUpdate"

        def apply_vpc() -> None:
            cluster.resources_vpc_config = {**current, **copy.deepcopy(value)}

        return update_type, params, apply_vpc
    # accessConfig: authentication modes only move forward, one step at a time.
    current_mode = (getattr(cluster, "access_config", None) or {}).get("authenticationMode", "CONFIG_MAP")
    wanted_mode = (value or {}).get("authenticationMode")
    if wanted_mode not in AUTH_MODES or AUTH_MODES.index(wanted_mode) != AUTH_MODES.index(current_mode) + 1:
        raise InvalidParameter(f"Unsupported authentication mode update from {current_mode} to {wanted_mode}")

    def apply_mode() -> None:
        cluster.access_config = {**(getattr(cluster, "access_config", None) or {}), "authenticationMode": wanted_mode}

    return "AccessConfigUpdate", [{"type": "AuthenticationMode", "value": wanted_mode}], apply_mode


def update_cluster_config(call: EksCall) -> Response:
    """UpdateClusterConfig: logging, endpoint/VPC access, or the authentication mode; one per call."""
    cluster = find_cluster(call.backend, call.get("name", ""))
    given = [f for f in call.params if f not in ("name", "clientRequestToken") and call.params[f] is not None]
    unsupported = [f for f in given if f not in _UPDATABLE]
    if unsupported:
        raise InvalidParameter(f"The eks-assist sandbox cannot update {', '.join(unsupported)}")
    if len(given) != 1:
        raise InvalidParameter("Only one type of update can be allowed." if given else "No changes were requested.")
    repeat = update_by_token(cluster, call.get("clientRequestToken"))
    if repeat is not None:
        return render.ok(call.operation, {"update": repeat})
    update_type, params, apply = _config_update(cluster, given[0], call.params[given[0]])
    _require_updatable(cluster)
    update = Update(type=update_type, params=params, client_request_token=call.get("clientRequestToken"))
    return _start_update(call, cluster, update, "cluster", apply)


def update_cluster_version(call: EksCall) -> Response:
    """UpdateClusterVersion: one minor version up, UPDATING for the profile's version-update time."""
    cluster = find_cluster(call.backend, call.get("name", ""))
    repeat = update_by_token(cluster, call.get("clientRequestToken"))
    if repeat is not None:
        return render.ok(call.operation, {"update": repeat})
    wanted = str(call.get("version", ""))
    if wanted != catalog.next_minor(cluster.version):
        raise InvalidParameter(
            f"Unsupported Kubernetes minor version update from {cluster.version} to {wanted}",
            clusterName=cluster.name,
        )
    if not catalog.available_on(wanted, call.today()):
        raise InvalidParameter(f"unsupported Kubernetes version {wanted}", clusterName=cluster.name)
    _require_updatable(cluster)
    update = Update(
        type="VersionUpdate",
        params=[{"type": "Version", "value": wanted}, {"type": "PlatformVersion", "value": "eks.1"}],
        client_request_token=call.get("clientRequestToken"),
    )
    observer = call.lifecycle.observer

    def apply() -> None:
        cluster.version = wanted
        cluster.platformVersion = "eks.1"
        observer.cluster_version_changed(cluster)

    return _start_update(call, cluster, update, "update", apply)


def describe_cluster_versions(call: EksCall) -> Response:
    """DescribeClusterVersions over the catalogue, newest first, with statuses as of the sandbox's today.

    Without ``includeAll`` only the versions clusters can be created on are listed (standard and
    extended support), as EKS lists them; ``includeAll`` adds the unsupported ones. Versions
    not yet released are never listed. The other parameters filter that list.
    """
    today = call.today()
    default = catalog.default_version(today)
    listed = [v for v in reversed(catalog.VERSIONS) if v.status_on(today) is not None]
    if not call.get("includeAll"):
        listed = [v for v in listed if v.status_on(today) in catalog.AVAILABLE]
    versions = [v.to_api(today, v.version == default) for v in listed]
    cluster_type = call.get("clusterType")
    if cluster_type:
        versions = [v for v in versions if v["clusterType"] == cluster_type]
    wanted = call.get("clusterVersions")
    if wanted:
        versions = [v for v in versions if v["clusterVersion"] in wanted]
    if call.get("defaultOnly"):
        versions = [v for v in versions if v["defaultVersion"]]
    status = call.get("versionStatus")
    if status:
        versions = [v for v in versions if v["versionStatus"] == status]
    legacy_status = call.get("status")
    if legacy_status:
        versions = [v for v in versions if v["status"] == legacy_status]
    page_items, token = page(versions, call.get("maxResults"), call.get("nextToken"))
    return render.ok(call.operation, {"clusterVersions": page_items, "nextToken": token})
