"""Managed node group operations with a lifecycle: create, delete and config updates.

A node group whose instance types all lack capacity (``catalog.NO_CAPACITY_INSTANCE_TYPES``)
goes CREATING → CREATE_FAILED instead of ACTIVE, with EKS's ``AsgInstanceLaunchFailures``
health issue; it can then only be deleted.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from werkzeug.wrappers import Response

from assistant.sandbox.eks import access, aws_resources, catalog, render
from assistant.sandbox.eks.call import EksCall
from assistant.sandbox.eks.errors import InvalidParameter, ResourceInUse
from assistant.sandbox.eks.state import (
    ACTIVE,
    CREATE_FAILED,
    CREATING,
    DELETING,
    UPDATING,
    Update,
    extras,
    find_cluster,
    find_nodegroup,
    update_by_token,
)


def _check_scaling(scaling: dict[str, Any]) -> None:
    low, desired, high = scaling.get("minSize", 0), scaling.get("desiredSize", 0), scaling.get("maxSize", 1)
    if high < 1:
        raise InvalidParameter("Maximum capacity should be at least 1")
    if low > high:
        raise InvalidParameter(f"Minimum capacity {low} can't be greater than max size {high}")
    if not low <= desired <= high:
        raise InvalidParameter(f"Desired capacity:{desired} can't be greater than max size:{high} or lower than min size:{low}")


def _check_instance_types(instance_types: list[str]) -> None:
    from moto.ec2.models.instance_types import INSTANCE_TYPES

    for instance_type in instance_types:
        if instance_type not in INSTANCE_TYPES:
            raise InvalidParameter(f"Instance type {instance_type} is not supported")


def create_nodegroup(call: EksCall) -> Response:
    """CreateNodegroup: validated, stored by moto, then CREATING until ACTIVE (and nodes appear)."""
    cluster = find_cluster(call.backend, call.get("clusterName", ""))
    name = call.get("nodegroupName", "")
    existing = cluster.nodegroups.get(name)
    token = call.get("clientRequestToken")
    if existing is not None and token and existing.client_request_token == token:
        return render.ok("CreateNodegroup", {"nodegroup": existing})
    if existing is None:
        scaling = {"minSize": 1, "maxSize": 2, "desiredSize": 2, **(call.get("scalingConfig") or {})}
        _check_scaling(scaling)
        _check_instance_types(list(call.get("instanceTypes") or []))
        aws_resources.require_role(call.account_id, call.get("nodeRole", ""))
        aws_resources.require_subnets(call.account_id, call.region, list(call.get("subnets") or []), 1)
    response = call.forward()  # moto refuses a taken name or a cluster that is not ACTIVE
    if response.status_code != 200:
        return response
    nodegroup = cluster.nodegroups[name]
    nodegroup.status = CREATING
    # moto shares module-level default dicts between node groups; later updates must stay local.
    for attr in ("scaling_config", "health", "remote_access", "labels", "taints", "resources"):
        setattr(nodegroup, attr, copy.deepcopy(getattr(nodegroup, attr)))
    if not call.get("version"):
        nodegroup.version = cluster.version
    if not call.get("releaseVersion"):
        nodegroup.release_version = f"{nodegroup.version}.0-20250715"
    if not call.get("amiType"):
        nodegroup.ami_type = "AL2023_x86_64_STANDARD"
    if not call.get("diskSize") and not call.get("launchTemplate"):
        nodegroup.disk_size = 20
    mode = (getattr(cluster, "access_config", None) or {}).get("authenticationMode", "CONFIG_MAP")
    if mode != "CONFIG_MAP":
        access.ensure_node_entry(call, cluster, nodegroup.node_role)
    observer = call.lifecycle.observer
    subnets = list(nodegroup.subnets or [])
    zone = aws_resources.subnet_zone(call.account_id, call.region, subnets[0]) if subnets else "?"
    asg = nodegroup.resources["autoScalingGroups"][0]["name"]
    failure = catalog.launch_failure(list(nodegroup.instance_types or []), nodegroup.capacity_type, zone, asg)

    def activate() -> None:
        if cluster.nodegroups.get(name) is nodegroup and nodegroup.status == CREATING:
            if failure is not None:
                # As on EKS: no node ever joins, and the group stays until someone deletes it.
                nodegroup.status = CREATE_FAILED
                nodegroup.health = {"issues": [failure]}
                return
            nodegroup.status = ACTIVE
            observer.nodegroup_active(cluster, nodegroup)

    call.lifecycle.after("nodegroup", "create", activate)
    call.lifecycle.advance()
    return render.ok("CreateNodegroup", {"nodegroup": nodegroup})


def list_nodegroups(call: EksCall) -> Response:
    """ListNodegroups: EKS's not-found error for a missing cluster (moto answers a 500); moto lists the rest."""
    find_cluster(call.backend, call.get("clusterName", ""))
    return call.forward()


