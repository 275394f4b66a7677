"""EC2 helpers: find our resources by ownership tags, and tag them atomically on create.

EC2 networking calls take no idempotency token, so a resource is tagged in the same call
that creates it (``TagSpecifications``); a retried or resumed create then finds it by tag
instead of making a second one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ... import tags as owntags
from ..common import error_code


def owned_filters(cluster: str, resource: str | None = None) -> list[dict[str, Any]]:
    """DescribeX filters matching resources eks-assist created for ``cluster``."""
    filters = [
        {"Name": f"tag:{owntags.MANAGED_BY}", "Values": [owntags.MANAGED_BY_VALUE]},
        {"Name": f"tag:{owntags.CLUSTER}", "Values": [cluster]},
    ]
    if resource is not None:
        filters.append({"Name": f"tag:{owntags.RESOURCE}", "Values": [resource]})
    return filters


def tag_spec(resource_type: str, tags: dict[str, str]) -> list[dict[str, Any]]:
    return [{"ResourceType": resource_type, "Tags": owntags.to_aws_list(tags)}]


def name_tags(cluster: str, resource: str, user: dict[str, str]) -> dict[str, str]:
    """User tags + a Name + our ownership tags."""
    return {**user, "Name": f"{cluster}-{resource}", **owntags.ownership(cluster, resource)}


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
