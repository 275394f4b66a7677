"""The audit log after a real apply: each AWS call's own request id, and a text view that fits 100 columns.

Field report 13: ``eks-assist audit`` showed ``ec2:CreateVpc=request-id`` — moto's constant,
which botocore reads from EC2 bodies — for every EC2 call, and its lines ran far past 100 columns.
"""

from __future__ import annotations

import json
import re

from assistant.sandbox import Sandbox
from assistant.store import open_store

from ..cli.conftest import CliRunner
from .conftest import DEMO

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def test_every_mutating_aws_call_is_audited_with_its_own_request_id(sandbox: Sandbox, cli: CliRunner) -> None:
    plan = json.loads(cli("plan", "-f", DEMO, "-o", "json").out)
    applied = cli("apply", "-f", DEMO, "--approve", plan["hash"], "-o", "json")
    assert applied.code == 0, applied.err
    run_id = json.loads(applied.out)["runId"]

    [entry] = json.loads(cli("audit", "--run", run_id, "--event", "mutating-calls", "-o", "json").out)
    aws = [c for c in entry["data"]["calls"] if c["service"] != "kubernetes"]
    assert {c["operation"] for c in aws} >= {"CreateVpc", "CreateRole", "CreateCluster", "CreateNodegroup"}
    ids = [c["requestId"] for c in aws]
    assert [i for i in ids if not (isinstance(i, str) and UUID.fullmatch(i))] == [], ids
    assert len(set(ids)) == len(ids), "a request id repeats"

    text = cli("audit").out
    assert "request-id" not in text
    assert max(len(line) for line in text.splitlines()) <= 100, text
    lines = text.splitlines()
    [at] = [n for n, ln in enumerate(lines) if "mutating-calls" in ln]
    assert run_id in lines[at]
    assert f"{len(aws)} AWS call(s) ({len(aws)} request ids)" in " ".join(lines[at : at + 2])


def test_long_entries_are_cut_in_the_text_view_and_whole_in_json(cli: CliRunner) -> None:
    store = open_store()
    reason = "the change window is closed\n" * 40
    actor = "alice (arn:aws:sts::123456789012:assumed-role/" + "PlatformEngineers" * 6 + "/alice)"
    store.audit("request-approval-recorded", "20261205-084750-abcdef", actor, "f" * 64, {"reason": reason, "count": 1})
    text = cli("audit").out.splitlines()
    assert all(len(line) <= 100 for line in text), text
    # Header, the entry's line, then its detail on a line of its own, cut to fit.
    assert len(text) == 3 and "alice" in text[1] and "PlatformEngineers" not in text[1]
    assert text[2].startswith("    reason=the change window is closed the change") and text[2].endswith("…")
    [entry] = json.loads(cli("audit", "-o", "json").out)
    assert entry["actor"] == actor and entry["data"]["reason"] == reason and entry["plan_hash"] == "f" * 64
