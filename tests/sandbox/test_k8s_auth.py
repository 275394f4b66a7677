"""The authentication seam of the emulated API servers: a custom authenticator decides who calls."""

from __future__ import annotations

import json
import ssl
from collections.abc import Iterator

import pytest
import urllib3

from assistant.sandbox import ClusterRef, UserInfo
from assistant.sandbox.certs import generate_tls
from assistant.sandbox.k8s.server import KubeApiServer


@pytest.fixture
def server() -> Iterator[tuple[KubeApiServer, str, urllib3.PoolManager]]:
    tls = generate_tls()
    seen: list[tuple[str, str | None]] = []

    def authenticate(cluster: ClusterRef, token: str | None) -> UserInfo | None:
        seen.append((cluster.name, token))
        return UserInfo("alice", ("devs",), uid="u-1") if token == "good" else None

    kube = KubeApiServer(tls, authenticator=authenticate)
    kube.start()
    api = kube.add_cluster("auth", "1.32", "arn:aws:eks:us-east-1:123456789012:cluster/auth", "123456789012", "us-east-1")
    http = urllib3.PoolManager(ssl_context=ssl.create_default_context(cadata=tls.ca_pem))
    try:
        yield kube, kube.url_for(api.ref.api_id), http
    finally:
        http.clear()
        kube.stop()
    assert ("auth", "good") in seen and ("auth", None) in seen


def test_authenticator_decides(server: tuple[KubeApiServer, str, urllib3.PoolManager]) -> None:
    _kube, url, http = server
    denied = http.request("GET", f"{url}/api/v1/namespaces")
    assert denied.status == 401 and json.loads(denied.data)["reason"] == "Unauthorized"
    assert http.request("GET", f"{url}/version", headers={"Authorization": "Bearer bad"}).status == 401
    review = http.request(
        "POST",
        f"{url}/apis/authentication.k8s.io/v1/selfsubjectreviews",
        body=json.dumps({"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}),
        headers={"Authorization": "Bearer good", "Content-Type": "application/json"},
    )
    assert review.status == 201
    assert json.loads(review.data)["status"]["userInfo"] == {"username": "alice", "groups": ["devs"], "uid": "u-1"}
    version = json.loads(http.request("GET", f"{url}/version", headers={"Authorization": "Bearer good"}).data)
    assert version["gitVersion"] == "v1.32.0-eks-sandbox"
