"""``eks-assist apply --request-approval slack``: the real CLI posts to a mock Slack Web API,
waits for another person's approval in the store, and only then applies."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from assistant.governance.policy import Policy
from assistant.governance.requests import Requests
from assistant.sandbox import Sandbox
from assistant.store import Store
from slackbot.engines import Engines
from tests.doubles.mock_slack import MockSlack

from ..integration.conftest import owned
from .conftest import spec_named
from .test_requests import CTX

EKS_ASSIST = str(Path(sys.executable).parent / "eks-assist")


@pytest.fixture
def slack(monkeypatch: pytest.MonkeyPatch) -> Iterator[MockSlack]:
    with MockSlack() as mock:
        monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test-not-a-real-token")
        monkeypatch.setenv("SLACK_API_URL", mock.api_url)
        yield mock


def _start(tmp_path: Path, policy: Policy, *extra: str) -> subprocess.Popen[str]:
    spec = spec_named(tmp_path, "prod-a")
    policy_file = tmp_path / "policy.yaml"
    assert policy_file.exists()
    return subprocess.Popen(
        [EKS_ASSIST, "apply", "-f", spec.file, "--request-approval", "slack", "--policy", str(policy_file),
         "--requester", "U0CAROL", "--poll-max", "0.1", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ),
    )  # fmt: skip


def _pending(requests: Requests, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = requests.list(status="pending")
        if found and found[0].origin.get("ts"):
            return found[0].id
        time.sleep(0.1)
    raise AssertionError("no pending request was posted")


def test_cli_waits_for_two_other_approvers_then_applies(
    sandbox: Sandbox, slack: MockSlack, requests: Requests, store: Store, policy: Policy, tmp_path: Path
) -> None:
    proc = _start(tmp_path, policy)
    try:
        request_id = _pending(requests)
        req = requests.get(request_id)
        assert (req.executor, req.environment, req.requester) == ("cli", "prod", "U0CAROL")
        [post] = [c for c in slack.calls if c.method == "chat.postMessage"]
        assert post.params["channel"] == "C0PLATFORM" and req.plan_hash[:12] in post.text_all()
        assert req.origin["ts"] and req.origin["channel"] == "C0PLATFORM"

        # Nothing happens until the quorum: the cluster does not exist yet.
        requests.approve(request_id, "U0ALICE", groups=set(), context=CTX)
        time.sleep(1.5)
        assert boto3.client("eks", region_name="us-east-1").list_clusters()["clusters"] == []
        requests.approve(request_id, "U0BOB", groups=set(), context=CTX)
        out, err = proc.communicate(timeout=240)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert f"Apply complete (run {request_id}), approved by U0ALICE, U0BOB." in out
    assert requests.get(request_id).status == "succeeded"
    assert boto3.client("eks", region_name="us-east-1").describe_cluster(name="prod-a")["cluster"]["status"] == "ACTIVE"
    replies = [c for c in slack.calls if c.method == "chat.postMessage" and c.params.get("thread_ts") == req.origin["ts"]]
    assert any(f"Applied (run {request_id}) from the CLI" in c.text_all() for c in replies)
    # The approval message itself now shows the outcome, and has no buttons left.
    [update] = [c for c in slack.calls if c.method == "chat.update" and c.params.get("ts") == req.origin["ts"]]
    assert f"Applied (run {request_id}) from the CLI" in update.text_all()
    assert not [b for b in update.blocks() if b.get("type") == "actions"]
    assert requests.locks() == []


def test_rejected_request_exits_3_and_changes_nothing(
    sandbox: Sandbox, slack: MockSlack, requests: Requests, policy: Policy, tmp_path: Path
) -> None:
    before = owned(sandbox.inventory())
    proc = _start(tmp_path, policy)
    try:
        request_id = _pending(requests)
        requests.reject(request_id, "U0BOB", reason="not this week", groups=set(), context=CTX)
        _, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 3
    assert f"error: request {request_id} was rejected by U0BOB: not this week; nothing was changed" in err
    assert owned(sandbox.inventory()) == before


def test_no_wait_returns_the_request_for_the_bot_to_apply(
    sandbox: Sandbox, slack: MockSlack, requests: Requests, store: Store, policy: Policy, tmp_path: Path
) -> None:
    proc = _start(tmp_path, policy, "--no-wait", "-o", "json")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    result = json.loads(out)
    req = requests.get(result["requestId"])
    assert result["runId"] == req.id and req.status == "pending" and req.executor == "bot"
    [lock] = requests.locks()
    assert lock.holder == req.id
    # The bot applies it on its server, where no kubeconfig is written: the request's plan says
    # so, and it is the plan the bot's own engine makes (so the bot's re-plan matches the approval).
    assert [c for c in req.changes if c["step"] == "kubeconfig"] == []
    assert "not applicable here: this front end applies on a server and writes no kubeconfig there" in req.plan_text
    bot = Engines(store, default_region="us-east-1").engine()
    assert bot.plan(spec_named(tmp_path, "prod-a")).plan.hash == req.plan_hash


def test_slack_unreachable_cancels_the_request(sandbox: Sandbox, requests: Requests, policy: Policy, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test-not-a-real-token")
    monkeypatch.setenv("SLACK_API_URL", "http://127.0.0.1:9/api/")
    proc = _start(tmp_path, policy, "--no-wait")
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 3
    assert "could not post request" in err and "it was cancelled and nothing was changed" in err
    [req] = requests.list()
    assert req.status == "cancelled" and requests.locks() == []