def delete_nodegroup(call: EksCall) -> Response:
    """DeleteNodegroup: DELETING until the profile says gone; then its nodes leave the cluster."""
    cluster = find_cluster(call.backend, call.get("clusterName", ""))
    nodegroup = find_nodegroup(call.backend, cluster.name, call.get("nodegroupName", ""))
    if nodegroup.status == DELETING:
        return render.ok("DeleteNodegroup", {"nodegroup": nodegroup})
    nodegroup.status = DELETING
    observer = call.lifecycle.observer

    def remove() -> None:
        if cluster.nodegroups.get(nodegroup.nodegroup_name) is nodegroup:
            del cluster.nodegroups[nodegroup.nodegroup_name]
            cluster.nodegroup_count -= 1
            observer.nodegroup_deleted(cluster, nodegroup)

    call.lifecycle.after("nodegroup", "delete", remove)
    return render.ok("DeleteNodegroup", {"nodegroup": nodegroup})


def _update_params(call: EksCall) -> list[dict[str, str]]:
    params: list[dict[str, str]] = []
    names = {"desiredSize": "DesiredSize", "minSize": "MinSize", "maxSize": "MaxSize"}
    for key, value in (call.get("scalingConfig") or {}).items():
        params.append({"type": names.get(key, key), "value": str(value)})
    labels = call.get("labels") or {}
    if labels.get("addOrUpdateLabels"):
        params.append({"type": "LabelsToAdd", "value": json.dumps(labels["addOrUpdateLabels"])})
    if labels.get("removeLabels"):
        params.append({"type": "LabelsToRemove", "value": json.dumps(labels["removeLabels"])})
    taints = call.get("taints") or {}
    if taints.get("addOrUpdateTaints"):
        params.append({"type": "TaintsToAdd", "value": json.dumps(taints["addOrUpdateTaints"])})
    if taints.get("removeTaints"):
        params.append({"type": "TaintsToRemove", "value": json.dumps(taints["removeTaints"])})
    for key, value in (call.get("updateConfig") or {}).items():
        params.append({"type": key[0].upper() + key[1:], "value": str(value)})
    return params


def update_nodegroup_config(call: EksCall) -> Response:
    """UpdateNodegroupConfig: moto applies it; the node group is UPDATING for the profile's time."""
    cluster = find_cluster(call.backend, call.get("clusterName", ""))
    nodegroup = find_nodegroup(call.backend, cluster.name, call.get("nodegroupName", ""))
    repeat = update_by_token(cluster, call.get("clientRequestToken"))
    if repeat is not None:
        return render.ok(call.operation, {"update": repeat})
    if nodegroup.status != ACTIVE:
        raise ResourceInUse(
            f"Nodegroup {nodegroup.nodegroup_name} is currently in {nodegroup.status} state",
            clusterName=cluster.name,
            nodegroupName=nodegroup.nodegroup_name,
        )
    params = _update_params(call)
    if not params:
        raise InvalidParameter("No changes needed for the nodegroup config provided")
    if call.get("scalingConfig"):
        _check_scaling({**nodegroup.scaling_config, **call.get("scalingConfig")})
    response = call.forward()
    if response.status_code != 200:
        return response
    update = Update(
        type="ConfigUpdate",
        params=params,
        nodegroup_name=nodegroup.nodegroup_name,
        client_request_token=call.get("clientRequestToken"),
    )
    extras(cluster).updates[update.id] = update
    nodegroup.status = UPDATING
    observer = call.lifecycle.observer

    def finish() -> None:
        if cluster.nodegroups.get(nodegroup.nodegroup_name) is nodegroup and nodegroup.status == UPDATING:
            nodegroup.status = ACTIVE
            update.status = "Successful"
            observer.nodegroup_active(cluster, nodegroup)

    call.lifecycle.after("nodegroup", "update", finish)
    call.lifecycle.advance()
    return render.ok(call.operation, {"update": update})
