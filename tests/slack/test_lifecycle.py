"""A cluster's life in Slack: plan, apply, status, runs, access check, map-role, destroy."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from ..integration.conftest import owned
from .conftest import ALICE, BOB, CHANNEL, BotHarness

pytestmark = pytest.mark.slow
ROLE = "arn:aws:iam::123456789012:role/Operators"


def _ask(bot: BotHarness, text: str, name: str, timeout: float = 60) -> str:
    assert bot.command(text, name=name).status == 200
    return json.dumps(bot.wait_response(name, timeout=timeout))


def _approve_next(bot: BotHarness, count: int, approver: str = ALICE) -> tuple[str, str, str]:
    msg = bot.wait_approval(count)
    request_id, ts = bot.request_id(msg), bot.mock.ts_of(msg)
    bot.mock.wait_for(lambda m: bot.bot.flow.requests.get(request_id).origin.get("ts"), 10, "attach")
    bot.click("eks_approve", request_id, user=approver, message_ts=ts)
    bot.wait_update(ts, ":white_check_mark: Applied", timeout=120)
    return request_id, ts, msg.text_all()


def test_plan_is_read_only_and_shows_the_diff(sbot: BotHarness, sandbox: Any) -> None:
    before = owned(sandbox.inventory())
    out = _ask(sbot, "plan demo", "plan")
    assert "Plan for `demo`" in out and "to create" in out and "Plan hash `" in out
    assert "VPC demo-vpc" in out
    assert owned(sandbox.inventory()) == before
    assert sbot.approval_messages() == [] and sbot.bot.flow.requests.list() == []
    assert "demo" in _ask(sbot, "specs", "specs") and "small" in _ask(sbot, "specs", "specs2")
    assert "no spec named 'nope'" in _ask(sbot, "plan nope", "nope")


def test_apply_status_access_map_role_destroy(sbot: BotHarness, sandbox: Any) -> None:
    sbot.command("apply small")
    request_id, _ts, text = _approve_next(sbot, 1)
    assert "Apply cluster small" in text

    status = _ask(sbot, "status small", "status")
    assert "*small* (ACTIVE)" in status and "`general` ACTIVE" in status and "certificateAuthority" not in status
    assert "1 cluster(s) in us-east-1" in _ask(sbot, "status", "all")
    runs = _ask(sbot, "runs", "runs")
    assert request_id in runs and "succeeded" in runs

    before = _ask(sbot, f"access check small {ROLE}", "access1")
    assert "is *not* mapped on *small*" in before

    sbot.command(f"map-role small {ROLE} ops-team", name="map")
    map_id, _map_ts, text = _approve_next(sbot, 2, approver=BOB)
    assert "IAM mappings for cluster small" in text and "playbook `iam-mappings`" in text
    after = _ask(sbot, f"access check small {ROLE}", "access2")
    assert "is mapped on *small*" in after and "`ops-team`" in after
    assert sbot.bot.flow.requests.get(map_id).playbook == "iam-mappings"

    sbot.command("destroy small", name="destroy")
    _destroy_id, destroy_ts, text = _approve_next(sbot, 3)
    assert "Destroy cluster small" in text and "to delete" in text
    torn = sbot.mock.wait_for(
        lambda m: [c for c in m.messages(CHANNEL, thread_ts=destroy_ts) if "was torn down" in c.text_all()], 30
    )
    assert torn
    eks = boto3.client("eks", region_name="us-east-1")
    assert "small" not in eks.list_clusters()["clusters"]
    assert "no EKS cluster named 'small'" in _ask(sbot, "status small", "gone")


def test_destroy_of_an_unknown_cluster_is_refused(sbot: BotHarness, sandbox: Any) -> None:
    out = _ask(sbot, "destroy nothing-here", "d")
    assert "no successful eks-assist apply of cluster 'nothing-here'" in out
    out = _ask(sbot, f"map-role nothing-here {ROLE} g", "m")
    assert "no successful eks-assist apply of cluster 'nothing-here'" in out
    assert "'not-an-arn' is not an IAM principal ARN" in _ask(sbot, "access check small not-an-arn", "a")
    assert sbot.approval_messages() == []
