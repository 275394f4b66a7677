"""``slackbot.notify`` (what the CLI uses to post requests) and the Web API client's 429 handling."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from assistant.governance.policy import load_policy
from assistant.governance.requests import ChangeRequest
from slackbot import notify
from tests.doubles.mock_slack import MockSlack

from ..cli.conftest import CliRunner
from .conftest import ALICE, CHANNEL, BotHarness


def _request(plan_text: str = "Plan: 1 to create\nPlan hash: " + "cd" * 32, **over: Any) -> ChangeRequest:
    fields: dict[str, Any] = {
        "id": "20261124-120000-a1b2c3",
        "cluster": "demo",
        "kind": "apply",
        "playbook": "cluster",
        "spec_file": "demo.yaml",
        "spec_source": "",
        "plan_hash": "cd" * 32,
        "plan": {},
        "plan_text": plan_text,
        "summary": {"create": 1, "update": 0, "replace": 0, "delete": 0, "no-op": 0},
        "changes": [{"op": "create", "resource": "VPC demo-vpc", "step": "vpc"}],
        "warnings": ["subnet-1 is too small for node group general at max size"],
        "account": "123456789012",
        "region": "us-east-1",
        "requester": "U0CAROL",
        "environment": "dev",
        "required_approvals": 1,
        "status": "pending",
        "created_at": time.time(),
        "expires_at": time.time() + 3600,
        "executor": "cli",
    }
    fields.update(over)
    return ChangeRequest(**fields)


@pytest.fixture
def env(mock_slack: MockSlack, monkeypatch: pytest.MonkeyPatch) -> MockSlack:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-cli-token")
    monkeypatch.setenv("SLACK_API_URL", mock_slack.api_url)
    return mock_slack


def test_post_request_goes_to_the_notify_channel(env: MockSlack, policy_path: Path) -> None:
    policy = load_policy(policy_path)
    posted = notify.post_request(_request(), policy)
    call = env.of("chat.postMessage")[0]
    assert posted == {"channel": CHANNEL, "ts": env.ts_of(call)}
    text = call.text_all()
    assert "Apply cluster demo" in text and ":warning: subnet-1 is too small" in text and "```Plan: 1 to create" in text
    assert call.headers["authorization"] == "Bearer xoxb-cli-token"
    policy_path.write_text(
        policy_path.read_text().replace("channels: [C0PLATFORM]", "channels: [C0PLATFORM]\nnotifyChannel: C0NOTIFY")
    )
    assert notify.post_request(_request(), load_policy(policy_path))["channel"] == "C0NOTIFY"


def test_long_plans_go_in_the_thread_as_a_file(env: MockSlack, policy_path: Path) -> None:
    long_plan = "\n".join(f"+ resource {i}" for i in range(1000))
    posted = notify.post_request(_request(plan_text=long_plan), load_policy(policy_path))
    done = env.of("files.completeUploadExternal")[0]
    assert done.params["thread_ts"] == posted["ts"] and done.params["channel_id"] == CHANNEL
    assert b"+ resource 999" in next(iter(env.files.values()))


def test_without_files_write_the_plan_goes_in_threaded_messages(env: MockSlack, policy_path: Path) -> None:
    env.fail("files.getUploadURLExternal", "missing_scope")
    long_plan = "\n".join(f"+ resource {i} " + "x" * 50 for i in range(1000))
    posted = notify.post_request(_request(plan_text=long_plan), load_policy(policy_path))
    thread = env.messages(CHANNEL, thread_ts=posted["ts"])
    assert len(thread) == 2  # ~67k characters: two messages of up to 12 sections each
    assert "+ resource 0 " in thread[0].text_all() and "+ resource 999 " in thread[-1].text_all()
    for c in thread:
        assert len(c.blocks()) <= 50 and all(len(b["text"]["text"]) <= 3000 for b in c.blocks())


def test_post_text_replies_in_the_thread(env: MockSlack) -> None:
    req = _request(origin={"channel": CHANNEL, "ts": "1700000000.000100"})
    notify.post_text(req, "Applied from the CLI. token xoxb-1-2-3")
    call = env.of("chat.postMessage")[0]
    assert call.params["thread_ts"] == "1700000000.000100" and "xoxb-1-2-3" not in call.params["text"]
    assert notify.post_text(_request(), "not posted anywhere") is None


def test_update_request_edits_the_message(env: MockSlack) -> None:
    req = _request(status="succeeded", approvals=[{"approver": ALICE, "at": 1.0}], origin={"channel": CHANNEL, "ts": "1.2"})
    notify.update_request(req, note="Applied by the command line.")
    call = env.of("chat.update")[0]
    assert call.params["ts"] == "1.2" and "Applied by <@U0ALICE>" in call.text_all()


def test_429_is_retried_after_retry_after(env: MockSlack, policy_path: Path) -> None:
    env.rate_limit("chat.postMessage", retry_after=1)
    posted = notify.post_request(_request(), load_policy(policy_path))
    attempts = env.all("chat.postMessage")
    assert [a.status for a in attempts] == [429, 200]
    assert attempts[1].at - attempts[0].at >= 1.0  # waited at least Retry-After
    assert posted["ts"] == env.ts_of(attempts[1])


def test_missing_token_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.errors import InputError

    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    with pytest.raises(InputError, match="SLACK_BOT_TOKEN is not set"):
        notify.make_client()


def test_bot_honours_429_too(bot: BotHarness) -> None:
    bot.mock.rate_limit("chat.postEphemeral", retry_after=1)
    bot.click("eks_approve", "20260101-000000-abcdef", user=ALICE, message_ts="1.000001", channel="C0ELSEWHERE")
    bot.mock.wait_for(lambda m: m.of("chat.postEphemeral"), 15)
    attempts = bot.mock.all("chat.postEphemeral")
    assert [a.status for a in attempts] == [429, 200] and attempts[1].at - attempts[0].at >= 1.0


@pytest.mark.slow
def test_cli_request_is_approved_in_slack_and_applied_by_the_bot(
    sbot: BotHarness,
    cli: CliRunner,
    policy_path: Path,
) -> None:
    spec = policy_path.parent / "specs" / "small.yaml"
    r = cli(
        "apply", "-f", str(spec), "--request-approval", "slack", "--no-wait", "--requester", "U0DAVE",
        "--policy", str(policy_path), "-o", "json",
    )  # fmt: skip
    assert r.code == 0, r.err
    request_id = json.loads(r.out)["requestId"]
    msg = sbot.wait_approval()
    assert sbot.request_id(msg) == request_id and "<@U0DAVE> requests *apply*" in msg.text_all()
    sbot.mock.wait_for(lambda m: sbot.bot.flow.requests.get(request_id).origin.get("ts"), 10, "attach")
    ts = sbot.mock.ts_of(msg)
    sbot.click("eks_approve", request_id, user=ALICE, message_ts=ts)
    sbot.wait_update(ts, ":white_check_mark: Applied", timeout=120)
    assert sbot.bot.engines.store.get_run(request_id).status == "succeeded"
