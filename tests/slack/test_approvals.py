"""Approvals in Slack on the sandbox: who may approve, quorum, TTL, drift, double clicks, reject.

Every refusal is checked twice: the person is told (ephemerally), and nothing changed in the
sandbox (its inventory is the same before and after).
"""

from __future__ import annotations

import json
import threading
from typing import Any

import boto3
import pytest

from tests.doubles.mock_slack import interactive_body, view_submission

from ..integration.conftest import owned
from .conftest import ADMIN, ALICE, BOB, CHANNEL, GROUPIE, MALLORY, REQUESTER, SECRET, BotHarness

pytestmark = pytest.mark.slow


def _request(bot: BotHarness, spec: str, count: int = 1) -> tuple[str, str]:
    """``/eks apply <spec>``; returns (request id, approval message ts)."""
    assert bot.command(f"apply {spec}").status == 200
    msg = bot.wait_approval(count)
    request_id = bot.request_id(msg)
    # The bot records where it posted right after the post; wait for that, as a click would.
    bot.mock.wait_for(lambda m: bot.bot.flow.requests.get(request_id).origin.get("ts"), 10, "attach")
    return request_id, bot.mock.ts_of(msg)


def _ephemerals(bot: BotHarness, user: str) -> list[str]:
    return [c.params["text"] for c in bot.mock.of("chat.postEphemeral") if c.params.get("user") == user]


def _wait_ephemeral(bot: BotHarness, user: str, needle: str) -> str:
    return str(bot.mock.wait_for(lambda m: next((t for t in _ephemerals(bot, user) if needle in t), None), 20, needle))


def _clusters() -> list[str]:
    return list(boto3.client("eks", region_name="us-east-1").list_clusters()["clusters"])


def test_self_approval_is_refused(sbot: BotHarness, sandbox: Any) -> None:
    request_id, ts = _request(sbot, "small")
    before = owned(sandbox.inventory())
    sbot.click("eks_approve", request_id, user=REQUESTER, message_ts=ts)
    text = _wait_ephemeral(sbot, REQUESTER, "Not approved")
    assert "four-eyes" in text
    req = sbot.bot.flow.requests.get(request_id)
    assert req.status == "pending" and req.approvals == []
    assert owned(sandbox.inventory()) == before
    assert "small" not in _clusters()


def test_approver_not_on_the_allowlist_is_refused(sbot: BotHarness, sandbox: Any) -> None:
    request_id, ts = _request(sbot, "small")
    before = owned(sandbox.inventory())
    sbot.click("eks_approve", request_id, user=MALLORY, message_ts=ts)
    text = _wait_ephemeral(sbot, MALLORY, "Not approved")
    assert f"{MALLORY} is not an approver for environment 'dev'" in text
    # Mallory's groups were looked up live, and she is in none of the approver groups.
    assert [c.params["usergroup"] for c in sbot.mock.of("usergroups.users.list")] == ["S0DEVS"]
    assert sbot.bot.flow.requests.get(request_id).status == "pending"
    assert owned(sandbox.inventory()) == before


def test_quorum_of_two_with_a_group_member_and_a_failed_lookup(sbot: BotHarness, sandbox: Any) -> None:
    sbot.mock.groups["S0SRE"] = [GROUPIE, "U0OTHER"]
    request_id, ts = _request(sbot, "prod-small")
    msg_text = sbot.approval_messages()[0].text_all()
    assert "*Environment*\nprod" in msg_text and "*Approvals*\n0 of 2" in msg_text

    # A member of the approver group counts.
    sbot.click("eks_approve", request_id, user=GROUPIE, message_ts=ts)
    text = sbot.wait_update(ts, "1 of 2")
    assert f"1 of 2 (<@{GROUPIE}>)" in text
    assert any(b.get("type") == "actions" for b in sbot.mock.updates(ts)[-1].blocks()), "still open for the second approval"

    # The group lookup fails for the next one: fail closed, even for a real member.
    sbot.mock.failing_groups.add("S0SRE")
    before = owned(sandbox.inventory())
    sbot.click("eks_approve", request_id, user="U0OTHER", message_ts=ts)
    text = _wait_ephemeral(sbot, "U0OTHER", "Not approved")
    assert "user-group lookup failed" in text
    assert owned(sandbox.inventory()) == before
    assert sbot.bot.flow.requests.get(request_id).status == "pending"

    # A named approver is still trusted while the lookup is down, and completes the quorum.
    sbot.click("eks_approve", request_id, user=ALICE, message_ts=ts)
    sbot.wait_update(ts, ":white_check_mark: Applied", timeout=120)
    req = sbot.bot.flow.requests.get(request_id)
    assert req.status == "succeeded" and {a["approver"] for a in req.approvals} == {GROUPIE, ALICE}
    assert "prod-small" in _clusters()


