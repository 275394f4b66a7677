"""Test helpers: a local mock of Slack's Web API, and signed requests as Slack sends them.

:class:`MockSlack` is a ``ThreadingHTTPServer`` speaking the Web API methods the bot uses
(``auth.test``, ``chat.postMessage``, ``chat.update``, ``chat.postEphemeral``, ``views.open``,
``usergroups.users.list``, ``files.getUploadURLExternal`` / ``completeUploadExternal`` and the
upload itself, ``apps.connections.open``) plus ``response_url`` posts. It records every call so
tests can assert on what the bot said, and can answer 429 with ``Retry-After`` or fail a method
on demand. Point a ``WebClient`` at it with ``base_url=mock.api_url`` (or ``SLACK_API_URL``).
It follows the pattern of the mock servers in bolt-python's and slack-sdk's own test suites.

:func:`signed_headers` computes Slack's v0 request signature (HMAC-SHA256 over
``v0:{timestamp}:{body}`` with the signing secret), and the ``*_body`` helpers build the
form bodies of slash commands and interactive payloads.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import itertools
import json
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

BOT_USER = "UBOTEKS01"
TEAM = "T0TEAM001"


@dataclass
class Call:
    """One request the mock received."""

    method: str  # Web API method ("chat.postMessage"), or "response_url" / "upload"
    params: dict[str, Any]
    headers: dict[str, str]
    at: float  # time.monotonic() when it arrived
    status: int = 200
    path: str = ""

    def blocks(self) -> list[dict[str, Any]]:
        raw = self.params.get("blocks")
        if isinstance(raw, str):
            return list(json.loads(raw))
        return list(raw or [])

    def view(self) -> dict[str, Any]:
        """The view of a views.open call (sent as JSON or as a form field)."""
        raw = self.params.get("view")
        return dict(json.loads(raw)) if isinstance(raw, str) else dict(raw or {})

    def text_all(self) -> str:
        """The message text and every text inside its blocks, joined (for assertions)."""
        out = [str(self.params.get("text") or "")]

        def walk(v: Any) -> None:
            if isinstance(v, dict):
                for k, x in v.items():
                    if k == "text" and isinstance(x, str):
                        out.append(x)
                    else:
                        walk(x)
            elif isinstance(v, list):
                for x in v:
                    walk(x)

        walk(self.blocks())
        if isinstance(self.params.get("view"), str | dict):
            view = self.params["view"]
            walk(json.loads(view) if isinstance(view, str) else view)
        return "\n".join(out)


@dataclass
class _Fault:
    status: int = 429
    retry_after: int | None = 1
    times: int = 1
    body: dict[str, Any] = field(default_factory=lambda: {"ok": False, "error": "ratelimited"})


class MockSlack:
    """A local Slack Web API; use as a context manager or call :meth:`start` / :meth:`stop`."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.calls: list[Call] = []
        self.groups: dict[str, list[str]] = {}
        self.failing_groups: set[str] = set()
        self.files: dict[str, bytes] = {}
        self.socket_url: str | None = None
        self._faults: dict[str, _Fault] = {}
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._ts = itertools.count(1)
        self._server = ThreadingHTTPServer((host, 0), self._handler())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None
        self.host = host
        self.port = self._server.server_address[1]

    # -- lifecycle ---------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        """What to pass as ``base_url`` / ``SLACK_API_URL``."""
        return f"{self.url}/api/"

    def response_url(self, name: str = "cmd") -> str:
        return f"{self.url}/response/{name}"

    def start(self) -> MockSlack:
        self._thread = threading.Thread(target=self._server.serve_forever, name="mock-slack", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> MockSlack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- test controls -----------------------------------------------------------------------
    def rate_limit(self, method: str, retry_after: int = 1, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` with 429 and ``Retry-After``."""
        with self._lock:
            self._faults[method] = _Fault(429, retry_after, times)

    def fail(self, method: str, error: str = "internal_error", times: int = 1_000_000, status: int = 200) -> None:
        """Answer ``method`` with ``{"ok": false, "error": ...}`` (Slack's way) or an HTTP error status."""
        with self._lock:
            self._faults[method] = _Fault(status, None, times, {"ok": False, "error": error})

    def heal(self, method: str) -> None:
        with self._lock:
            self._faults.pop(method, None)

    # -- inspection --------------------------------------------------------------------------
    def of(self, method: str) -> list[Call]:
        """Calls of ``method`` that were answered (not the 429s), in order."""
        with self._lock:
            return [c for c in self.calls if c.method == method and c.status == 200]

    def all(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, predicate: Callable[[MockSlack], Any], timeout: float = 30.0, what: str = "") -> Any:
        """Wait until ``predicate(self)`` is truthy; returns its value, or raises AssertionError."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate(self)
            if value:
                return value
            if time.monotonic() >= deadline:
                with self._lock:
                    summary = ", ".join(c.method for c in self.calls[-30:])
                raise AssertionError(f"timed out waiting for {what or predicate}; last calls: {summary}")
            with self._cond:
                self._cond.wait(0.1)  # woken early by any new call

    def messages(self, channel: str | None = None, thread_ts: str | None = None) -> list[Call]:
        """chat.postMessage calls (optionally in one channel / one thread)."""
        out = []
        for c in self.of("chat.postMessage"):
            if channel and c.params.get("channel") != channel:
                continue
            if thread_ts is not None and c.params.get("thread_ts") != thread_ts:
                continue
            out.append(c)
        return out

    def updates(self, ts: str) -> list[Call]:
        """chat.update calls that edited the message ``ts``."""
        return [c for c in self.of("chat.update") if c.params.get("ts") == ts]

    def ts_of(self, call: Call) -> str:
        return str(call.params["_ts"])

    # -- the server --------------------------------------------------------------------------
    def _record(self, call: Call) -> None:
        with self._cond:
            self.calls.append(call)
            self._cond.notify_all()

    def _fault_for(self, method: str) -> _Fault | None:
        with self._lock:
            f = self._faults.get(method)
            if f is None or f.times <= 0:
                return None
            f.times -= 1
            return f

    def _answer(self, method: str, params: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
        auth = headers.get("authorization", "")
        if method == "apps.connections.open":
            if not auth.startswith("Bearer xapp-"):
                return {"ok": False, "error": "not_allowed_token_type"}
            return {"ok": True, "url": self.socket_url or "ws://127.0.0.1:1/"}
        if not auth.startswith("Bearer xox"):
            return {"ok": False, "error": "not_authed"}
        if method == "auth.test":
            return {"ok": True, "url": "https://example.slack.com/", "team": "Example", "user": "eks", "team_id": TEAM,
                    "user_id": BOT_USER, "bot_id": "BEKS00001"}  # fmt: skip
        if method == "chat.postMessage":
            ts = f"{int(time.time())}.{next(self._ts):06d}"
            params["_ts"] = ts
            return {"ok": True, "channel": params.get("channel"), "ts": ts, "message": {"text": params.get("text"), "ts": ts}}
        if method == "chat.update":
            return {"ok": True, "channel": params.get("channel"), "ts": params.get("ts"), "text": params.get("text")}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": f"{int(time.time())}.{next(self._ts):06d}"}
        if method in ("views.open", "views.update", "views.push"):
            return {"ok": True, "view": {"id": f"V{next(self._ts):08d}"}}
        if method == "usergroups.users.list":
            group = str(params.get("usergroup"))
            if group in self.failing_groups:
                return {"ok": False, "error": "missing_scope"}
            if group not in self.groups:
                return {"ok": False, "error": "no_such_subteam"}
            return {"ok": True, "users": list(self.groups[group])}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._ts):08d}"
            return {"ok": True, "upload_url": f"{self.url}/upload/{file_id}", "file_id": file_id}
        if method == "files.completeUploadExternal":
            files = params.get("files")
            files = json.loads(files) if isinstance(files, str) else (files or [])
            return {"ok": True, "files": [{"id": f["id"], "title": f.get("title")} for f in files]}
        return {"ok": False, "error": "unknown_method"}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        mock = self

        class Handler(BaseHTTPRequestHandler):
            """Answers Web API calls, uploads and response_url posts; records each one."""

            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet: pytest shows failures anyway
                pass

            def _send(self, status: int, payload: dict[str, Any] | str, extra: dict[str, str] | None = None) -> None:
                body = (payload if isinstance(payload, str) else json.dumps(payload)).encode()
                self.send_response(status)
                ctype = "text/plain" if isinstance(payload, str) else "application/json; charset=utf-8"
                self.send_header("content-type", ctype)
                self.send_header("content-length", str(len(body)))
                for k, v in (extra or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                self.do_POST()

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                parsed = urllib.parse.urlparse(self.path)
                headers = {k.lower(): v for k, v in self.headers.items()}
                now = time.monotonic()
                if parsed.path.startswith("/upload/"):
                    mock.files[parsed.path.rsplit("/", 1)[1]] = raw
                    mock._record(Call("upload", {"bytes": len(raw)}, headers, now, path=parsed.path))
                    self._send(200, "OK")
                    return
                if parsed.path.startswith("/response/"):
                    params = json.loads(raw or b"{}")
                    mock._record(Call("response_url", params, headers, now, path=parsed.path))
                    self._send(200, "ok")
                    return
                method = parsed.path.removeprefix("/api/")
                params = _params(raw, headers.get("content-type", ""), parsed.query)
                fault = mock._fault_for(method)
                if fault is not None:
                    mock._record(Call(method, params, headers, now, status=fault.status, path=parsed.path))
                    extra = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
                    self._send(fault.status, fault.body, extra)
                    return
                answer = mock._answer(method, params, headers)
                mock._record(Call(method, params, headers, now, path=parsed.path))
                self._send(200, answer)

        return Handler


def _params(raw: bytes, content_type: str, query: str) -> dict[str, Any]:
    if raw and "json" in content_type:
        return dict(json.loads(raw))
    text = raw.decode() if raw else query
    return {k: v[0] for k, v in urllib.parse.parse_qs(text, keep_blank_values=True).items()}


# -- requests as Slack sends them -------------------------------------------------------------------


def signature(secret: str, timestamp: str, body: str) -> str:
    """Slack's v0 signature of ``body`` sent at ``timestamp``."""
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(secret: str, body: str, timestamp: float | None = None) -> dict[str, str]:
    """The headers Slack sends with ``body``: content type, timestamp and signature."""
    ts = str(int(time.time() if timestamp is None else timestamp))
    return {
        "content-type": "application/x-www-form-urlencoded",
        "x-slack-request-timestamp": ts,
        "x-slack-signature": signature(secret, ts, body),
    }


def command_body(
    text: str,
    *,
    user: str,
    channel: str,
    response_url: str,
    command: str = "/eks",
    team: str = TEAM,
    trigger_id: str = "13345224609.738474920.8088930838d88f008e0",
) -> str:
    """The form body of a slash command."""
    return urllib.parse.urlencode(
        {
            "token": "verification-token-unused",
            "team_id": team,
            "team_domain": "example",
            "channel_id": channel,
            "channel_name": "platform",
            "user_id": user,
            "user_name": user.lower(),
            "command": command,
            "text": text,
            "api_app_id": "A0EKSASSIST",
            "response_url": response_url,
            "trigger_id": trigger_id,
        }
    )


def interactive_body(payload: dict[str, Any]) -> str:
    """The form body of an interactive payload (block_actions, view_submission)."""
    return urllib.parse.urlencode({"payload": json.dumps(payload)})


def block_action(
    action_id: str,
    value: str,
    *,
    user: str,
    channel: str,
    message_ts: str,
    team: str = TEAM,
    response_url: str = "",
    action_ts: str | None = None,
) -> dict[str, Any]:
    """A block_actions payload for one button click on a message."""
    return {
        "type": "block_actions",
        "team": {"id": team, "domain": "example"},
        "user": {"id": user, "username": user.lower(), "team_id": team},
        "api_app_id": "A0EKSASSIST",
        "token": "verification-token-unused",
        "container": {"type": "message", "message_ts": message_ts, "channel_id": channel, "is_ephemeral": False},
        "trigger_id": f"trigger-{message_ts}-{user}",
        "channel": {"id": channel, "name": "platform"},
        "message": {"type": "message", "ts": message_ts, "text": "", "blocks": []},
        "response_url": response_url,
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": f"decide:{value}",
                "value": value,
                "text": {"type": "plain_text", "text": action_id},
                "action_ts": action_ts or f"{time.time():.6f}",
            }
        ],
    }


def view_submission(view: dict[str, Any], values: dict[str, Any], *, user: str, team: str = TEAM) -> dict[str, Any]:
    """A view_submission payload for ``view`` (as the bot opened it) filled with ``values``."""
    submitted = dict(view)
    submitted["id"] = "V0SUBMITTED"
    submitted["state"] = {"values": values}
    return {
        "type": "view_submission",
        "team": {"id": team, "domain": "example"},
        "user": {"id": user, "username": user.lower(), "team_id": team},
        "api_app_id": "A0EKSASSIST",
        "token": "verification-token-unused",
        "trigger_id": "trigger-view",
        "view": submitted,
    }


# -- Socket Mode ----------------------------------------------------------------------------------

_WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class MockSocketMode:
    """A minimal Socket Mode endpoint: WebSocket handshake, envelopes out, acks in.

    Register it with ``mock_slack.socket_url = socket_mode.url`` so ``apps.connections.open``
    hands the bot its address. :meth:`send` pushes an envelope (a slash command, an
    interaction) to the connected bot; :meth:`ack_for` waits for the bot's acknowledgement.
    Pings are answered with pongs, as Slack does.
    """

    def __init__(self, host: str = "127.0.0.1") -> None:
        import socket

        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, 0))
        self._sock.listen(4)
        self.url = f"ws://{host}:{self._sock.getsockname()[1]}/link/?ticket=test"
        self.acks: dict[str, dict[str, Any]] = {}
        self.connected = threading.Event()
        self._conn: Any = None
        self._send_lock = threading.Lock()
        self._cond = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._serve, name="mock-socket-mode", daemon=True)

    def start(self) -> MockSocketMode:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._closed = True
        for s in (self._conn, self._sock):
            if s is not None:
                with contextlib.suppress(OSError):
                    s.close()

    def __enter__(self) -> MockSocketMode:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def send(self, envelope_type: str, payload: dict[str, Any], envelope_id: str) -> None:
        """Push one envelope to the bot (it must have connected)."""
        assert self.connected.wait(30), "the bot never connected over Socket Mode"
        body = {"envelope_id": envelope_id, "type": envelope_type, "payload": payload, "accepts_response_payload": True}
        self._frame(1, json.dumps(body).encode())

    def ack_for(self, envelope_id: str, timeout: float = 10.0) -> dict[str, Any]:
        """The bot's ack of ``envelope_id`` (its ``payload`` is the ack's response, if any)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while envelope_id not in self.acks:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no Socket Mode ack for {envelope_id}")
                self._cond.wait(left)
            return self.acks[envelope_id]

    def _frame(self, opcode: int, data: bytes) -> None:
        import struct

        head = bytes([0x80 | opcode])
        n = len(data)
        if n <= 125:
            head += bytes([n])
        elif n <= 0xFFFF:
            head += bytes([126]) + struct.pack("!H", n)
        else:
            head += bytes([127]) + struct.pack("!Q", n)
        with self._send_lock:
            self._conn.sendall(head + data)

    def _read(self, n: int) -> bytes:
        out = b""
        while len(out) < n:
            chunk = self._conn.recv(n - len(out))
            if not chunk:
                raise ConnectionError("closed")
            out += chunk
        return out

    def _serve(self) -> None:
        import base64
        import struct

        try:
            self._conn, _ = self._sock.accept()
            request = b""
            while b"\r\n\r\n" not in request:
                request += self._conn.recv(4096)
            key = next(
                line.split(":", 1)[1].strip()
                for line in request.decode().split("\r\n")
                if line.lower().startswith("sec-websocket-key:")
            )
            accept = base64.b64encode(hashlib.sha1((key + _WS_GUID).encode()).digest()).decode()
            self._conn.sendall(
                (
                    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    f"Sec-WebSocket-Accept: {accept}\r\n\r\n"
                ).encode()
            )
            self._frame(1, json.dumps({"type": "hello", "num_connections": 1}).encode())
            self.connected.set()
            while not self._closed:
                b1, b2 = self._read(2)
                opcode, masked, n = b1 & 0x0F, b2 & 0x80, b2 & 0x7F
                if n == 126:
                    n = struct.unpack("!H", self._read(2))[0]
                elif n == 127:
                    n = struct.unpack("!Q", self._read(8))[0]
                mask = self._read(4) if masked else b"\0\0\0\0"
                data = bytes(b ^ mask[i % 4] for i, b in enumerate(self._read(n)))
                if opcode == 9:  # ping
                    self._frame(10, data)
                elif opcode == 8:  # close
                    return
                elif opcode == 1:
                    msg = json.loads(data)
                    with self._cond:
                        self.acks[str(msg.get("envelope_id"))] = msg
                        self._cond.notify_all()
        except (OSError, ConnectionError, ValueError):
            return
