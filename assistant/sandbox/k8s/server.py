"""The HTTPS server in front of every emulated cluster, routing ``/k8s/<cluster-id>/...``."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import ssl
import tempfile
import threading
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from assistant.errors import SandboxError
from assistant.sandbox.certs import TlsMaterial
from assistant.sandbox.k8s import errors
from assistant.sandbox.k8s.api import ApiRequest, ApiResponse, ClusterApi
from assistant.sandbox.k8s.auth import Authenticator, ClusterRef, allow_all_as_admin
from assistant.sandbox.k8s.store import ObjectStore, ResourceVersionClock

PATH_PREFIX = "/k8s/"
# The kube-apiserver's own limit on a request body (3 MiB); more is refused before it is read.
MAX_BODY = 3 * 1024 * 1024


def _server_context(tls: TlsMaterial) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    # ssl only loads keys from files; they exist just long enough to be read.
    with tempfile.TemporaryDirectory(prefix="eks-assist-tls-") as tmp:
        cert_path, key_path = os.path.join(tmp, "server.crt"), os.path.join(tmp, "server.key")
        with open(cert_path, "w") as fh:
            fh.write(tls.server_cert_pem + tls.ca_pem)
        with open(os.open(key_path, os.O_WRONLY | os.O_CREAT, 0o600), "w") as fh:
            fh.write(tls.server_key_pem)
        context.load_cert_chain(cert_path, key_path)
    return context


class _TlsServer(ThreadingHTTPServer):
    """Accepts plain TCP and does the TLS handshake in the connection's own thread."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], context: ssl.SSLContext, owner: KubeApiServer) -> None:
        self.context = context
        self.owner = owner
        self.connections: set[ssl.SSLSocket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        request.settimeout(30)
        try:
            conn = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return  # a client that gives up on TLS (e.g. an untrusted CA) is not our error
        with self.connections_lock:
            self.connections.add(conn)
        try:
            _Handler(conn, client_address, self)
        except (ConnectionError, ssl.SSLError, TimeoutError, OSError):
            pass
        finally:
            with self.connections_lock:
                self.connections.discard(conn)
            conn.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # connection-level noise (resets, timeouts) must not print tracebacks

    def close_connections(self) -> None:
        """Drop keep-alive connections so no request is served after stop."""
        with self.connections_lock:
            for conn in list(self.connections):
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave in one write; otherwise Nagle plus delayed ACKs add 40 ms per request.
    wbufsize = 64 * 1024
    disable_nagle_algorithm = True
    server: _TlsServer
    server_version = "eks-assist-sandbox"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the sandbox is quiet; a failing test shows the response, not an access log

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def _serve(self) -> None:
        raw_length = (self.headers.get("Content-Length") or "0").strip()
        if not raw_length.isdigit():
            # int() raised here and the connection closed without an answer; -1 read until EOF.
            self._answer(ApiResponse(400, errors.ApiError(400, "BadRequest", "invalid Content-Length").status()))
            self.close_connection = True
            return
        length = int(raw_length)
        if length > MAX_BODY:
            self._answer(ApiResponse(413, errors.ApiError(413, "RequestEntityTooLarge", "request entity too large").status()))
            self.close_connection = True
            return
        body = self.rfile.read(length) if length else b""
        try:
            response = self.server.owner.dispatch(self.command, self.path, dict(self.headers.items()), body)
        except Exception as exc:  # a bug in the emulator must still answer like an API server
            response = ApiResponse(500, errors.ApiError(500, "InternalError", f"sandbox error: {exc!r}").status())
        self._answer(response)

    def _answer(self, response: ApiResponse) -> None:
        payload = response.body if isinstance(response.body, bytes) else None
        if payload is None:
            payload = response.body.encode() if isinstance(response.body, str) else json.dumps(response.body).encode()
        self.send_response(response.status)
        is_text = isinstance(response.body, str)
        self.send_header("Content-Type", "text/plain; charset=utf-8" if is_text else "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)


class KubeApiServer:
    """Serves one emulated Kubernetes API per EKS cluster over a single HTTPS port.

    ``before_request`` runs first on every request; the sandbox uses it to settle EKS
    state changes that fell due, so the API reflects them the moment they are due.
    """

    def __init__(
        self,
        tls: TlsMaterial,
        host: str = "127.0.0.1",
        port: int = 0,
        authenticator: Authenticator | None = None,
        before_request: Callable[[], None] | None = None,
    ) -> None:
        self._tls = tls
        self._host = host
        self._port = port
        self.authenticator: Authenticator = authenticator or allow_all_as_admin
        self._before_request = before_request
        self._clock = ResourceVersionClock()
        self._clusters: dict[str, ClusterApi] = {}
        self._lock = threading.Lock()
        self._server: _TlsServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> None:
        """Bind and serve in a background thread."""
        try:
            self._server = _TlsServer((self._host, self._port), _server_context(self._tls), self)
        except OSError as exc:
            raise SandboxError(
                f"cannot serve the Kubernetes API on {self._host}:{self._port} ({exc.strerror}); pass another port, or 0 for any"
            ) from exc
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, name="sandbox-k8s", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close open connections."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None

    @property
    def port(self) -> int:
        """The bound port."""
        if self._server is None:
            raise SandboxError("the Kubernetes API server is not running")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """``https://host:port``, with a wildcard bind address shown as loopback."""
        host = "127.0.0.1" if self._host in ("0.0.0.0", "") else self._host
        return f"https://{host}:{self.port}"

    # -- clusters --------------------------------------------------------------------------------

    def add_cluster(self, name: str, kubernetes_version: str, arn: str, account_id: str, region: str) -> ClusterApi:
        """A new, empty API for an EKS cluster; its endpoint is ``url_for(api.ref.api_id)``."""
        api_id = f"{name}-{uuid.uuid4().hex[:8]}"
        ref = ClusterRef(name=name, arn=arn, account_id=account_id, region=region, api_id=api_id)
        api = ClusterApi(ref, kubernetes_version, ObjectStore(self._clock), self.url.removeprefix("https://"))
        with self._lock:
            self._clusters[api_id] = api
        return api

    def remove_cluster(self, api_id: str) -> None:
        """Forget a cluster; its URL answers 404 from now on."""
        with self._lock:
            self._clusters.pop(api_id, None)

    def cluster(self, api_id: str) -> ClusterApi | None:
        """The API behind ``/k8s/<api_id>``."""
        with self._lock:
            return self._clusters.get(api_id)

    def url_for(self, api_id: str) -> str:
        """The endpoint URL of one cluster."""
        return f"{self.url}{PATH_PREFIX}{api_id}"

    # -- requests --------------------------------------------------------------------------------

    def dispatch(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> ApiResponse:
        """Route one HTTP request to its cluster, after authentication."""
        if self._before_request is not None:
            self._before_request()
        url = urlsplit(raw_path)
        if not url.path.startswith(PATH_PREFIX):
            return ApiResponse(404, errors.path_not_found().status())
        api_id, _, rest = url.path[len(PATH_PREFIX) :].partition("/")
        api = self.cluster(api_id)
        if api is None:
            return ApiResponse(404, errors.path_not_found().status())
        token = None
        authorization = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        if authorization.lower().startswith("bearer "):
            token = authorization[7:].strip() or None
        user = self.authenticator(api.ref, token)
        if user is None:
            return ApiResponse(401, errors.unauthorized().status())
        request = ApiRequest(
            method=method,
            path="/" + rest,
            query=parse_qs(url.query, keep_blank_values=True),
            headers=headers,
            body=body,
            user=user,
        )
        return api.handle(request)
