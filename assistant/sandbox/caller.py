"""Who sent an AWS request, and to which region: read from its SigV4 credential scope."""

from __future__ import annotations

import os
import re
from typing import Any

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/[^/]+/([^/]+)/([^/]+)/")


def signing_service(environ: dict[str, Any]) -> str | None:
    """The service name in the credential scope (``eks``, ``ec2``, ``iam``, ...), or None if unsigned."""
    match = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
    return match.group(3).lower() if match else None


def signing_region(environ: dict[str, Any]) -> str | None:
    """The region in the credential scope, or None if the request is not SigV4-signed."""
    match = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
    return match.group(2) if match else None


def caller(environ: dict[str, Any]) -> tuple[str, str, str]:
    """``(access_key_id, account_id, region)`` of a SigV4-signed request, resolved as moto does."""
    from moto.iam.models import get_account_id_from

    match = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
    access_key, region = (match.group(1), match.group(2)) if match else ("", "us-east-1")
    account = os.environ.get("MOTO_ACCOUNT_ID") or environ.get("HTTP_X_MOTO_ACCOUNT_ID") or get_account_id_from(access_key)
    return access_key, account, region
