"""EC2 helpers: find our resources by ownership tags, and tag them atomically on create.

EC2 networking calls take no idempotency token, so a resource is tagged in the same call
that creates it (``TagSpecifications``); a retried or resumed create then finds it by tag
instead of making a second one.

The describe filters match on the cluster's name; :func:`keep_ours` then drops anything whose
``eks-assist:cluster-arn`` names another cluster (region or account), so it is neither
adopted nor deleted.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ... import tags as owntags
from ..common import error_code, owner


def owned_filters(cluster: str, resource: str | None = None) -> list[dict[str, Any]]:
    """DescribeX filters matching resources eks-assist created for ``cluster``."""
    filters = [
        {"Name": f"tag:{owntags.MANAGED_BY}", "Values": [owntags.MANAGED_BY_VALUE]},
        {"Name": f"tag:{owntags.CLUSTER}", "Values": [cluster]},
    ]
    if resource is not None:
        filters.append({"Name": f"tag:{owntags.RESOURCE}", "Values": [resource]})
    return filters


def keep_ours(items: list[dict[str, Any]], cluster: str, ctx: Any) -> list[dict[str, Any]]:
    """The described EC2 resources (with ``Tags``) whose tags prove they are ``cluster``'s in this region and account."""
    mine = owner(cluster, ctx)
    return [item for item in items if owntags.is_ours(owntags.from_aws_list(item.get("Tags")), mine)]


def tag_spec(resource_type: str, tags: dict[str, str]) -> list[dict[str, Any]]:
    return [{"ResourceType": resource_type, "Tags": owntags.to_aws_list(tags)}]


def name_tags(cluster: str, resource: str, user: dict[str, str], ctx: Any) -> dict[str, str]:
    """User tags + a Name + our ownership tags (for ``cluster`` in the context's region and account)."""
    return {**user, "Name": f"{cluster}-{resource}", **owntags.ownership(owner(cluster, ctx), resource)}


def retry_dependency(call: Callable[[], Any], what: str, timeout: float = 600.0) -> None:
    """Retry a delete that fails with DependencyViolation while AWS releases ENIs etc."""
    delay = 1.0
    start = time.monotonic()
    while True:
        try:
            call()
            return
        except Exception as exc:
            code = error_code(exc)
            if code.endswith("NotFound"):
                return
            if code != "DependencyViolation" or time.monotonic() - start > timeout:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 15.0)
