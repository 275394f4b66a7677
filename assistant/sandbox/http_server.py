"""The HTTP server on the sandbox's AWS port: waitress, so clients keep their connections.

werkzeug's development server answers every request with ``Connection: close``: botocore opened
a new TCP connection for each call (2,191 of them to plan one large spec) and the server started
a thread for each. waitress speaks HTTP/1.1 keep-alive and serves from a fixed pool of threads.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable, Iterable
from typing import Any

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

# Worker threads. A request holds one for its whole life, including any sleep inside it: a fault's
# ``latency_ms`` (front.py) or a test's after-call hook. Past the pool a request waits in waitress's
# queue for a thread (it is never refused). What asks at once in realistic use: an apply keeps at
# most ``--parallelism`` calls per AWS service in flight (default 8; assistant/run/gates.py) however
# many steps wait, so 50 node groups polling make at most 8 DescribeNodegroup calls at once, over
# four services (eks, ec2, iam, sts): 32 at the most. The Slack bot runs up to 4 applies beside 4
# planning workers (slackbot/app.py); the suite runs parallelism 1 to 8, and at most one sandbox
# per process. 64 threads let every call of two default applies sleep at once, or the bot's usual
# mix; only a bot with 4 applies all at their peak on every service would queue. An idle thread
# costs no CPU, and starting 64 takes about 4 ms.
THREADS = 64

# Open connections, idle kept-alive ones included, before waitress stops accepting more. Every
# boto3 client keeps up to ``max_pool_connections`` open (the bot: 38 for each of its clients), so
# waitress's default of 100 could stall a busy bot; 1,000 is far above any real use here.
CONNECTION_LIMIT = 1000

# How long stop() lets a request that is still running finish (idle threads exit at once).
STOP_GRACE = 5

_LOOP_TIMEOUT = 1.0  # seconds between waitress's housekeeping (idle connections); stop() wakes it at once


class _Demote(logging.Filter):
    """Turns waitress's queue-depth warnings into debug records.

    waitress warns whenever a request has to wait for a thread. With the pool sized above that is
    a burst being absorbed, not a fault, and must not reach the terminal of whoever runs the sandbox.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        record.levelno, record.levelname = logging.DEBUG, logging.getLevelName(logging.DEBUG)
        return True


_QUEUE_LOG = logging.getLogger(f"{__name__}.queue")
_QUEUE_LOG.addFilter(_Demote())


def werkzeug_environ(app: WsgiApp) -> WsgiApp:
    """``app``, seeing the environ werkzeug's server gave it, under any WSGI server.

    - ``RAW_URI``: the request target as sent, still percent-encoded and with its query string.
      The EKS fronts match routes on it (a label such as an ARN may hold an encoded ``/``) and read
      rest-json query parameters from it; moto reads its raw path from it too. waitress calls it
      ``REQUEST_URI`` (nginx's name); werkzeug sets both.
    - HEAD: the answer carries no body, whatever the app returns. werkzeug's server dropped it;
      waitress sends what it is given, and on a kept-alive connection the client would read those
      bytes as the start of its next answer.
    """

    def app_as_under_werkzeug(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if "RAW_URI" not in environ and "REQUEST_URI" in environ:
            environ["RAW_URI"] = environ["REQUEST_URI"]
        body = app(environ, start_response)
        if environ.get("REQUEST_METHOD") != "HEAD":
            return body
        try:
            for _chunk in body:  # an app may call start_response only once iterated
                pass
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()
        return []

    return app_as_under_werkzeug


def _bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port``, bound as werkzeug bound it (one address, reusable at once)."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        # A stopped sandbox's port must be free again at once, its closed connections in TIME_WAIT or not.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except BaseException:
        sock.close()
        raise
    return sock


class AwsHttpServer:
    """Serves a WSGI app on ``host:port`` with waitress, on a thread of its own, until :meth:`stop`.

    Binding happens in the constructor, so a taken port raises ``OSError`` there, before any
    thread starts.
    """

    def __init__(self, app: WsgiApp, host: str, port: int) -> None:
        from waitress.server import BaseWSGIServer, create_server

        sock = _bind(host, port)
        self.server_port: int = sock.getsockname()[1]
        self._map: dict[int, Any] = {}  # waitress's socket map: the listener, its wake-up pipe, connections
        try:
            server = create_server(
                werkzeug_environ(app),
                map=self._map,
                sockets=[sock],
                threads=THREADS,
                connection_limit=CONNECTION_LIMIT,
                channel_timeout=120,  # idle kept-alive connections close after this (waitress's default)
                # select() cannot watch descriptors above 1023, and a test process holds many.
                asyncore_use_poll=True,
                # The sandbox is nobody's proxy: X-Forwarded-* headers reach the app as sent, as under werkzeug.
                clear_untrusted_proxy_headers=False,
            )
        except BaseException:
            sock.close()
            raise
        assert isinstance(server, BaseWSGIServer)  # one socket: one server, never a MultiSocketServer
        server.task_dispatcher.queue_logger = _QUEUE_LOG
        self._server = server
        self._lock = threading.Lock()
        self._stopping = False
        self._closed = False
        self._thread = threading.Thread(target=self._serve, name="sandbox-aws", daemon=True)

    def start(self) -> None:
        """Serve on the server's thread."""
        self._thread.start()

    def _serve(self) -> None:
        from waitress import wasyncore

        try:
            while not self._stopping:
                wasyncore.loop(timeout=_LOOP_TIMEOUT, map=self._map, use_poll=True, count=1)
        finally:
            self._close()

    def _close(self) -> None:
        """Close every connection and the listening socket, let the worker threads go, then the trigger."""
        from waitress import wasyncore
        from waitress.channel import HTTPChannel

        with self._lock:
            if self._closed:
                return
            self._closed = True
            for dispatcher in list(self._map.values()):
                if isinstance(dispatcher, HTTPChannel):
                    dispatcher.handle_close()  # also frees its buffered output
            wasyncore.dispatcher.close(self._server)  # the listening socket: the port is free from here on
        dispatcher_pool = self._server.task_dispatcher
        dispatcher_pool.shutdown(cancel_pending=True, timeout=STOP_GRACE)
        # A worker thread that finishes a request pulls the trigger (a pipe). Closed while one may
        # still run, its descriptor could be reused by then, and the pull would write into that.
        if not dispatcher_pool.threads:
            self._server.close()

    def stop(self) -> None:
        """Stop serving: the port is free when this returns. Safe to call twice; not from inside a request."""
        with self._lock:
            self._stopping = True
            if not self._closed and self._thread.is_alive():
                self._server.pull_trigger()  # wake the loop now, not at its next timeout
        if self._thread.ident is None:  # never started
            self._close()
        else:
            self._thread.join(timeout=STOP_GRACE + 5)
