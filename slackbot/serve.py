"""Serving the bot: HTTP (Bolt's ASGI adapter under uvicorn) or Socket Mode.

HTTP mode serves ``POST /slack/events`` (commands, interactivity) and ``GET /healthz``.
Bolt's ASGI adapter calls the synchronous ``App.dispatch`` on the event loop, so one slow
dispatch would hold up every other request; :class:`ThreadedSlackRequestHandler` runs each
dispatch on a thread instead, and the loop keeps accepting. Dispatch computes only the
listener's ack. The work behind it (:mod:`slackbot.work`) starts once the ack has been sent.

Socket Mode connects out to Slack with the app-level token (no public URL needed), using
Bolt's built-in WebSocket client; :class:`DeferringSocketModeHandler` likewise starts the work
after the ack has gone back over the socket.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import socket
import sys
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt.adapter.asgi import SlackRequestHandler
from slack_bolt.adapter.asgi.http_request import AsgiHttpRequest
from slack_bolt.adapter.asgi.http_response import AsgiHttpResponse
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.signature import SignatureVerifier

from .app import Bot
from .work import AFTER_ACK, Job, run_after_ack

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


# Slack's own payloads are a few KiB (a modal's state at most tens); anything near this is not Slack.
MAX_BODY = 1024 * 1024


def _refusal(status: int, error: str) -> BoltResponse:
    return BoltResponse(status=status, body=json.dumps({"error": error}), headers={"content-type": "application/json"})


async def _read_body(request: AsgiHttpRequest) -> bytes | None:
    """The request body, or None once it grows past :data:`MAX_BODY` (the rest is not read)."""
    chunks = bytearray()
    while True:
        chunk = await request.receive()
        if chunk["type"] != "http.request":
            return bytes(chunks)
        chunks.extend(chunk.get("body", b""))
        if len(chunks) > MAX_BODY:
            return None
        if not chunk.get("more_body", False):
            return bytes(chunks)


class ThreadedSlackRequestHandler(SlackRequestHandler):
    """Bolt's ASGI handler, dispatching on a thread pool instead of the event loop.

    Before Bolt sees a request it is checked here: size, UTF-8, and the Slack signature. Bolt
    parses the body while building its request object, before its own signature check, and a
    body it cannot parse (``payload=null``, a non-numeric timestamp, bytes that are not UTF-8)
    raised out of the ASGI app as a 500 with a traceback in the log. Unsigned input is now
    refused with 401 without being parsed at all, and a signed body that does not parse gets 400.
    """

    def __init__(self, app: Any, path: str = EVENTS_PATH, workers: int = 32, signing_secret: str | None = None) -> None:
        super().__init__(app, path)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dispatch")
        self._verifier = SignatureVerifier(signing_secret) if signing_secret else None

    def _signed(self, raw: bytes, headers: dict[str, Any]) -> bool:
        if self._verifier is None:
            return True  # Bolt's own check still runs; the handler was built without the secret
        timestamp, signature = headers.get("x-slack-request-timestamp"), headers.get("x-slack-signature")
        if not isinstance(timestamp, str) or not isinstance(signature, str) or not timestamp.isascii():
            return False
        try:
            return self._verifier.is_valid(raw, timestamp, signature)
        except (ValueError, TypeError, OverflowError):  # int() of a timestamp that is not a number
            return False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not (scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == self.path):
            await super().__call__(scope, receive, send)
            return
        jobs: list[Job] = []
        answer = await self._dispatch(AsgiHttpRequest(scope, receive), jobs)  # type: ignore[arg-type]
        response = AsgiHttpResponse(status=answer.status, headers=answer.headers, body=answer.body)
        try:
            await send(response.get_response_start())
            await send(response.get_response_body())
        finally:
            if jobs:  # the ack is out: now the work may start (it is only handed to the pool here)
                self._pool.submit(run_after_ack, jobs)

    async def dispatch(self, request: AsgiHttpRequest) -> BoltResponse:
        """Dispatch without deferring: work behind the ack starts as the listener hands it over."""
        return await self._dispatch(request, None)

    async def _dispatch(self, request: AsgiHttpRequest, jobs: list[Job] | None) -> BoltResponse:
        raw = await _read_body(request)
        if raw is None:
            return _refusal(413, f"request body larger than {MAX_BODY} bytes")
        try:
            headers = {k.lower(): v for k, v in request.get_headers().items()}
            body = raw.decode("utf-8")
        except UnicodeDecodeError:
            return _refusal(400, "request is not UTF-8 text")
        if not self._signed(raw, headers):
            return _refusal(401, "invalid request")
        try:
            bolt_request = BoltRequest(body=body, query=request.query_string, headers=headers)
        except (ValueError, TypeError, AttributeError, KeyError, IndexError):
            return _refusal(400, "malformed request body")
        if jobs is not None:
            bolt_request.context[AFTER_ACK] = jobs
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self.app.dispatch, bolt_request)


def asgi_app(bot: Bot) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """The bot as an ASGI application: Slack's endpoint plus a health check."""
    handler = ThreadedSlackRequestHandler(bot.app, signing_secret=bot.config.signing_secret)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == HEALTH_PATH and scope["method"] in ("GET", "HEAD"):
            ok = await asyncio.get_running_loop().run_in_executor(None, bot.healthy)
            body = json.dumps({"ok": ok}).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 200 if ok else 503,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        await handler(scope, receive, send)

    return app


