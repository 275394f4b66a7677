"""The Kubernetes side of the guard: writes to an API server only inside an approved apply.

A real HTTP server records what reaches it, and a real ``kubernetes`` client built by
:func:`assistant.run.kubeguard.api_client` talks to it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from assistant.errors import GuardViolation
from assistant.run import kubeguard
from assistant.run.guard import approved_apply

CM = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "aws-auth", "namespace": "kube-system"}, "data": {}}


class _Recorder(BaseHTTPRequestHandler):
    seen: list[str] = []

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        type(self).seen.append(f"{self.command} {self.path}")
        body = json.dumps(CM).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = _answer

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def api() -> Iterator[tuple[Any, list[str]]]:
    import kubernetes.client

    _Recorder.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    cfg = kubernetes.client.Configuration()
    cfg.host = f"http://127.0.0.1:{server.server_port}"
    try:
        yield kubernetes.client.CoreV1Api(kubeguard.api_client(cfg)), _Recorder.seen
    finally:
        server.shutdown()
        server.server_close()


def test_reads_pass_writes_are_refused_outside_an_apply(api: tuple[Any, list[str]]) -> None:
    core, seen = api
    core.read_namespaced_config_map("aws-auth", "kube-system")
    for write in (
        lambda: core.replace_namespaced_config_map("aws-auth", "kube-system", CM),
        lambda: core.create_namespaced_config_map("kube-system", CM),
        lambda: core.patch_namespaced_config_map("aws-auth", "kube-system", {"data": {}}),
        lambda: core.delete_namespaced_config_map("aws-auth", "kube-system"),
    ):
        with pytest.raises(GuardViolation, match=r"refused Kubernetes (PUT|POST|PATCH|DELETE) /api/v1/namespaces/kube-system"):
            write()
    assert seen == ["GET /api/v1/namespaces/kube-system/configmaps/aws-auth"]


def test_writes_inside_an_apply_reach_the_server_and_are_recorded(api: tuple[Any, list[str]]) -> None:
    core, seen = api
    with approved_apply("0" * 64, "run-1") as scope:
        core.replace_namespaced_config_map("aws-auth", "kube-system", CM)
    assert seen == ["PUT /api/v1/namespaces/kube-system/configmaps/aws-auth"]
    assert scope.calls == [{"service": "kubernetes", "operation": "PUT /api/v1/namespaces/kube-system/configmaps/aws-auth"}]
