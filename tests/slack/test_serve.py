"""``eks-assist slack serve``: clear configuration errors, and the real process in both modes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.doubles.mock_slack import MockSlack, MockSocketMode, command_body, signed_headers

from ..cli.conftest import CliRunner
from .conftest import CHANNEL, SECRET

CLI = [sys.executable, "-m", "assistant.cli"]


@pytest.fixture
def slack_env(mock_slack: MockSlack, monkeypatch: pytest.MonkeyPatch) -> MockSlack:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test-token")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SECRET)
    monkeypatch.setenv("SLACK_API_URL", mock_slack.api_url)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    return mock_slack


def test_missing_environment_and_policy_exit_2_listing_everything(cli: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    for k in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "EKS_ASSIST_SLACK_POLICY"):
        monkeypatch.delenv(k, raising=False)
    r = cli("slack", "serve")
    assert r.code == 2
    assert "error: SLACK_BOT_TOKEN is not set" in r.err
    assert "error: SLACK_SIGNING_SECRET is not set" in r.err
    assert "error: no approval policy: pass --policy PATH or set EKS_ASSIST_SLACK_POLICY" in r.err
    assert "SLACK_APP_TOKEN" not in r.err  # only Socket Mode needs it

    r = cli("slack", "serve", "--socket", "--policy", "/nonexistent/policy.yaml")
    assert r.code == 2
    assert "error: SLACK_APP_TOKEN is not set" in r.err
    assert "error: approval policy file not found: /nonexistent/policy.yaml" in r.err


def test_wrong_kind_of_token_is_named_but_not_echoed(cli: CliRunner, monkeypatch: pytest.MonkeyPatch, policy_path: Path) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxp-user-token-secret")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SECRET)
    monkeypatch.setenv("SLACK_APP_TOKEN", "xoxb-not-an-app-token")
    r = cli("slack", "serve", "--socket", "--policy", str(policy_path))
    assert r.code == 2
    assert "SLACK_BOT_TOKEN is not the app's bot token: it should start with xoxb-" in r.err
    assert "SLACK_APP_TOKEN is not the app's app-level token with connections:write: it should start with xapp-" in r.err
    assert "user-token-secret" not in r.err and "not-an-app-token" not in r.err


def test_invalid_policy_is_located(cli: CliRunner, slack_env: MockSlack, tmp_path: Path) -> None:
    bad = tmp_path / "policy.yaml"
    bad.write_text("channels: [general]\nenvironments:\n  dev:\n    approvers: {users: []}\n")
    r = cli("slack", "serve", "--policy", str(bad))
    assert r.code == 2
    assert f"{bad}:1:" in r.err and "'general' is not a Slack channel ID" in r.err
    assert f"{bad}:4:" in r.err
    missing_specs = tmp_path / "p2.yaml"
    missing_specs.write_text("channels: [C0X]\nspecs: ./nope\nenvironments:\n  dev:\n    approvers: {users: [U0A]}\n")
    r = cli("slack", "serve", "--policy", str(missing_specs))
    assert r.code == 2 and "the spec catalogue directory" in r.err and "does not exist" in r.err


def test_token_refused_by_slack_exits_2(cli: CliRunner, slack_env: MockSlack, policy_path: Path) -> None:
    slack_env.fail("auth.test", "invalid_auth")
    r = cli("slack", "serve", "--policy", str(policy_path), "--port", "0")
    assert r.code == 2
    assert "Slack refused SLACK_BOT_TOKEN" in r.err and "invalid_auth" in r.err


def test_capacity_flags_are_checked_before_anything_starts(cli: CliRunner, slack_env: MockSlack, policy_path: Path) -> None:
    r = cli("slack", "serve", "--policy", str(policy_path), "--workers", "0")
    assert r.code == 2 and "--workers must be 1-256, got 0" in r.err
    r = cli("slack", "serve", "--policy", str(policy_path), "--queue-limit", "-1")
    assert r.code == 2 and "--queue-limit must be 0-100000, got -1" in r.err
    assert slack_env.of("auth.test") == []


def test_a_corrupt_store_stops_the_bot_at_start_up_with_what_to_do(
    cli: CliRunner, slack_env: MockSlack, policy_path: Path, isolated_env: Path
) -> None:
    isolated_env.mkdir(parents=True, exist_ok=True)
    (isolated_env / "state.db").write_bytes(b"this is not a database" * 100)
    r = cli("slack", "serve", "--policy", str(policy_path), "--port", "0")
    assert r.code == 1, r.err
    assert f"the state store {isolated_env / 'state.db'} is not a readable SQLite database" in r.err
    assert "internal error" not in r.err and "serving http" not in r.err
    assert (isolated_env / "state.db").read_bytes() == b"this is not a database" * 100


def test_help_path_loads_no_slack_library() -> None:
    code = (
        "import sys\n"
        "from assistant.cli import main as cli\n"
        "cli.build_parser().parse_args(['slack', 'serve', '--port', '1'])\n"
        "print(','.join(m for m in ('slack_bolt', 'slack_sdk', 'uvicorn', 'boto3', 'pydantic') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def _wait_line(proc: subprocess.Popen[str], needle: str, timeout: float = 60) -> str:
    assert proc.stderr is not None
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            if proc.poll() is not None:
                break
            continue
        seen.append(line)
        if needle in line:
            return line
    raise AssertionError(f"'{needle}' not seen; stderr so far:\n{''.join(seen)}")


@pytest.fixture
def serve_env(slack_env: MockSlack, policy_path: Path) -> Iterator[dict[str, str]]:
    env = dict(os.environ)
    env["EKS_ASSIST_SLACK_POLICY"] = str(policy_path)
    env["PYTHONUNBUFFERED"] = "1"
    yield env


@pytest.mark.slow
def test_serve_over_http_in_a_real_process(serve_env: dict[str, str], slack_env: MockSlack) -> None:
    proc = subprocess.Popen([*CLI, "slack", "serve", "--port", "0"], env=serve_env, stderr=subprocess.PIPE, text=True)
    try:
        line = _wait_line(proc, "serving http://")
        events = line.split("serving ", 1)[1].split(" ", 1)[0]
        base = events.removesuffix("/slack/events")
        with urllib.request.urlopen(base + "/healthz", timeout=10) as resp:
            assert resp.status == 200 and json.loads(resp.read()) == {"ok": True}
        body = command_body("help", user="U0CAROL", channel=CHANNEL, response_url=slack_env.response_url())
        req = urllib.request.Request(events, data=body.encode(), headers=signed_headers(SECRET, body), method="POST")
        with urllib.request.urlopen(req, timeout=10) as resp:
            assert resp.status == 200 and "/eks plan <spec-name>" in resp.read().decode()
        forged = urllib.request.Request(events, data=body.encode(), headers=signed_headers("x", body), method="POST")
        with pytest.raises(urllib.error.HTTPError) as exc:
            urllib.request.urlopen(forged, timeout=10)
        assert exc.value.code == 401
        exc.value.close()
        assert slack_env.of("auth.test"), "the bot checked its token at start-up"
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            assert proc.wait(timeout=20) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
            if proc.stderr:
                proc.stderr.close()


@pytest.mark.slow
def test_serve_in_socket_mode_in_a_real_process(serve_env: dict[str, str], slack_env: MockSlack) -> None:
    with MockSocketMode() as ws:
        slack_env.socket_url = ws.url
        serve_env["SLACK_APP_TOKEN"] = "xapp-1-A0EKS-123-abc"
        serve_env.pop("SLACK_SIGNING_SECRET")  # Socket Mode does not sign requests; it is not needed
        proc = subprocess.Popen([*CLI, "slack", "serve", "--socket"], env=serve_env, stderr=subprocess.PIPE, text=True)
        try:
            _wait_line(proc, "Socket Mode")
            assert ws.connected.wait(30)
            connect = slack_env.of("apps.connections.open")[0]
            assert connect.headers["authorization"] == "Bearer xapp-1-A0EKS-123-abc"
            payload = {"command": "/eks", "text": "help", "channel_id": CHANNEL, "user_id": "U0CAROL", "team_id": "T1",
                       "response_url": slack_env.response_url(), "trigger_id": "t"}  # fmt: skip
            ws.send("slash_commands", payload, "env-1")
            ack = ws.ack_for("env-1", timeout=20)
            assert "/eks plan <spec-name>" in json.dumps(ack["payload"])
            ws.send("slash_commands", {**payload, "text": "specs"}, "env-2")
            ws.ack_for("env-2")
            answer = slack_env.wait_for(lambda m: m.of("response_url"), 20)[0]
            assert "• `small`" in json.dumps(answer.params, ensure_ascii=False)
            ws.send("slash_commands", {**payload, "text": "apply demo", "channel_id": "C0ELSEWHERE"}, "env-3")
            assert "not accepted in this channel" in json.dumps(ws.ack_for("env-3"))
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                assert proc.wait(timeout=20) == 0
            finally:
                if proc.poll() is None:
                    proc.kill()
                if proc.stderr:
                    proc.stderr.close()


@pytest.mark.slow
def test_serve_with_sandbox_answers_from_the_sandbox(serve_env: dict[str, str], slack_env: MockSlack) -> None:
    serve_env.pop("AWS_REGION")  # the sandbox supplies the region
    proc = subprocess.Popen(
        [*CLI, "slack", "serve", "--port", "0", "--sandbox"], env=serve_env, stderr=subprocess.PIPE, text=True
    )
    try:
        assert "started an in-process sandbox" in _wait_line(proc, "sandbox")
        line = _wait_line(proc, "serving http://")
        events = line.split("serving ", 1)[1].split(" ", 1)[0]
        body = command_body("status", user="U0CAROL", channel=CHANNEL, response_url=slack_env.response_url())
        req = urllib.request.Request(events, data=body.encode(), headers=signed_headers(SECRET, body), method="POST")
        with urllib.request.urlopen(req, timeout=10) as resp:
            assert resp.status == 200
        answer = slack_env.wait_for(lambda m: m.of("response_url"), 60)[0]
        assert answer.params["text"] == "No EKS clusters."
        assert "No EKS clusters in us-east-1." in json.dumps(answer.params)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            assert proc.wait(timeout=30) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
            if proc.stderr:
                proc.stderr.close()
