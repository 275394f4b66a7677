"""EKS bearer tokens: ``k8s-aws-v1.`` + unpadded base64url of a presigned STS
GetCallerIdentity GET with the ``x-k8s-aws-id: <cluster>`` header signed in.

This is what ``aws eks get-token`` and aws-iam-authenticator produce. No credentials are
stored anywhere: the token is a signature that proves who the caller is for ~15 minutes.
"""

from __future__ import annotations

import base64
import datetime as dt
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


def _session_for(session: Any, region: str, role_arn: str | None) -> Any:
    if not role_arn:
        return session
    import boto3

    creds = session.client("sts", region_name=region).assume_role(RoleArn=role_arn, RoleSessionName="eks-assist-token")[
        "Credentials"
    ]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=region,
    )


def get_token(session: Any, region: str, cluster: str, role_arn: str | None = None, now: dt.datetime | None = None) -> Token:
    """A token for ``cluster`` from a boto3 session (optionally assuming ``role_arn`` first)."""
    sess = _session_for(session, region, role_arn)
    # A client of its own: the header hook must never touch other STS calls.
    sts = sess.client("sts", region_name=region)

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
