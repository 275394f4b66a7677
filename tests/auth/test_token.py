"""``eks-assist token``: the k8s-aws-v1 token format and the ExecCredential kubectl reads."""

from __future__ import annotations

import base64
import datetime as dt
import json
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest

from assistant.identity import tokens as kubeauth

from ..cli.conftest import CliRunner

KEY, SECRET = "AKIAEXAMPLEEXAMPLE00", "not-a-real-secret-but-shaped-like-one-00"


@pytest.fixture
def creds(monkeypatch: pytest.MonkeyPatch) -> None:
    """Static keys: presigning is local, so no endpoint is ever called."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_REGION", "eu-west-1")


def _url(token: str) -> str:
    assert token.startswith("k8s-aws-v1.")
    body = token[len("k8s-aws-v1.") :]
    assert "=" not in body and "+" not in body and "/" not in body  # unpadded base64url
    return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()


def test_token_is_a_presigned_get_caller_identity_with_the_cluster_header_signed(creds: None) -> None:
    now = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    token = kubeauth.get_token(boto3.Session(), "eu-west-1", "prod", now=now)
    url = _url(token.token)
    assert kubeauth.decode(token.token) == url
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert parts.hostname == "sts.eu-west-1.amazonaws.com"
    assert query["Action"] == "GetCallerIdentity"
    assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert query["X-Amz-SignedHeaders"] == "host;x-k8s-aws-id"
    assert query["X-Amz-Credential"].startswith(f"{KEY}/") and query["X-Amz-Credential"].endswith("/eu-west-1/sts/aws4_request")
    assert SECRET not in url
    assert token.expiration == now + dt.timedelta(minutes=14)


def test_decode_refuses_other_tokens() -> None:
    with pytest.raises(ValueError, match="not a k8s-aws-v1 token"):
        kubeauth.decode("Bearer abc")


@pytest.mark.parametrize(
    ("exec_info", "version"),
    [
        (None, "client.authentication.k8s.io/v1beta1"),
        (
            '{"apiVersion": "client.authentication.k8s.io/v1beta1", "kind": "ExecCredential", "spec": {}}',
            "client.authentication.k8s.io/v1beta1",
        ),
        (
            '{"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential", "spec": {"interactive": false}}',
            "client.authentication.k8s.io/v1",
        ),
    ],
    ids=["absent", "v1beta1", "v1"],
)
def test_token_verb_prints_an_exec_credential(
    creds: None, cli: CliRunner, monkeypatch: pytest.MonkeyPatch, exec_info: str | None, version: str
) -> None:
    if exec_info is not None:
        monkeypatch.setenv("KUBERNETES_EXEC_INFO", exec_info)
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    r = cli("token", "--cluster-name", "prod")
    assert r.code == 0, r.err
    cred = json.loads(r.out)
    assert set(cred) == {"kind", "apiVersion", "spec", "status"}
    assert (cred["kind"], cred["apiVersion"], cred["spec"]) == ("ExecCredential", version, {})
    assert set(cred["status"]) == {"expirationTimestamp", "token"}
    expires = dt.datetime.strptime(cred["status"]["expirationTimestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    assert before + dt.timedelta(minutes=14) <= expires <= dt.datetime.now(dt.UTC) + dt.timedelta(minutes=14)
    assert "eu-west-1" in _url(cred["status"]["token"])
    assert SECRET not in r.out + r.err and KEY not in r.err


@pytest.mark.parametrize(
    ("exec_info", "message"),
    [
        ("{not json", "KUBERNETES_EXEC_INFO is not valid JSON"),
        ('["a"]', "KUBERNETES_EXEC_INFO must be a JSON object"),
        (
            '{"apiVersion": "client.authentication.k8s.io/v1alpha1"}',
            "KUBERNETES_EXEC_INFO asks for apiVersion 'client.authentication.k8s.io/v1alpha1'; supported: "
            "client.authentication.k8s.io/v1, client.authentication.k8s.io/v1beta1",
        ),
    ],
    ids=["malformed", "not-an-object", "unsupported-version"],
)
def test_bad_exec_info_exits_2(
    creds: None, cli: CliRunner, monkeypatch: pytest.MonkeyPatch, exec_info: str, message: str
) -> None:
    monkeypatch.setenv("KUBERNETES_EXEC_INFO", exec_info)
    r = cli("token", "--cluster-name", "prod")
    assert r.code == 2 and r.out == ""
    assert r.err.startswith(f"eks-assist token: {message}")


def test_token_needs_a_region(cli: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    r = cli("token", "--cluster-name", "prod")
    assert (r.code, r.err.strip()) == (2, "eks-assist token: no AWS region: pass --region or set AWS_REGION")


def test_token_sandbox_without_a_running_sandbox_says_what_to_do(cli: CliRunner) -> None:
    """Not bad input but a stopped sandbox: exit 1, what happened to the cluster, and how to get one back."""
    r = cli("token", "--cluster-name", "prod", "--sandbox")
    assert r.code == 1 and r.out == ""
    assert r.err.startswith("eks-assist token: no sandbox is running (none is recorded in ")
    assert "a sandbox's clusters are gone when it stops" in r.err
    assert (
        "Start one with 'eks-assist sandbox start' (or the wizard: 'eks-assist --sandbox'), then apply cluster 'prod' again"
        in r.err
    )


def test_kubeconfig_sandbox_without_a_running_sandbox_says_what_to_do(cli: CliRunner) -> None:
    r = cli("kubeconfig", "--cluster", "prod", "--sandbox")
    assert r.code == 1 and r.out == ""
    assert r.err.startswith("eks-assist kubeconfig: no sandbox is running (none is recorded in ")
    assert "then apply cluster 'prod' and run this again" in r.err
