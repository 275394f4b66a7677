"""Slack bot fixtures: a mock Slack Web API, a policy, and the real Bolt app served over HTTP.

Only Slack is mocked, and only as a local HTTP server (:class:`tests.doubles.mock_slack.MockSlack`).
The bot is the real one: Bolt's signature check and dispatch, the ASGI adapter under uvicorn,
the engine, the store and (in most modules) a real in-process sandbox.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.doubles.mock_slack import MockSlack, block_action, command_body, interactive_body, signed_headers, view_submission

from ..cli.conftest import cli  # noqa: F401 - re-exported fixture
from ..conftest import EXAMPLES

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
CHANNEL = "C0PLATFORM"
OTHER_CHANNEL = "C0RANDOM1"
REQUESTER = "U0CAROL"
ALICE = "U0ALICE"
BOB = "U0BOB"
MALLORY = "U0MALLORY"
GROUPIE = "U0GROUPIE"
ADMIN = "U0ADMIN"

POLICY = """\
channels: [C0PLATFORM]
admins: [U0ADMIN]
specs: ./specs
approvalTtl: 1h
environments:
  prod:
    clusters: ["prod-*"]
    approvers: {users: [U0ALICE, U0BOB], groups: [S0SRE]}
    requiredApprovals: 2
  dev:
    clusters: ["*"]
    approvers: {users: [U0ALICE, U0BOB], groups: [S0DEVS]}
"""

SMALL_SPEC = """\
apiVersion: eks-assist/v1
kind: Cluster
metadata:
  name: {name}
  region: us-east-1
masters:
  version: "1.33"
  vpc:
    create: {{cidr: 10.0.0.0/16, azCount: 2}}
workers:
  - name: general
    instanceTypes: [t3.medium]
    scaling: {{min: 1, desired: 1, max: 2}}
kubeconfig:
  write: false
"""


@pytest.fixture
def mock_slack() -> Iterator[MockSlack]:
    with MockSlack() as mock:
        yield mock


@pytest.fixture
def policy_path(tmp_path: Path) -> Path:
    """The policy file, with a spec catalogue next to it: demo (the example), small, prod-small."""
    root = tmp_path / "bot"
    specs = root / "specs"
    specs.mkdir(parents=True)
    # The bot's host is nobody's workstation: catalogue specs do not write a kubeconfig.
    (specs / "demo.yaml").write_text((EXAMPLES / "demo.yaml").read_text() + "\nkubeconfig:\n  write: false\n")
    for name in ("small", "prod-small", "drift", "twice", "race"):
        (specs / f"{name}.yaml").write_text(SMALL_SPEC.format(name=name))
    path = root / "policy.yaml"
    path.write_text(POLICY)
    return path


@dataclass
class Reply:
    """The bot's HTTP answer to one request."""

    status: int
    body: str
    seconds: float

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def text(self) -> str:
        """The ack's text: Bolt answers a plain ``ack(text=...)`` as text, one with blocks as JSON."""
        try:
            return str(json.loads(self.body)["text"])
        except (ValueError, KeyError, TypeError):
            return self.body


@dataclass
class BotHarness:
    """The running bot, and helpers that send it what Slack would send."""

    url: str
    mock: MockSlack
    bot: Any
    secret: str = SECRET
    clock_offset: list[float] = field(default_factory=lambda: [0.0])

    def post(self, body: str, headers: dict[str, str] | None = None, path: str = "/slack/events") -> Reply:
        hdrs = headers if headers is not None else signed_headers(self.secret, body)
        req = urllib.request.Request(self.url + path, data=body.encode(), headers=hdrs, method="POST")
        t0 = time.monotonic()
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return Reply(resp.status, resp.read().decode(), time.monotonic() - t0)
        except urllib.error.HTTPError as exc:
            with exc:
                return Reply(exc.code, exc.read().decode(), time.monotonic() - t0)

    def get(self, path: str) -> Reply:
        t0 = time.monotonic()
        try:
            with urllib.request.urlopen(self.url + path, timeout=30) as resp:
                return Reply(resp.status, resp.read().decode(), time.monotonic() - t0)
        except urllib.error.HTTPError as exc:
            with exc:
                return Reply(exc.code, exc.read().decode(), time.monotonic() - t0)

    def command(self, text: str, *, user: str = REQUESTER, channel: str = CHANNEL, name: str = "cmd") -> Reply:
        body = command_body(text, user=user, channel=channel, response_url=self.mock.response_url(name))
        return self.post(body)

    def click(self, action_id: str, value: str, *, user: str, message_ts: str, channel: str = CHANNEL) -> Reply:
        payload = block_action(action_id, value, user=user, channel=channel, message_ts=message_ts)
        return self.post(interactive_body(payload))

    def submit(self, view: dict[str, Any], values: dict[str, Any], *, user: str = REQUESTER) -> Reply:
        return self.post(interactive_body(view_submission(view, values, user=user)))

    def responses(self, name: str = "cmd") -> list[dict[str, Any]]:
        return [c.params for c in self.mock.of("response_url") if c.path == f"/response/{name}"]

    def wait_response(self, name: str = "cmd", count: int = 1, timeout: float = 60) -> dict[str, Any]:
        """The ``count``-th response_url post for command ``name``."""
        return self.mock.wait_for(lambda m: len(self.responses(name)) >= count and self.responses(name)[count - 1], timeout)

    def approval_messages(self, channel: str = CHANNEL) -> list[Any]:
        return [c for c in self.mock.messages(channel) if "thread_ts" not in c.params and _has_action(c, "eks_approve")]

    def wait_approval(self, count: int = 1, timeout: float = 60) -> Any:
        """The ``count``-th approval message posted (a top-level message with an Approve button)."""
        return self.mock.wait_for(
            lambda m: len(self.approval_messages()) >= count and self.approval_messages()[count - 1], timeout
        )

    def request_id(self, message: Any) -> str:
        for b in message.blocks():
            if b.get("type") == "actions":
                for el in b["elements"]:
                    if el.get("action_id") == "eks_approve":
                        return str(el["value"])
        raise AssertionError("no Approve button in the message")

    def last_update_text(self, ts: str) -> str:
        ups = self.mock.updates(ts)
        return ups[-1].text_all() if ups else ""

    def wait_update(self, ts: str, needle: str, timeout: float = 60) -> str:
        return str(
            self.mock.wait_for(lambda m: needle in self.last_update_text(ts) and self.last_update_text(ts), timeout, needle)
        )


