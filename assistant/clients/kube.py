"""A Kubernetes API client for an EKS cluster: endpoint and CA from DescribeCluster, a bearer
token from :mod:`assistant.identity.tokens`, refreshed before it expires.

``kubernetes`` is imported lazily: it costs ~0.75 s and most commands never need it.
"""

from __future__ import annotations

import base64
import datetime as dt
import tempfile
from typing import Any

from assistant.clients.aws import AwsContext
from assistant.errors import InputError
from assistant.identity.tokens import get_token
from assistant.run import kubeguard

REFRESH_MARGIN = dt.timedelta(minutes=2)


def api_client(aws: AwsContext, cluster: str, role_arn: str | None = None) -> Any:
    """A ``kubernetes.client.ApiClient`` for ``cluster`` that authenticates like kubectl on EKS."""
    import botocore.exceptions
    import kubernetes.client

    try:
        c = aws.client("eks").describe_cluster(name=cluster)["cluster"]
    except botocore.exceptions.ClientError as exc:
        if exc.response["Error"]["Code"] == "ResourceNotFoundException":
            raise InputError(f"no EKS cluster named '{cluster}' in {aws.region}") from None
        raise
    if c.get("status") != "ACTIVE" or not c.get("endpoint"):
        raise InputError(f"cluster '{cluster}' is {c.get('status')}; its Kubernetes API is not available yet")
    cfg = kubernetes.client.Configuration()
    cfg.host = c["endpoint"]
    ca = base64.b64decode((c.get("certificateAuthority") or {}).get("data", ""))
    # The client wants a file path for the CA; keep the file for the client's lifetime.
    ca_file = tempfile.NamedTemporaryFile(prefix="eks-assist-ca-", suffix=".pem", delete=False)  # noqa: SIM115
    ca_file.write(ca)
    ca_file.close()
    cfg.ssl_ca_cert = ca_file.name
    cfg.verify_ssl = True
    state: dict[str, Any] = {}

    def refresh(conf: Any) -> None:
        tok = state.get("token")
        if tok is None or dt.datetime.now(dt.UTC) + REFRESH_MARGIN >= tok.expiration:
            tok = get_token(aws.session, aws.region, cluster, role_arn)
            state["token"] = tok
            conf.api_key["authorization"] = tok.token
            conf.api_key_prefix["authorization"] = "Bearer"

    refresh(cfg)
    # kubernetes declares the hook only as ``self.refresh_api_key_hook = None``, so mypy types it None.
    cfg.refresh_api_key_hook = refresh  # type: ignore[assignment]
    return kubeguard.api_client(cfg)
