"""TagResource, UntagResource and ListTagsForResource for every EKS resource that has tags.

moto tags clusters only, so tagging a node group (which the engine does when ``metadata.tags``
change) failed. EKS tags clusters, managed node groups, Fargate profiles, add-ons and access
entries by ARN; each keeps its tags until it is deleted.
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from assistant.sandbox.eks import render
from assistant.sandbox.eks.call import EksCall
from assistant.sandbox.eks.errors import BadRequest, NotFound
from assistant.sandbox.eks.state import extras

MAX_TAGS = 50
MAX_KEY = 128
MAX_VALUE = 256


def _resource(call: EksCall, arn: str) -> Any:
    """The cluster, node group, Fargate profile, add-on or access entry ``arn`` names, in this region."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "eks" or "/" not in parts[5]:
        raise BadRequest(f"{arn!r} is not a valid Amazon EKS resource ARN")
    kind, cluster_name = parts[5].split("/")[:2]
    cluster = call.backend.clusters.get(cluster_name) if parts[3] == call.region else None
    candidates: dict[str, list[tuple[str, Any]]] = {}
    if cluster is not None:
        candidates = {
            "cluster": [(cluster.arn, cluster)],
            "nodegroup": [(ng.arn, ng) for ng in cluster.nodegroups.values()],
            "fargateprofile": [(fp.fargate_profile_arn, fp) for fp in cluster.fargate_profiles.values()],
            "addon": [(a.addon_arn, a) for a in extras(cluster).addons.values()],
            "access-entry": [(e.access_entry_arn, e) for e in extras(cluster).access_entries.values()],
        }
    found = next((obj for candidate, obj in candidates.get(kind, []) if candidate == arn), None)
    if found is None:
        raise NotFound(f"Resource {arn} was not found")
    return found


def _check_tags(tags: Any, existing: dict[str, str]) -> dict[str, str]:
    if not isinstance(tags, dict) or not tags:
        raise BadRequest("tags must name at least one tag")
    for key, value in tags.items():
        if not isinstance(key, str) or not 1 <= len(key) <= MAX_KEY:
            raise BadRequest(f"Tag key {key!r} must be 1 to {MAX_KEY} characters")
        if not isinstance(value, str) or len(value) > MAX_VALUE:
            raise BadRequest(f"The value of tag {key!r} must be at most {MAX_VALUE} characters")
        if key.lower().startswith("aws:"):
            raise BadRequest(f"Tag key {key!r} uses the reserved prefix 'aws:'")
    # Tags with the reserved prefix do not count towards the limit (only AWS sets them).
    total = {k for k in {**existing, **tags} if not k.lower().startswith("aws:")}
    if len(total) > MAX_TAGS:
        raise BadRequest(f"A resource can have at most {MAX_TAGS} tags; this request would give it {len(total)}")
    return dict(tags)


def tag_resource(call: EksCall) -> Response:
    """TagResource: add or overwrite the given tags; the others stay."""
    resource = _resource(call, call.get("resourceArn", ""))
    current = resource.tags if resource.tags is not None else {}
    current.update(_check_tags(call.get("tags"), current))
    resource.tags = current
    return render.ok(call.operation, {})


def untag_resource(call: EksCall) -> Response:
    """UntagResource: remove the named keys (keys the resource does not have are ignored)."""
    resource = _resource(call, call.get("resourceArn", ""))
    keys = call.get("tagKeys") or []
    if not keys:
        raise BadRequest("tagKeys must name at least one key")
    for key in keys:
        if key.lower().startswith("aws:"):
            raise BadRequest(f"Tag key {key!r} uses the reserved prefix 'aws:' and cannot be removed")
    for key in keys:
        (resource.tags or {}).pop(key, None)
    return render.ok(call.operation, {})


def list_tags_for_resource(call: EksCall) -> Response:
    """ListTagsForResource: the resource's tags."""
    resource = _resource(call, call.get("resourceArn", ""))
    return render.ok(call.operation, {"tags": dict(resource.tags or {})})