def test_expired_request_cannot_be_approved(sbot: BotHarness, sandbox: Any) -> None:
    request_id, ts = _request(sbot, "small")
    before = owned(sandbox.inventory())
    sbot.clock_offset[0] = 2 * 3600  # past the 1h TTL
    sbot.click("eks_approve", request_id, user=ALICE, message_ts=ts)
    text = _wait_ephemeral(sbot, ALICE, "Not approved")
    assert "expired" in text
    sbot.wait_update(ts, ":hourglass: Expired")
    assert not any(b.get("type") == "actions" for b in sbot.mock.updates(ts)[-1].blocks())
    assert sbot.bot.flow.requests.get(request_id).status == "expired"
    assert sbot.bot.flow.requests.locks() == []  # the lock went with it
    assert owned(sandbox.inventory()) == before


def test_expiry_sweep_updates_the_message(sbot: BotHarness) -> None:
    request_id, ts = _request(sbot, "small")
    sbot.clock_offset[0] = 2 * 3600
    expired = sbot.bot.flow.expire_due()
    assert [r.id for r in expired] == [request_id]
    sbot.wait_update(ts, "Expired")


def test_reject_with_a_reason(sbot: BotHarness, sandbox: Any) -> None:
    request_id, ts = _request(sbot, "small")
    before = owned(sandbox.inventory())
    sbot.click("eks_reject", request_id, user=BOB, message_ts=ts)
    modal = sbot.mock.wait_for(lambda m: m.of("views.open"), 10)[-1].view()
    assert modal["callback_id"] == "eks_reject_reason"
    values = {"reason": {"value": {"type": "plain_text_input", "value": "too big for a Friday"}}}
    r = sbot.post(interactive_body(view_submission(modal, values, user=BOB)))
    assert r.status == 200 and r.body == ""
    text = sbot.wait_update(ts, "Rejected")
    assert f":no_entry: Rejected by <@{BOB}>" in text and "too big for a Friday" in text
    assert not any(b.get("type") == "actions" for b in sbot.mock.updates(ts)[-1].blocks())
    assert sbot.bot.flow.requests.get(request_id).status == "rejected"
    assert sbot.bot.flow.requests.locks() == []
    # A late Approve click on the rejected request is refused; a late Reject opens no form.
    sbot.click("eks_approve", request_id, user=ALICE, message_ts=ts)
    assert "already rejected" in _wait_ephemeral(sbot, ALICE, "Not approved")
    sbot.click("eks_reject", request_id, user=ALICE, message_ts=ts)
    assert f"Request `{request_id}` is already rejected" in _wait_ephemeral(sbot, ALICE, "already rejected.")
    assert len(sbot.mock.of("views.open")) == 1
    assert owned(sandbox.inventory()) == before


def test_double_click_and_concurrent_approvals_apply_once(sbot: BotHarness) -> None:
    request_id, ts = _request(sbot, "twice")
    clicks = [(ALICE, f"{i}.1") for i in range(3)] + [(BOB, f"{i}.2") for i in range(3)]
    barrier = threading.Barrier(len(clicks))
    statuses: list[int] = []

    def click(user: str, action_ts: str) -> None:
        from tests.doubles.mock_slack import block_action

        payload = block_action("eks_approve", request_id, user=user, channel=CHANNEL, message_ts=ts, action_ts=action_ts)
        body = interactive_body(payload)
        barrier.wait()
        statuses.append(sbot.post(body).status)

    threads = [threading.Thread(target=click, args=c) for c in clicks]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [200] * len(clicks)
    sbot.wait_update(ts, ":white_check_mark: Applied", timeout=120)
    store = sbot.bot.engines.store
    assert [r.id for r in store.list_runs(50)] == [request_id]  # exactly one run
    claims = [a for a in store.audit_log() if a["event"] == "request-apply-claimed"]
    assert len(claims) == 1
    progress = [c for c in sbot.mock.messages(CHANNEL, thread_ts=ts) if "Apply cluster twice" in c.text_all()]
    assert len(progress) == 2  # one progress message, one summary
    # The others were told why nothing more happened.
    told = [t for u in (ALICE, BOB) for t in _ephemerals(sbot, u)]
    assert len(told) == len(clicks) - 1, told
    assert all("already" in t for t in told)


