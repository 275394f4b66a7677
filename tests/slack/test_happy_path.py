"""The whole journey on the sandbox: /eks new → modal → approval → apply → progress → summary."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from .conftest import ALICE, CHANNEL, REQUESTER, BotHarness

pytestmark = pytest.mark.slow


def _values(name: str, **over: Any) -> dict[str, Any]:
    """A filled-in /eks new form, as Slack's view_submission ``state.values``."""
    v = {
        "name": name,
        "region": "us-east-1",
        "version": "1.33",
        "instance_type": "t3.medium",
        "nodes_min": "1",
        "nodes_desired": "1",
        "nodes_max": "2",
        "vpc": "create",
        "vpc_cidr": "10.20.0.0/16",
        "subnets": None,
        "mappings": "arn:aws:iam::123456789012:role/Developers dev-team",
        **over,
    }
    out: dict[str, Any] = {}
    for block, value in v.items():
        if block in ("region", "version", "vpc"):
            out[block] = {"value": {"type": "static_select", "selected_option": {"value": value}}}
        elif block.startswith("nodes_"):
            out[block] = {"value": {"type": "number_input", "value": value}}
        else:
            out[block] = {"value": {"type": "plain_text_input", "value": value}}
    return out


def open_modal(bot: BotHarness) -> dict[str, Any]:
    assert bot.command("new").status == 200
    return bot.mock.wait_for(lambda m: m.of("views.open"), 10)[-1].view()


def test_new_cluster_from_modal_to_running_cluster(sbot: BotHarness) -> None:
    view = open_modal(sbot)
    r = sbot.submit(view, _values("happy"))
    assert r.status == 200 and r.seconds < 3.0
    assert r.body == ""  # a plain ack closes the modal

    msg = sbot.wait_approval()
    assert msg.params["channel"] == CHANNEL
    text = msg.text_all()
    assert f"<@{REQUESTER}> requests *apply* of cluster *happy*" in text
    assert "*Account*\n123456789012" in text and "*Region*\nus-east-1" in text
    assert "*Approvals*\n0 of 1" in text and "*Expires*\n<!date^" in text
    assert "to create" in text and "eks cluster" in text.lower()
    request_id = sbot.request_id(msg)
    req = sbot.bot.flow.requests.get(request_id)
    assert f"Plan hash `{req.plan_hash}`" in text
    ts = sbot.mock.ts_of(msg)
    # The full plan is longer than a section: it went into the thread as a file.
    sbot.mock.wait_for(lambda m: m.of("files.completeUploadExternal"), 10)
    upload = sbot.mock.of("files.completeUploadExternal")[0]
    assert upload.params["thread_ts"] == ts and upload.params["channel_id"] == CHANNEL
    assert req.plan_hash in b"".join(sbot.mock.files.values()).decode()

    # Nothing exists before approval.
    eks = boto3.client("eks", region_name="us-east-1")
    assert "happy" not in eks.list_clusters()["clusters"]

    r = sbot.click("eks_approve", request_id, user=ALICE, message_ts=ts)
    assert r.status == 200 and r.seconds < 3.0

    sbot.wait_update(ts, ":white_check_mark: Applied", timeout=120)
    final = sbot.last_update_text(ts)
    assert f"by <@{ALICE}>" in final
    assert not any(b.get("type") == "actions" for b in sbot.mock.updates(ts)[-1].blocks())  # buttons gone

    thread = sbot.mock.messages(CHANNEL, thread_ts=ts)
    progress = thread[0]
    assert "happy" in progress.text_all()
    edits = sbot.mock.updates(sbot.mock.ts_of(progress))
    assert len(edits) >= 2, "progress is edited in place"
    last = edits[-1].text_all()
    assert ":white_check_mark: `cluster`" in last and ":white_check_mark: *Apply cluster happy*" in last
    summary = thread[-1].text_all()
    assert "*Endpoint:* https://127.0.0.1:" in summary
    assert "`general` ACTIVE" in summary
    assert "eks-assist kubeconfig --cluster happy --region us-east-1" in summary
    assert "aws eks update-kubeconfig --name happy --region us-east-1" in summary

    cluster = eks.describe_cluster(name="happy")["cluster"]
    assert cluster["status"] == "ACTIVE"
    assert eks.list_nodegroups(clusterName="happy")["nodegroups"] == ["general"]
    assert sbot.bot.flow.requests.get(request_id).status == "succeeded"
    assert sbot.bot.engines.store.get_run(request_id).status == "succeeded"

    # Nothing secret was posted: not the CA data, not the sandbox's keys, not the bot token.
    ca = cluster["certificateAuthority"]["data"]
    everything = json.dumps([c.params for c in sbot.mock.calls])
    assert ca not in everything and ca[:40] not in everything
    assert "eks-assist-sandbox-secret-access-key" not in everything
    assert "xoxb-test-token" not in everything
    # The audit log has the Slack context of the approval.
    audit = [a for a in sbot.bot.engines.store.audit_log() if a["event"] == "request-approved"]
    assert audit and audit[0]["data"]["channel"] == CHANNEL and audit[0]["data"]["message_ts"] == ts
    assert audit[0]["data"]["action_ts"] and audit[0]["data"]["team"]


def test_modal_errors_are_shown_under_their_fields(sbot: BotHarness) -> None:
    view = open_modal(sbot)
    bad = _values("-bad name", vpc_cidr="10.0.0.0/33", nodes_min="3", nodes_max="2", mappings="arn:aws:iam::1:role/x grp")
    r = sbot.submit(view, bad)
    assert r.status == 200
    errors = r.json()
    assert errors["response_action"] == "errors"
    assert set(errors["errors"]) == {"name", "vpc_cidr", "nodes_min", "mappings"}
    assert "cluster name must be 1-100 characters" in errors["errors"]["name"]
    r = sbot.submit(view, _values("ok", vpc="existing", subnets=None))
    assert r.json()["errors"] == {"subnets": "list the subnet IDs to use (two or more, in at least two Availability Zones)"}
    assert sbot.approval_messages() == []
    assert sbot.bot.flow.requests.list() == []