def _has_action(call: Any, action_id: str) -> bool:
    return any(
        b.get("type") == "actions" and any(el.get("action_id") == action_id for el in b.get("elements", []))
        for b in call.blocks()
    )


def start_bot(
    mock: MockSlack,
    policy_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    pace_interval: float = 0.05,
    sandbox: bool = True,
    options: Any = None,
    **sizes: int,
) -> Iterator[BotHarness]:
    """Configure the environment, build the bot and serve it with uvicorn on a free port."""
    from assistant.run.runner import RunOptions
    from slackbot.app import create_bot
    from slackbot.config import load_config

    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test-token")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SECRET)
    monkeypatch.setenv("SLACK_API_URL", mock.api_url)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    config = load_config(policy_path=str(policy_path), socket_mode=False)
    offset = [0.0]
    clock: Callable[[], float] = lambda: time.time() + offset[0]  # noqa: E731 - tests move it forward
    bot = create_bot(
        config,
        options=options or (RunOptions(poll_min=0.05, poll_max=0.1) if sandbox else None),
        pace_interval=pace_interval,
        expiry_interval=0,
        clock=clock,
        **sizes,  # work_workers, work_queue, apply_workers
    )
    with serving(bot) as url:
        yield BotHarness(url, mock, bot, clock_offset=offset)


@contextlib.contextmanager
def serving(bot: Any) -> Iterator[str]:
    """Serve ``bot`` with uvicorn on a free port; yields its base URL. Afterwards, applies finish and the bot closes."""
    from slackbot.serve import bind, http_server

    sock = bind("127.0.0.1", 0)
    server = http_server(bot, sock)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        bot.work.close()  # the work behind the last acks, which may start applies
        for fut in list(bot.flow.applies):
            fut.result(timeout=120)
        bot.close()
        sock.close()


@pytest.fixture
def bot(mock_slack: MockSlack, policy_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[BotHarness]:
    """The bot without a sandbox (for what needs no AWS)."""
    yield from start_bot(mock_slack, policy_path, monkeypatch, sandbox=False)


@pytest.fixture(scope="module")
def module_sandbox() -> Iterator[Any]:
    """One sandbox per test module (starting one takes seconds); tests use distinct cluster names."""
    from assistant.sandbox import Sandbox

    with Sandbox(latency="fast", port=0, k8s_port=0) as sb:
        yield sb


@pytest.fixture
def sandbox(module_sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    for k, v in module_sandbox.env().items():
        monkeypatch.setenv(k, v)
    if not getattr(module_sandbox, "_warmed", False):
        # moto builds an account's backends (default VPC and so on) on first use; do that now so
        # that before/after inventories compare settled states.
        import boto3

        boto3.client("ec2", region_name="us-east-1").describe_vpcs()
        boto3.client("iam", region_name="us-east-1").list_roles()
        boto3.client("eks", region_name="us-east-1").list_clusters()
        module_sandbox._warmed = True
    return module_sandbox


@pytest.fixture
def sbot(sandbox: Any, mock_slack: MockSlack, policy_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[BotHarness]:
    """The bot on the sandbox."""
    yield from start_bot(mock_slack, policy_path, monkeypatch)
