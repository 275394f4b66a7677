"""Checks for the cluster, role and region arguments of the verbs kubectl calls (``token``, ``kubeconfig``).

They run before any AWS call or file access, so a bad argument is named, not sent.
"""

from __future__ import annotations

import re

CLUSTER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}")
ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}")
REGION = re.compile(r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d+")


def shown(value: str) -> str:
    """``value`` quoted for an error message, cut at 80 characters."""
    return repr(value if len(value) <= 80 else value[:80] + "…")


def check_role_and_region(role_arn: str | None, region: str | None) -> None:
    """ValueError naming ``--role-arn`` or ``--region`` when either is given and malformed."""
    if role_arn is not None and not ROLE_ARN.fullmatch(role_arn):
        raise ValueError(f"--role-arn: {shown(role_arn)} is not an IAM role ARN (like arn:aws:iam::111122223333:role/name)")
    if region is not None and not REGION.fullmatch(region):
        raise ValueError(f"--region: {shown(region)} is not an AWS region name (like us-east-1)")
