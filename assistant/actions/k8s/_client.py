"""A Kubernetes client built from what an action has: ``ctx.client('eks')`` and its credentials.

Actions get an :class:`~assistant.actions.base.ActionContext`, not an ``AwsContext``, so the
endpoint and CA come from DescribeCluster and the bearer token from
:func:`assistant.identity.tokens.get_token` signed with the same credentials as the context's
clients. The token is a real EKS token, so this keeps working when the sandbox (or EKS)
authenticates callers.
"""

from __future__ import annotations

import base64
import tempfile
import threading
from typing import Any

from assistant.identity.tokens import get_token
from assistant.run import kubeguard

_ca_files: dict[str, str] = {}
_lock = threading.Lock()


def _session(ctx: Any) -> Any:
    """The boto3 session behind ``ctx.client`` (so a --profile or assumed role signs the token too)."""
    if ctx.session is not None:
        return ctx.session
    import boto3

    # A context made without a session (tests that build one by hand): the default chain.
    return boto3.Session(region_name=ctx.region)


def _ca_file(pem: bytes) -> str:
    key = base64.b64encode(pem).decode()
    with _lock:
        path = _ca_files.get(key)
        if path is None:
            # The client wants a file path; one file per CA for the process lifetime.
            f = tempfile.NamedTemporaryFile(prefix="eks-assist-ca-", suffix=".pem", delete=False)  # noqa: SIM115
            f.write(pem)
            f.close()
            path = _ca_files[key] = f.name
        return path


def api_client(ctx: Any, cluster: dict[str, Any]) -> Any:
    """A ``kubernetes.client.ApiClient`` for a described (ACTIVE) cluster, with a fresh EKS token."""
    import kubernetes.client

    cfg = kubernetes.client.Configuration()
    cfg.host = cluster["endpoint"]
    cfg.ssl_ca_cert = _ca_file(base64.b64decode((cluster.get("certificateAuthority") or {}).get("data", "")))
    cfg.verify_ssl = True
    token = get_token(_session(ctx), ctx.region, cluster["name"])
    cfg.api_key["authorization"] = token.token
    cfg.api_key_prefix["authorization"] = "Bearer"
    return kubeguard.api_client(cfg)


def core_v1(ctx: Any, cluster: dict[str, Any]) -> Any:
    """A ``CoreV1Api`` for a described (ACTIVE) cluster."""
    import kubernetes.client

    return kubernetes.client.CoreV1Api(api_client(ctx, cluster))


def status_of(exc: BaseException) -> int | None:
    """The HTTP status of a kubernetes ``ApiException``, else None."""
    status = getattr(exc, "status", None)
    return int(status) if isinstance(status, int) else None