def test_drift_between_approval_request_and_apply_is_refused_and_replanned(sbot: BotHarness) -> None:
    request_id, ts = _request(sbot, "drift")
    old = sbot.bot.flow.requests.get(request_id)
    # Someone changes the world after the plan was posted: a role the plan meant to create appears.
    iam = boto3.client("iam", region_name="us-east-1")
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "eks.amazonaws.com"},
             "Action": "sts:AssumeRole"}]}  # fmt: skip
    tags = [
        {"Key": "eks-assist:managed-by", "Value": "eks-assist"},
        {"Key": "eks-assist:cluster", "Value": "drift"},
        {"Key": "eks-assist:cluster-arn", "Value": "arn:aws:eks:us-east-1:123456789012:cluster/drift"},
    ]
    iam.create_role(RoleName="drift-us-east-1-cluster-role", AssumeRolePolicyDocument=json.dumps(trust), Tags=tags)

    sbot.click("eks_approve", request_id, user=ALICE, message_ts=ts)
    sbot.wait_update(ts, "Superseded", timeout=60)
    refused = sbot.mock.wait_for(
        lambda m: [c for c in m.messages(CHANNEL, thread_ts=ts) if "plan changed since approval" in c.text_all()], 30
    )
    assert "nothing was changed" in refused[0].text_all()
    # Nothing was applied: no VPC, no cluster, the role untouched (no policy attached).
    assert "drift" not in _clusters()
    assert iam.list_attached_role_policies(RoleName="drift-us-east-1-cluster-role")["AttachedPolicies"] == []
    ec2 = boto3.client("ec2", region_name="us-east-1")
    assert ec2.describe_vpcs(Filters=[{"Name": "tag:eks-assist:cluster", "Values": ["drift"]}])["Vpcs"] == []
    assert sbot.bot.flow.requests.get(request_id).status == "superseded"
    assert sbot.bot.engines.store.list_runs(5) == []  # refused before a run was even recorded

    # A fresh request with the fresh plan is posted for a new approval.
    fresh_msg = sbot.wait_approval(2)
    fresh_id = sbot.request_id(fresh_msg)
    fresh = sbot.bot.flow.requests.get(fresh_id)
    assert fresh.status == "pending" and fresh.plan_hash != old.plan_hash and fresh.requester == REQUESTER
    assert "IAM role drift-us-east-1-cluster-role" in fresh_msg.text_all() and "update" in fresh_msg.text_all()
    sbot.mock.wait_for(lambda m: [c for c in m.messages(CHANNEL, thread_ts=ts) if fresh_id in c.text_all()], 10)
    assert [lk.holder for lk in sbot.bot.flow.requests.locks()] == [fresh_id]


def test_admin_releases_a_lock_and_others_cannot(sbot: BotHarness) -> None:
    request_id, ts = _request(sbot, "small")
    sbot.command("locks", name="locks")
    answer = sbot.wait_response("locks")
    assert "*small*" in answer["text"] or "small" in json.dumps(answer)
    # A second request for the same cluster is refused while the lock is held.
    sbot.command("apply small", name="again")
    assert "is locked by" in sbot.wait_response("again")["text"]

    sbot.command("unlock small", user=MALLORY, name="mallory")
    assert "not an admin" in sbot.wait_response("mallory")["text"]
    assert len(sbot.bot.flow.requests.locks()) == 1

    sbot.command("unlock small", user=ADMIN, name="admin")
    assert "released the lock on *small*" in sbot.wait_response("admin")["text"]
    assert sbot.bot.flow.requests.locks() == []
    assert sbot.bot.flow.requests.get(request_id).status == "cancelled"
    sbot.wait_update(ts, "Cancelled")
    # The channel sees who released it.
    assert any("released the lock" in c.text_all() for c in sbot.mock.messages(CHANNEL))


def test_http_refusals_change_nothing_in_the_sandbox(sbot: BotHarness, sandbox: Any) -> None:
    from tests.doubles.mock_slack import command_body, signed_headers

    before = owned(sandbox.inventory())
    body = command_body("apply small", user=REQUESTER, channel=CHANNEL, response_url=sbot.mock.response_url())
    assert sbot.post(body, signed_headers("forged", body)).status == 401
    assert sbot.post(body, signed_headers(SECRET, body, timestamp=0)).status == 401
    assert sbot.command("apply ../specs/small").status == 200
    assert sbot.command("apply small", channel="C0ELSEWHERE").status == 200
    sbot.wait_response()
    assert sbot.approval_messages() == []
    assert sbot.bot.flow.requests.list() == []
    assert owned(sandbox.inventory()) == before


def test_an_approval_nobody_claimed_is_applied_by_the_sweep(sbot: BotHarness) -> None:
    request_id, ts = _request(sbot, "small")
    # The quorum was recorded (say by a bot process that stopped before it could claim the apply).
    decision = sbot.bot.flow.requests.approve(request_id, ALICE, groups=set(), context={"via": "test"})
    assert decision.outcome == "approved"
    sbot.bot.housekeeper.sweep()
    sbot.wait_update(ts, ":white_check_mark: Applied", timeout=120)
    sbot.bot.housekeeper.sweep()  # nothing left to claim: no second apply
    assert [r.id for r in sbot.bot.engines.store.list_runs(10)] == [request_id]
    assert len([a for a in sbot.bot.engines.store.audit_log() if a["event"] == "request-apply-claimed"]) == 1
