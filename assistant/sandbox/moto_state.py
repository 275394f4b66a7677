"""Workarounds for moto's process-wide state: a cheap reset, and AWS managed IAM policies on demand."""

from __future__ import annotations

import json
import threading
from functools import cache
from typing import Any

_policy_lock = threading.Lock()


def reset() -> None:
    """Forget every moto backend, so a new sandbox starts empty.

    ``moto_api_backend.reset()`` re-runs every backend's ``__init__`` before dropping it, which
    costs seconds with IAM; dropping the instances is enough, as new ones are made on first use.
    """
    from moto.core.base_backend import BackendDict, backend_lock
    from moto.core.model_instances import reset_model_data

    instances: list[Any] = BackendDict._instances  # type: ignore[misc]
    with backend_lock:
        for backend_dict in instances:
            backend_dict.clear()
        instances.clear()
    reset_model_data()


@cache
def _managed_policy_data() -> dict[str, Any]:
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    data: dict[str, Any] = json.loads(aws_managed_policies_data)
    return data


def ensure_aws_managed_policies(account_id: str) -> None:
    """Give the account's IAM the AWS managed policies (AmazonEKSClusterPolicy, ...) that EKS roles attach.

    moto loads them only behind a global setting, and then for all seven partitions of every
    account (over a second each time); the sandbox loads them once, for the ``aws`` partition.
    """
    from moto.iam.models import AWSManagedPolicy, iam_backends

    backend = iam_backends[account_id]["aws"]
    if getattr(backend, "sandbox_managed_policies", False):
        return
    with _policy_lock:
        if getattr(backend, "sandbox_managed_policies", False):
            return
        policies = [
            AWSManagedPolicy.from_data(name, account_id, backend.region_name, data)
            for name, data in _managed_policy_data().items()
        ]
        backend.aws_managed_policies = [*backend.aws_managed_policies, *policies]
        for policy in policies:
            backend.managed_policies.setdefault(policy.arn, policy)
        setattr(backend, "sandbox_managed_policies", True)  # noqa: B010 - a marker moto's class does not declare
