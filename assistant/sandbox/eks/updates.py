"""DescribeUpdate and ListUpdates over the updates the sandbox has started."""

from __future__ import annotations

from werkzeug.wrappers import Response

from assistant.sandbox.eks import render
from assistant.sandbox.eks.call import EksCall, page
from assistant.sandbox.eks.errors import ResourceNotFound
from assistant.sandbox.eks.state import extras, find_cluster, find_nodegroup


def describe_update(call: EksCall) -> Response:
    """DescribeUpdate for a cluster, node group or add-on update."""
    cluster = find_cluster(call.backend, call.get("name", ""))
    nodegroup, addon = call.get("nodegroupName"), call.get("addonName")
    if nodegroup:
        find_nodegroup(call.backend, cluster.name, nodegroup)
    update = extras(cluster).updates.get(call.get("updateId", ""))
    if update is None or update.nodegroup_name != nodegroup or update.addon_name != addon:
        raise ResourceNotFound(f"No update found for ID: {call.get('updateId')}", clusterName=cluster.name)
    return render.ok(call.operation, {"update": update})


def list_updates(call: EksCall) -> Response:
    """ListUpdates: a cluster's own updates, or those of one node group or add-on."""
    cluster = find_cluster(call.backend, call.get("name", ""))
    nodegroup, addon = call.get("nodegroupName"), call.get("addonName")
    if nodegroup:
        find_nodegroup(call.backend, cluster.name, nodegroup)
    ids = [u.id for u in extras(cluster).updates.values() if u.nodegroup_name == nodegroup and u.addon_name == addon]
    listed, token = page(ids, call.get("maxResults"), call.get("nextToken"))
    return render.ok(call.operation, {"updateIds": listed, "nextToken": token})
