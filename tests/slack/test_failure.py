"""A failed apply in Slack: the error and a Resume button, which needs approval like any change."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.doubles.mock_slack import MockSlack

from .conftest import ALICE, BOB, CHANNEL, REQUESTER, BotHarness, start_bot

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def module_sandbox() -> Iterator[Any]:
    """Realistic timings scaled down: a cluster takes 6 s to become ACTIVE, so a 3 s wait times out."""
    from assistant.sandbox import Sandbox

    with Sandbox(latency="realistic", time_scale=0.01, port=0, k8s_port=0) as sb:
        yield sb


@pytest.fixture
def impatient_bot(
    sandbox: Any, mock_slack: MockSlack, policy_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[BotHarness]:
    from assistant.run.runner import RunOptions

    yield from start_bot(mock_slack, policy_path, monkeypatch, options=RunOptions(poll_min=0.05, poll_max=0.1, wait_timeout=3.0))


def _approve(bot: BotHarness, count: int, approver: str) -> tuple[str, str]:
    msg = bot.wait_approval(count)
    request_id, ts = bot.request_id(msg), bot.mock.ts_of(msg)
    bot.mock.wait_for(lambda m: bot.bot.flow.requests.get(request_id).origin.get("ts"), 10, "attach")
    bot.click("eks_approve", request_id, user=approver, message_ts=ts)
    return request_id, ts


def test_failed_apply_offers_an_approval_gated_resume(impatient_bot: BotHarness) -> None:
    bot = impatient_bot
    bot.command("apply small")
    request_id, ts = _approve(bot, 1, ALICE)

    bot.wait_update(ts, "Apply failed", timeout=60)
    failure = bot.mock.wait_for(
        lambda m: next((c for c in m.messages(CHANNEL, thread_ts=ts) if "eks_resume" in str(c.params.get("blocks"))), None), 30
    )
    text = failure.text_all()
    assert "failed (run" in text and "still CREATING" in text
    resume = next(el for b in failure.blocks() if b.get("type") == "actions" for el in b["elements"])
    assert resume["action_id"] == "eks_resume" and resume["value"] == request_id and "confirm" in resume
    assert bot.bot.flow.requests.get(request_id).status == "failed"
    assert bot.bot.engines.store.get_run(request_id).status == "failed"
    assert bot.bot.flow.requests.locks() == []

    # Let the control plane finish on its own, as it would on EKS.
    eks = boto3.client("eks", region_name="us-east-1")
    deadline = time.monotonic() + 30
    while eks.describe_cluster(name="small")["cluster"]["status"] != "ACTIVE" and time.monotonic() < deadline:
        time.sleep(0.2)

    # Resume is a new request: nothing runs until someone else approves it.
    bot.click("eks_resume", request_id, user=REQUESTER, message_ts=bot.mock.ts_of(failure))
    msg = bot.wait_approval(2)
    resume_id = bot.request_id(msg)
    assert f"Resume run {request_id} on cluster small" in msg.text_all()
    resume_req = bot.bot.flow.requests.get(resume_id)
    assert resume_req.kind == "resume" and resume_req.resume_of == request_id and resume_req.status == "pending"
    assert eks.list_nodegroups(clusterName="small")["nodegroups"] == []

    # The requester cannot approve their own resume either.
    resume_ts = bot.mock.ts_of(msg)
    bot.mock.wait_for(lambda m: bot.bot.flow.requests.get(resume_id).origin.get("ts"), 10, "attach")
    bot.click("eks_approve", resume_id, user=REQUESTER, message_ts=resume_ts)
    bot.mock.wait_for(lambda m: [c for c in m.of("chat.postEphemeral") if "four-eyes" in c.params["text"]], 20)

    bot.click("eks_approve", resume_id, user=BOB, message_ts=resume_ts)
    bot.wait_update(resume_ts, ":white_check_mark: Applied", timeout=120)
    assert bot.bot.engines.store.get_run(request_id).status == "succeeded"
    assert eks.list_nodegroups(clusterName="small")["nodegroups"] == ["general"]
    summary = bot.mock.messages(CHANNEL, thread_ts=resume_ts)[-1].text_all()
    assert "*Endpoint:* https://" in summary
