"""EKS add-ons: create, describe, list, update and delete with a lifecycle; the version catalog."""

from __future__ import annotations

import json
import uuid
from typing import Any

from werkzeug.wrappers import Response

from assistant.sandbox.eks import catalog, render
from assistant.sandbox.eks.call import EksCall, page
from assistant.sandbox.eks.errors import InvalidParameter, InvalidRequest, ResourceInUse, ResourceNotFound
from assistant.sandbox.eks.state import (
    ACTIVE,
    CREATING,
    DELETING,
    UPDATING,
    Addon,
    Update,
    extras,
    find_cluster,
    update_by_token,
    utcnow,
)


def _find_addon(cluster: Any, name: str) -> Addon:
    addon = extras(cluster).addons.get(name)
    if addon is None:
        raise ResourceNotFound(f"No addon: {name} found in cluster: {cluster.name}", clusterName=cluster.name, addonName=name)
    return addon


def _check_version(name: str, version: str, kubernetes_version: str) -> None:
    if version not in {v.version for v in catalog.addon_versions(name, kubernetes_version)}:
        raise InvalidParameter(
            f"Addon version specified is not supported, {name} {version} on Kubernetes {kubernetes_version}",
            addonName=name,
        )


def _check_configuration(configuration: str | None) -> None:
    if configuration is None:
        return
    try:
        json.loads(configuration)
    except ValueError:
        import yaml

        try:
            yaml.safe_load(configuration)
        except yaml.YAMLError:
            raise InvalidParameter("ConfigurationValue provided in request is not supported: not JSON or YAML") from None


def create_addon(call: EksCall) -> Response:
    """CreateAddon: CREATING until the profile says ACTIVE; a repeated token returns the same add-on."""
    cluster = find_cluster(call.backend, call.get("clusterName", ""))
    name = call.get("addonName", "")
    existing = extras(cluster).addons.get(name)
    token = call.get("clientRequestToken")
    if existing is not None and token and existing.client_request_token == token:
        return render.ok(call.operation, {"addon": existing})
    if existing is not None:
        raise ResourceInUse("Addon already exists.", clusterName=cluster.name, addonName=name)
    if cluster.status != ACTIVE:
        raise InvalidRequest(f"Cluster '{cluster.name}' is not in ACTIVE status", clusterName=cluster.name)
    if name not in catalog.ADDONS:
        raise InvalidParameter(f"Addon {name} specified is not supported in {cluster.version} kubernetes version", addonName=name)
    version = call.get("addonVersion") or catalog.default_addon_version(name, cluster.version)
    if version is None:
        raise InvalidParameter(f"Addon {name} specified is not supported in {cluster.version} kubernetes version")
    _check_version(name, version, cluster.version)
    _check_configuration(call.get("configurationValues"))
    addon = Addon(
        addon_name=name,
        cluster_name=cluster.name,
        addon_version=version,
        addon_arn=f"arn:aws:eks:{call.region}:{call.account_id}:addon/{cluster.name}/{name}/{uuid.uuid4()}",
        service_account_role_arn=call.get("serviceAccountRoleArn"),
        configuration_values=call.get("configurationValues"),
        resolve_conflicts=call.get("resolveConflicts"),
        tags=dict(call.get("tags") or {}),
        client_request_token=token,
    )
    extras(cluster).addons[name] = addon
    observer = call.lifecycle.observer

    def activate() -> None:
        if extras(cluster).addons.get(name) is addon and addon.status == CREATING:
            addon.status = ACTIVE
            observer.addon_active(cluster, addon)

    call.lifecycle.after("addon", "create", activate)
    call.lifecycle.advance()
    return render.ok(call.operation, {"addon": addon})


def describe_addon(call: EksCall) -> Response:
    """DescribeAddon."""
    cluster = find_cluster(call.backend, call.get("clusterName", ""))
    return render.ok(call.operation, {"addon": _find_addon(cluster, call.get("addonName", ""))})


def list_addons(call: EksCall) -> Response:
    """ListAddons."""
    cluster = find_cluster(call.backend, call.get("clusterName", ""))
    listed, token = page(sorted(extras(cluster).addons), call.get("maxResults"), call.get("nextToken"))
    return render.ok(call.operation, {"addons": listed, "nextToken": token})


def delete_addon(call: EksCall) -> Response:
    """DeleteAddon: DELETING until the profile says gone."""
    cluster = find_cluster(call.backend, call.get("clusterName", ""))
    addon = _find_addon(cluster, call.get("addonName", ""))
    if addon.status != DELETING:
        addon.status = DELETING

        def remove() -> None:
            if extras(cluster).addons.get(addon.addon_name) is addon:
                del extras(cluster).addons[addon.addon_name]

        call.lifecycle.after("addon", "delete", remove)
    return render.ok(call.operation, {"addon": addon})


def update_addon(call: EksCall) -> Response:
    """UpdateAddon: version, role or configuration; UPDATING until the profile says ACTIVE."""
    cluster = find_cluster(call.backend, call.get("clusterName", ""))
    addon = _find_addon(cluster, call.get("addonName", ""))
    repeat = update_by_token(cluster, call.get("clientRequestToken"))
    if repeat is not None:
        return render.ok(call.operation, {"update": repeat})
    if addon.status != ACTIVE:
        raise ResourceInUse(
            f"Addon {addon.addon_name} is currently in {addon.status} state",
            clusterName=cluster.name,
            addonName=addon.addon_name,
        )
    changes: dict[str, Any] = {}
    params: list[dict[str, str]] = []
    version = call.get("addonVersion")
    if version and version != addon.addon_version:
        _check_version(addon.addon_name, version, cluster.version)
        changes["addon_version"] = version
        params.append({"type": "AddonVersion", "value": version})
    role = call.get("serviceAccountRoleArn")
    if role is not None and role != addon.service_account_role_arn:
        changes["service_account_role_arn"] = role or None
        params.append({"type": "ServiceAccountRoleArn", "value": role})
    configuration = call.get("configurationValues")
    if configuration is not None and configuration != addon.configuration_values:
        _check_configuration(configuration)
        changes["configuration_values"] = configuration or None
        params.append({"type": "ConfigurationValues", "value": configuration})
    if call.get("resolveConflicts"):
        params.append({"type": "ResolveConflicts", "value": call.get("resolveConflicts")})
    update = Update(
        type="AddonUpdate",
        params=params,
        addon_name=addon.addon_name,
        client_request_token=call.get("clientRequestToken"),
    )
    extras(cluster).updates[update.id] = update
    addon.status = UPDATING
    observer = call.lifecycle.observer

    def finish() -> None:
        if extras(cluster).addons.get(addon.addon_name) is addon and addon.status == UPDATING:
            for attr, value in changes.items():
                setattr(addon, attr, value)
            addon.status, addon.modified_at = ACTIVE, utcnow()
            update.status = "Successful"
            observer.addon_active(cluster, addon)

    call.lifecycle.after("addon", "update", finish)
    call.lifecycle.advance()
    return render.ok(call.operation, {"update": update})


def describe_addon_versions(call: EksCall) -> Response:
    """DescribeAddonVersions, filtered by add-on name and Kubernetes version."""
    name, kubernetes_version = call.get("addonName"), call.get("kubernetesVersion")
    names = [n for n in catalog.ADDONS if name in (None, n)]
    infos = [catalog.addon_info(n, kubernetes_version) for n in names]
    infos = [info for info in infos if info["addonVersions"]]
    listed, token = page(infos, call.get("maxResults"), call.get("nextToken"))
    return render.ok(call.operation, {"addons": listed, "nextToken": token})