# How often a thread holding the GIL is asked to let another run (CPython's default is 5 ms).
# The work pool plans in CPU-bound Python; the event loop and the dispatch threads need the GIL
# for moments at a time, several times per ack. Measured with benchmarks/slack_ack.py (heavy
# commands, concurrency 30, 2 cores), 1 ms took the ack p99 from about 180-220 ms to 110-135 ms.
SWITCH_INTERVAL = 0.001


def favour_acks() -> None:
    """Let the threads that ack get the GIL sooner while workers plan (a process-wide setting: serving only)."""
    sys.setswitchinterval(SWITCH_INTERVAL)


def bind(host: str, port: int) -> socket.socket:
    """A listening socket (port 0 picks a free one; the caller reads it back)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(512)
    sock.set_inheritable(True)
    return sock


def http_server(bot: Bot, sock: socket.socket, *, log_level: str = "warning") -> Any:
    """A uvicorn server for the bot on ``sock``; call ``.run(sockets=[sock])`` (blocks)."""
    import uvicorn

    config = uvicorn.Config(asgi_app(bot), log_level=log_level, lifespan="off", access_log=False, timeout_graceful_shutdown=10)
    return uvicorn.Server(config)


def serve_http(bot: Bot, host: str, port: int, *, ready: Callable[[str], None] | None = None) -> None:
    """Serve until interrupted (uvicorn handles SIGINT/SIGTERM with a graceful shutdown)."""
    sock = bind(host, port)
    actual = sock.getsockname()[1]
    url = f"http://{host}:{actual}{EVENTS_PATH}"
    if ready:
        ready(url)
    server = http_server(bot, sock, log_level="info")
    if threading.current_thread() is threading.main_thread():
        # uvicorn shuts down gracefully on SIGTERM, then re-raises it with the previous handler in
        # place; a no-op handler there lets the bot's own cleanup run and the process exit 0.
        signal.signal(signal.SIGTERM, lambda signum, frame: None)
    bot.housekeeper.start()
    favour_acks()
    try:
        server.run(sockets=[sock])
    finally:
        bot.close()
        sock.close()


def serve_socket(bot: Bot) -> None:
    """Serve over Socket Mode until interrupted (needs SLACK_APP_TOKEN)."""
    from slack_sdk.errors import SlackApiError

    from assistant.errors import InputError

    handler = _socket_handler_class()(bot.app, app_token=bot.config.app_token)
    try:
        try:
            handler.connect()
        except SlackApiError as exc:  # apps.connections.open refused the app-level token
            raise InputError(f"Slack refused SLACK_APP_TOKEN for Socket Mode: {exc.response.get('error')}") from None
        bot.housekeeper.start()
        favour_acks()
        threading.Event().wait()  # serve until Ctrl-C (KeyboardInterrupt) or the process is stopped
    finally:
        handler.close()
        bot.close()


def _socket_handler_class() -> type[Any]:
    """Bolt's Socket Mode handler, starting the work behind each ack once the ack is sent (imported on use)."""
    import time

    from slack_bolt.adapter.socket_mode import SocketModeHandler
    from slack_bolt.adapter.socket_mode.internals import build_headers, send_response

    class DeferringSocketModeHandler(SocketModeHandler):  # type: ignore[misc]
        """Like Bolt's own ``handle``, plus the jobs listeners left to run after the ack."""

        def handle(self, client: Any, req: Any) -> None:
            start = time.time()
            jobs: list[Job] = []
            bolt_request = BoltRequest(mode="socket_mode", body=req.payload, headers=build_headers(req))
            bolt_request.context[AFTER_ACK] = jobs
            bolt_response = self.app.dispatch(bolt_request)
            send_response(client, req, bolt_response, start)
            run_after_ack(jobs)

    return DeferringSocketModeHandler
