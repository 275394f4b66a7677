"""EKS bearer tokens: ``k8s-aws-v1.`` + unpadded base64url of a presigned STS
GetCallerIdentity GET with the ``x-k8s-aws-id: <cluster>`` header signed in.

This is what ``aws eks get-token`` and aws-iam-authenticator produce. No credentials are
stored anywhere: the token is a signature that proves who the caller is for ~15 minutes.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

TOKEN_PREFIX = "k8s-aws-v1."
CLUSTER_ID_HEADER = "x-k8s-aws-id"
# STS accepts the presigned URL for 15 minutes; report 14 so clients refresh before that.
PRESIGN_SECONDS = 60
REPORTED_LIFETIME = dt.timedelta(minutes=14)


@dataclass(frozen=True)
class Token:
    """A bearer token and when clients should consider it expired."""

    token: str
    expiration: dt.datetime


def _session_for(session: Any, region: str, role_arn: str | None, endpoint_url: str | None = None) -> Any:
    if not role_arn:
        return session
    import boto3

    sts = session.client("sts", region_name=region, endpoint_url=endpoint_url)
    creds = sts.assume_role(RoleArn=role_arn, RoleSessionName="eks-assist-token")["Credentials"]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=region,
    )


def get_token(
    session: Any,
    region: str,
    cluster: str,
    role_arn: str | None = None,
    now: dt.datetime | None = None,
    endpoint_url: str | None = None,
) -> Token:
    """A token for ``cluster`` from a boto3 session (optionally assuming ``role_arn`` first).

    ``endpoint_url`` overrides the STS endpoint (boto3's ``AWS_ENDPOINT_URL`` works too).
    """
    sess = _session_for(session, region, role_arn, endpoint_url)
    # A client of its own: the header hook must never touch other STS calls.
    sts = sess.client("sts", region_name=region, endpoint_url=endpoint_url)

    def add_cluster_header(request: Any, **_: Any) -> None:
        request.headers[CLUSTER_ID_HEADER] = cluster

    sts.meta.events.register("before-sign.sts.GetCallerIdentity", add_cluster_header)
    url = sts.generate_presigned_url("get_caller_identity", Params={}, ExpiresIn=PRESIGN_SECONDS, HttpMethod="GET")
    encoded = base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")
    issued = now or dt.datetime.now(dt.UTC)
    return Token(TOKEN_PREFIX + encoded, issued + REPORTED_LIFETIME)


def decode(token: str) -> str:
    """The presigned URL inside a token; ValueError if it is not a k8s-aws-v1 token."""
    if not token.startswith(TOKEN_PREFIX):
        raise ValueError("not a k8s-aws-v1 token")
    body = token[len(TOKEN_PREFIX) :]
    try:
        return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError("token is not valid base64url") from exc


EXEC_API_VERSIONS = ("client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1")
DEFAULT_EXEC_API_VERSION = "client.authentication.k8s.io/v1beta1"


def exec_api_version(exec_info: str | None) -> str:
    """The ExecCredential apiVersion kubectl asked for in ``KUBERNETES_EXEC_INFO``.

    ValueError with a plain message when the variable is malformed or names a version we do
    not speak; v1beta1 when it is absent (older clients do not set it).
    """
    if exec_info is None or not exec_info.strip():
        return DEFAULT_EXEC_API_VERSION
    try:
        info = json.loads(exec_info)
    except ValueError as exc:
        raise ValueError(f"KUBERNETES_EXEC_INFO is not valid JSON ({exc})") from None
    if not isinstance(info, dict):
        raise ValueError("KUBERNETES_EXEC_INFO must be a JSON object")
    version = info.get("apiVersion")
    if version is None:
        return DEFAULT_EXEC_API_VERSION
    if version not in EXEC_API_VERSIONS:
        raise ValueError(f"KUBERNETES_EXEC_INFO asks for apiVersion {version!r}; supported: {', '.join(EXEC_API_VERSIONS)}")
    return str(version)


def exec_credential(token: Token, api_version: str = DEFAULT_EXEC_API_VERSION) -> dict[str, Any]:
    """The ExecCredential object an exec plugin prints for kubectl."""
    expires = token.expiration.astimezone(dt.UTC).replace(microsecond=0)
    return {
        "kind": "ExecCredential",
        "apiVersion": api_version,
        "spec": {},
        "status": {"expirationTimestamp": expires.strftime("%Y-%m-%dT%H:%M:%SZ"), "token": token.token},
    }
