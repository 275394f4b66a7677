"""The EKS front: settles due state changes, serves our operations, forwards the rest to moto."""

from __future__ import annotations

import datetime as dt
import io
import threading
from collections.abc import Callable
from typing import Any

from werkzeug.wrappers import Response

from assistant import clock
from assistant.sandbox.caller import caller
from assistant.sandbox.eks import access, addons, clusters, limits, nodegroups, render, tags, updates
from assistant.sandbox.eks.call import EksCall
from assistant.sandbox.eks.errors import EksError
from assistant.sandbox.eks.lifecycle import Lifecycle
from assistant.sandbox.eks.request import match_operation, parse_params

Handler = Callable[[EksCall], Response]

HANDLERS: dict[str, Handler] = {
    "CreateCluster": clusters.create_cluster,
    "DeleteCluster": clusters.delete_cluster,
    "UpdateClusterConfig": clusters.update_cluster_config,
    "UpdateClusterVersion": clusters.update_cluster_version,
    "DescribeClusterVersions": clusters.describe_cluster_versions,
    "CreateNodegroup": nodegroups.create_nodegroup,
    "DeleteNodegroup": nodegroups.delete_nodegroup,
    "ListNodegroups": nodegroups.list_nodegroups,
    "UpdateNodegroupConfig": nodegroups.update_nodegroup_config,
    "DescribeUpdate": updates.describe_update,
    "ListUpdates": updates.list_updates,
    "CreateAddon": addons.create_addon,
    "DescribeAddon": addons.describe_addon,
    "ListAddons": addons.list_addons,
    "DeleteAddon": addons.delete_addon,
    "UpdateAddon": addons.update_addon,
    "DescribeAddonVersions": addons.describe_addon_versions,
    "CreateAccessEntry": access.create_access_entry,
    "DescribeAccessEntry": access.describe_access_entry,
    "ListAccessEntries": access.list_access_entries,
    "UpdateAccessEntry": access.update_access_entry,
    "DeleteAccessEntry": access.delete_access_entry,
    "AssociateAccessPolicy": access.associate_access_policy,
    "DisassociateAccessPolicy": access.disassociate_access_policy,
    "ListAssociatedAccessPolicies": access.list_associated_access_policies,
    "ListAccessPolicies": access.list_access_policies,
    "TagResource": tags.tag_resource,
    "UntagResource": tags.untag_resource,
    "ListTagsForResource": tags.list_tags_for_resource,
}


class EksFront:
    """Handles every EKS request under one lock, so checks and writes never interleave."""

    def __init__(self, lifecycle: Lifecycle, moto_app: Callable[..., Any], today: Callable[[], dt.date] = clock.today) -> None:
        self.lifecycle = lifecycle
        self._moto_app = moto_app
        self.today = today
        self.lock = threading.RLock()

    def settle(self) -> None:
        """Apply every state change that has fallen due."""
        with self.lock:
            self.lifecycle.advance()

    def _forward(self, environ: dict[str, Any], body: bytes) -> Response:
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        return Response.from_app(self._moto_app, environ, buffered=True)

    def __call__(self, environ: dict[str, Any], body: bytes) -> Response:
        """Answer one EKS request whose body has already been read."""
        from moto.backends import get_backend
        from moto.eks.exceptions import EKSError as MotoEksError

        raw_path = environ.get("RAW_URI") or environ.get("PATH_INFO", "")
        matched = match_operation(environ.get("REQUEST_METHOD", "GET"), raw_path)
        with self.lock:
            self.lifecycle.advance()
            if matched is None or matched[0] not in HANDLERS:
                return self._forward(environ, body)
            operation, labels = matched
            try:
                params = parse_params(operation, labels, raw_path, body)
                access_key, account_id, region = caller(environ)
                call = EksCall(
                    operation=operation,
                    params=params,
                    access_key=access_key,
                    account_id=account_id,
                    region=region,
                    backend=get_backend("eks")[account_id][region],
                    lifecycle=self.lifecycle,
                    forward=lambda: self._forward(environ, body),
                    today=self.today,
                )
                limits.enforce(call)
                return HANDLERS[operation](call)
            except EksError as exc:
                return render.error(exc)
            except MotoEksError as exc:
                return render.moto_error(exc)
