"""``eks-assist audit``, ``eks-assist locks`` and the --request-approval flags' bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.engine import Engine
from assistant.governance.requests import Requests

from ..cli.conftest import CliRunner
from ..conftest import EXAMPLES
from .conftest import spec_named
from .test_requests import CTX

DEMO = str(EXAMPLES / "demo.yaml")


def test_audit_and_locks_show_a_request_and_its_decision(
    engine: Engine,
    requests: Requests,
    cli: CliRunner,
    tmp_path: Path,
) -> None:
    assert cli("audit").out.strip() == "The audit log is empty."
    assert cli("locks").out.strip() == "No cluster is locked."
    req = requests.open(engine, spec_named(tmp_path, "prod-a"), requester="U0ALICE")
    requests.approve(req.id, "U0BOB", groups=set(), context=CTX)

    listed = cli("locks")
    assert listed.code == 0
    assert f"prod-a                    123456789012/us-east-1        {req.id}  U0ALICE" in listed.out
    [lock] = json.loads(cli("locks", "list", "-o", "json").out)
    assert (lock["cluster"], lock["holder"]) == ("prod-a", req.id)

    text = cli("audit").out
    assert "request-approval-recorded" in text and "request-requested" in text and req.id in text
    [entry] = json.loads(cli("audit", "--event", "request-approval-recorded", "-o", "json").out)
    assert entry["actor"] == "U0BOB" and entry["data"]["action_ts"] == CTX["action_ts"]
    assert entry["plan_hash"] == req.plan_hash

    released = cli("locks", "release", "prod-a")
    assert released.code == 0 and f"held by {req.id} for U0ALICE" in released.out
    assert requests.get(req.id).status == "cancelled"
    assert cli("locks").out.strip() == "No cluster is locked."
    assert json.loads(cli("audit", "--event", "lock-released", "-o", "json").out)[0]["run_id"] == req.id


def test_releasing_an_unlocked_cluster_is_an_input_error(cli: CliRunner) -> None:
    r = cli("locks", "release", "nope")
    assert (r.code, r.err.strip()) == (2, "error: no lock is held on cluster 'nope'")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--no-wait"], "error: --no-wait only makes sense with --request-approval slack"),
        (["--requester", "U0ALICE"], "error: --requester only makes sense with --request-approval slack"),
        (["--request-approval", "slack", "--requester", "U0ALICE"], "error: --request-approval slack needs the approval policy"),
        (["--request-approval", "slack", "--policy", "p.yaml"], "error: --request-approval slack needs your Slack user ID"),
        (
            ["--request-approval", "slack", "--policy", "p.yaml", "--requester", "alice"],
            "error: --requester: 'alice' is not a Slack user ID (like U012ABCDEF)",
        ),
        (
            ["--request-approval", "slack", "--approve", "0" * 64],
            "error: --approve and --request-approval cannot be combined",
        ),
    ],
)
def test_request_approval_flags_are_checked_before_anything_runs(cli: CliRunner, argv: list[str], message: str) -> None:
    r = cli("apply", "-f", DEMO, *argv)
    assert r.code == 2
    assert r.err.startswith(message), r.err


def test_request_approval_with_a_bad_policy_file_points_at_it(cli: CliRunner, tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("channels: [general]\nenvironments: {}\n", encoding="utf-8")
    r = cli("apply", "-f", DEMO, "--request-approval", "slack", "--policy", str(policy), "--requester", "U0ALICE", "--sandbox")
    assert r.code == 2
    assert f"{policy}:1:11: channels: 'general' is not a Slack channel ID" in r.err
    assert f"{policy}:2:15: environments: list at least one environment (with its clusters and approvers)" in r.err
    assert "sandbox" not in r.err  # refused before anything started
