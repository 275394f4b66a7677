"""Serving the bot: HTTP (Bolt's ASGI adapter under uvicorn) or Socket Mode.

HTTP mode serves ``POST /slack/events`` (commands, interactivity) and ``GET /healthz``.
Bolt's ASGI adapter calls the synchronous ``App.dispatch`` on the event loop, so one slow
dispatch would hold up every other request; :class:`ThreadedSlackRequestHandler` runs each
dispatch on a thread instead, and the loop keeps accepting. Dispatch itself only waits for the
listener's ack: the slow work happens after it, in lazy listeners.

Socket Mode connects out to Slack with the app-level token (no public URL needed), using
Bolt's built-in WebSocket client.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import socket
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt.adapter.asgi import SlackRequestHandler
from slack_bolt.adapter.asgi.http_request import AsgiHttpRequest
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse

from .app import Bot

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class ThreadedSlackRequestHandler(SlackRequestHandler):
    """Bolt's ASGI handler, dispatching on a thread pool instead of the event loop."""

    def __init__(self, app: Any, path: str = EVENTS_PATH, workers: int = 32) -> None:
        super().__init__(app, path)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dispatch")

    async def dispatch(self, request: AsgiHttpRequest) -> BoltResponse:
        bolt_request = BoltRequest(body=await request.get_raw_body(), query=request.query_string, headers=request.get_headers())
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self.app.dispatch, bolt_request)


def asgi_app(bot: Bot) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """The bot as an ASGI application: Slack's endpoint plus a health check."""
    handler = ThreadedSlackRequestHandler(bot.app)

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
    try:
        server.run(sockets=[sock])
    finally:
        bot.close()
        sock.close()


def serve_socket(bot: Bot) -> None:
    """Serve over Socket Mode until interrupted (needs SLACK_APP_TOKEN)."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler
    from slack_sdk.errors import SlackApiError

    from assistant.errors import InputError

    handler = SocketModeHandler(bot.app, app_token=bot.config.app_token)
    try:
        try:
            handler.connect()
        except SlackApiError as exc:  # apps.connections.open refused the app-level token
            raise InputError(f"Slack refused SLACK_APP_TOKEN for Socket Mode: {exc.response.get('error')}") from None
        bot.housekeeper.start()
        threading.Event().wait()  # serve until Ctrl-C (KeyboardInterrupt) or the process is stopped
    finally:
        handler.close()
        bot.close()
