"""The AWS port's HTTP server on its own: keep-alive, the environ our fronts read, HEAD, and stopping.

These serve small WSGI apps, not moto, so each test starts and stops its own server.
"""

from __future__ import annotations

import http.client
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest

from assistant.sandbox.http_server import THREADS, AwsHttpServer

StartResponse = Callable[..., Any]


class Recorder:
    """A WSGI app that answers 200 with a fixed body and notes each request's environ."""

    def __init__(self, body: bytes = b"hello", gate: threading.Event | None = None) -> None:
        self.body = body
        self.gate = gate
        self.environs: list[dict[str, Any]] = []
        self.inside = 0
        self.most_inside = 0
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        with self._lock:
            self.environs.append(dict(environ))
            self.inside += 1
            self.most_inside = max(self.most_inside, self.inside)
        try:
            if self.gate is not None:
                self.gate.wait(timeout=30)
            length = environ.get("CONTENT_LENGTH")
            request_body = environ["wsgi.input"].read(int(length)) if length else b""
            body = self.body + request_body
            # Like any app that ignores the method: HEAD gets the body too.
            start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
            return [body]
        finally:
            with self._lock:
                self.inside -= 1


@pytest.fixture
def serve() -> Iterator[Callable[..., AwsHttpServer]]:
    started: list[AwsHttpServer] = []

    def start(app: Any, port: int = 0) -> AwsHttpServer:
        server = AwsHttpServer(app, "127.0.0.1", port)
        server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def test_sequential_requests_share_one_connection(serve: Callable[..., AwsHttpServer]) -> None:
    app = Recorder()
    server = serve(app)
    conn = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=10)
    for i in range(20):
        conn.request("POST", f"/call/{i}", body=b"!")
        response = conn.getresponse()
        assert (response.status, response.read()) == (200, b"hello!")
        assert response.getheader("Connection") != "close"
    conn.close()
    # The server saw every request arrive from one client port: one TCP connection.
    assert len(app.environs) == 20
    assert {e["REMOTE_PORT"] for e in app.environs} == {app.environs[0]["REMOTE_PORT"]}


def test_raw_uri_is_the_request_target_as_sent(serve: Callable[..., AwsHttpServer]) -> None:
    app = Recorder()
    server = serve(app)
    target = "/clusters/demo/tags/arn%3Aaws%3Aeks%3Aus-east-1%3A1%3Acluster%2Fdemo?maxResults=5&nextToken=a%2Fb"
    conn = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=10)
    conn.request("GET", target)
    conn.getresponse().read()
    conn.close()
    (environ,) = app.environs
    # What werkzeug's server gave: percent-encoding kept, query string included.
    assert environ["RAW_URI"] == target
    assert environ["PATH_INFO"] == "/clusters/demo/tags/arn:aws:eks:us-east-1:1:cluster/demo"
    assert environ["QUERY_STRING"] == "maxResults=5&nextToken=a%2Fb"


def test_head_answers_carry_no_body_and_the_connection_stays_in_step(serve: Callable[..., AwsHttpServer]) -> None:
    server = serve(Recorder(b"a body a HEAD answer must not carry"))
    conn = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=10)
    conn.request("HEAD", "/")
    head = conn.getresponse()
    assert head.status == 200 and head.read() == b""
    assert head.getheader("Content-Length") == "35"  # what a GET would carry
    # The next answer on the same connection starts where it should: the HEAD body never went out.
    conn.request("GET", "/")
    response = conn.getresponse()
    assert (response.status, response.read()) == (200, b"a body a HEAD answer must not carry")
    conn.close()


def test_large_answers_arrive_whole(serve: Callable[..., AwsHttpServer]) -> None:
    body = bytes(range(256)) * (24 * 1024)  # 6 MiB, more than waitress keeps in memory per answer
    server = serve(Recorder(body))
    conn = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=30)
    for _ in range(2):
        conn.request("GET", "/")
        assert conn.getresponse().read() == body
    conn.close()


def test_as_many_requests_as_threads_run_at_once(serve: Callable[..., AwsHttpServer]) -> None:
    gate = threading.Event()
    app = Recorder(gate=gate)
    server = serve(app)

    def call(_: int) -> int:
        conn = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=30)
        try:
            conn.request("GET", "/")
            return conn.getresponse().status
        finally:
            conn.close()

    threads = [threading.Thread(target=call, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 20
    while app.inside < THREADS and time.monotonic() < deadline:
        time.sleep(0.01)
    inside = app.inside
    gate.set()
    for t in threads:
        t.join(timeout=30)
    assert inside == THREADS, f"only {inside} of {THREADS} waiting requests were being served at once"


def test_a_burst_beyond_the_pool_waits_quietly(serve: Callable[..., AwsHttpServer], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    gate = threading.Event()
    app = Recorder(gate=gate)
    server = serve(app)
    statuses: list[int] = []

    def call() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=30)
        conn.request("GET", "/")
        statuses.append(conn.getresponse().status)
        conn.close()

    threads = [threading.Thread(target=call) for _ in range(THREADS + 8)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 20
    while app.inside < THREADS and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)  # the 8 more reach the queue
    gate.set()
    for t in threads:
        t.join(timeout=30)
    assert statuses == [200] * (THREADS + 8)
    # waitress's "Task queue depth is N" is a debug line here, never a warning on the terminal.
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert any(r.getMessage().startswith("Task queue depth") for r in caplog.records if r.levelno == logging.DEBUG)


def test_stop_frees_the_port_at_once_with_connections_open_and_is_safe_twice(
    serve: Callable[..., AwsHttpServer],
) -> None:
    others = set(threading.enumerate())
    server = serve(Recorder())
    port = server.server_port
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/")
    conn.getresponse().read()  # a kept-alive connection, idle now
    assert len(set(threading.enumerate()) - others) == THREADS + 1  # the workers and the loop
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 2
    server.stop()
    assert set(threading.enumerate()) - others == set()
    # The idle connection was closed by the server ...
    conn.request("GET", "/")
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        conn.getresponse()
    conn.close()
    # ... and the port serves again at once.
    again = serve(Recorder(b"again"), port=port)
    assert again.server_port == port
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/")
    assert conn.getresponse().read() == b"again"
    conn.close()


def test_a_taken_port_raises_before_any_thread_starts() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        others = set(threading.enumerate())
        with pytest.raises(OSError):
            AwsHttpServer(Recorder(), "127.0.0.1", holder.getsockname()[1])
        assert set(threading.enumerate()) - others == set()


def test_stop_without_start_closes_everything() -> None:
    server = AwsHttpServer(Recorder(), "127.0.0.1", 0)
    port = server.server_port
    server.stop()
    server.stop()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))
