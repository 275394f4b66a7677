"""Change requests on the sandbox: four-eyes, allowlist, quorum, TTL, locks, exactly-once apply."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import boto3
import pytest

from assistant.engine import Engine
from assistant.errors import ApprovalError, PlanChangedError
from assistant.governance.locks import ClusterLocked
from assistant.governance.requests import NothingToChange, Requests
from assistant.sandbox import Sandbox
from assistant.store import Store

from ..integration.conftest import owned
from .conftest import Clock, spec_named

CTX = {"team": "T0TEAM", "channel": "C0PLATFORM", "message_ts": "1800000000.000100", "action_ts": "1800000001.000200"}


def test_open_records_a_pending_request_and_locks_the_cluster(engine: Engine, requests: Requests, tmp_path: Path) -> None:
    req = requests.open(engine, spec_named(tmp_path, "dev-a"), requester="U0CAROL")
    assert req.status == "pending" and req.environment == "dev" and req.required_approvals == 1
    assert req.summary["create"] == 13 and req.summary["no-op"] == 2 and req.changes[0]["op"] == "create"
    assert "Plan hash:" in req.plan_text and req.plan_hash in req.plan_text
    assert req.expires_at - req.created_at == 1800
    [lock] = requests.locks()
    assert (lock.cluster, lock.holder, lock.owner) == ("dev-a", req.id, "U0CAROL")

    with pytest.raises(
        ClusterLocked, match=rf"cluster 'dev-a' \(123456789012/us-east-1\) is locked by {req.id} \(requested by U0CAROL"
    ):
        requests.open(engine, spec_named(tmp_path, "dev-a"), requester="U0BOB")
    # Another cluster is not affected.
    other = requests.open(engine, spec_named(tmp_path, "dev-b"), requester="U0BOB")
    assert other.status == "pending"


def test_prod_needs_two_distinct_approvers_and_never_the_requester(engine: Engine, requests: Requests, tmp_path: Path) -> None:
    req = requests.open(engine, spec_named(tmp_path, "prod-a"), requester="U0ALICE")
    assert (req.environment, req.required_approvals) == ("prod", 2)

    with pytest.raises(ApprovalError, match=r"you requested .*; someone else must approve it"):
        requests.approve(req.id, "U0ALICE", groups=set(), context=CTX)
    with pytest.raises(ApprovalError, match="U0CAROL is not an approver for environment 'prod'"):
        requests.approve(req.id, "U0CAROL", groups=set(), context=CTX)
    # Group membership counts; a failed group lookup (None) trusts only named users: fail closed.
    with pytest.raises(ApprovalError, match="the user-group lookup failed"):
        requests.approve(req.id, "U0DAVE", groups=None, context=CTX)

    first = requests.approve(req.id, "U0BOB", groups=set(), context=CTX)
    assert (first.outcome, first.needed) == ("recorded", 1)
    again = requests.approve(req.id, "U0BOB", groups=set(), context=CTX)
    assert again.outcome == "duplicate" and again.needed == 1
    second = requests.approve(req.id, "U0DAVE", groups={"S0SRE"}, context=CTX)
    assert (second.outcome, second.needed, second.request.status) == ("approved", 0, "approved")
    assert second.request.decided_by == "U0DAVE"

    events = [(a["event"], a["actor"]) for a in reversed(engine.store.audit_log())]
    assert ("request-approve-refused", "U0ALICE") in events and ("request-approve-refused", "U0CAROL") in events
    assert ("request-approval-recorded", "U0BOB") in events and ("request-approved", "U0DAVE") in events
    approved = next(a for a in engine.store.audit_log() if a["event"] == "request-approved")
    assert approved["data"]["message_ts"] == CTX["message_ts"] and approved["data"]["action_ts"] == CTX["action_ts"]


def test_a_requester_cannot_pick_a_weaker_environment_by_spelling(engine: Engine, requests: Requests, tmp_path: Path) -> None:
    # Issue 11 item 4: Prod_db fell under dev ("*") while prod is "prod-*".
    req = requests.open(engine, spec_named(tmp_path, "Prod_db"), requester="U0DAVE")
    assert (req.environment, req.required_approvals) == ("prod", 2)
    # Carol approves dev, not prod.
    with pytest.raises(ApprovalError, match="U0CAROL is not an approver for environment 'prod'"):
        requests.approve(req.id, "U0CAROL", groups=set(), context=CTX)
    first = requests.approve(req.id, "U0BOB", groups=set(), context=CTX)
    assert (first.outcome, first.needed) == ("recorded", 1)


def test_expired_request_cannot_be_approved_and_frees_the_cluster(
    engine: Engine, requests: Requests, clock: Clock, tmp_path: Path
) -> None:
    req = requests.open(engine, spec_named(tmp_path, "dev-a"), requester="U0CAROL")
    clock.now += 1801
    with pytest.raises(ApprovalError, match=f"request {req.id} expired at"):
        requests.approve(req.id, "U0BOB", groups=set(), context=CTX)
    assert requests.get(req.id).status == "expired"
    assert requests.locks() == []
    assert requests.claim(req.id) is False


def test_expire_due_sweeps_pending_requests(engine: Engine, requests: Requests, clock: Clock, tmp_path: Path) -> None:
    req = requests.open(engine, spec_named(tmp_path, "dev-a"), requester="U0CAROL")
    assert requests.expire_due() == []
    clock.now += 3600
    [expired] = requests.expire_due()
    assert expired.id == req.id and expired.status == "expired"


def test_reject_releases_the_lock_and_blocks_approval(engine: Engine, requests: Requests, tmp_path: Path) -> None:
    req = requests.open(engine, spec_named(tmp_path, "dev-a"), requester="U0CAROL")
    with pytest.raises(ApprovalError, match="someone else must reject it"):
        requests.reject(req.id, "U0CAROL", groups=set(), context=CTX)
    rejected = requests.reject(req.id, "U0BOB", reason="wrong region", groups=set(), context=CTX)
    assert (rejected.status, rejected.decided_by, rejected.reason) == ("rejected", "U0BOB", "wrong region")
    assert requests.locks() == []
    with pytest.raises(ApprovalError, match="is already rejected by U0BOB"):
        requests.approve(req.id, "U0ALICE", groups=set(), context=CTX)


def test_concurrent_approvals_and_claims_start_exactly_one_apply(engine: Engine, requests: Requests, tmp_path: Path) -> None:
    req = requests.open(engine, spec_named(tmp_path, "dev-a"), requester="U0CAROL")
    outcomes: list[str] = []
    claims: list[bool] = []
    gate = threading.Barrier(30)

    def click(who: str) -> None:
        gate.wait()
        try:
            outcomes.append(requests.approve(req.id, who, groups=set(), context=CTX).outcome)
        except ApprovalError:
            outcomes.append("refused")
        claims.append(requests.claim(req.id))

    threads = [threading.Thread(target=click, args=(["U0ALICE", "U0BOB"][i % 2],)) for i in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("approved") == 1
    assert claims.count(True) == 1
    assert requests.get(req.id).status == "applying"


def test_approved_request_applies_once_under_its_id(
    sandbox: Sandbox, engine: Engine, requests: Requests, store: Store, tmp_path: Path
) -> None:
    req = requests.open(engine, spec_named(tmp_path, "dev-a"), requester="U0CAROL")
    assert requests.approve(req.id, "U0BOB", groups=set(), context=CTX).outcome == "approved"
    with pytest.raises(ApprovalError, match="not claimed for apply"):
        requests.execute(engine, req.id)
    assert requests.claim(req.id) is True
    run_id, outputs = requests.execute(engine, req.id)
    assert run_id == req.id and outputs["endpoint"].startswith("https://")
    assert requests.get(req.id).status == "succeeded"
    assert requests.locks() == []
    assert boto3.client("eks", region_name="us-east-1").describe_cluster(name="dev-a")["cluster"]["status"] == "ACTIVE"
    assert store.get_run(req.id).approver == "U0BOB (requested by U0CAROL)"
    calls = next(a for a in store.audit_log() if a["event"] == "mutating-calls" and a["run_id"] == req.id)["data"]["calls"]
    # Every AWS call carries its request id; Kubernetes API servers return none.
    aws_calls = [c for c in calls if c["service"] != "kubernetes"]
    assert aws_calls and [c for c in aws_calls if not c.get("requestId")] == []
    assert any(c["service"] == "kubernetes" and "/namespaces/kube-system/configmaps" in c["operation"] for c in calls)
    # Nothing left to approve now.
    with pytest.raises(NothingToChange):
        requests.open(engine, spec_named(tmp_path, "dev-a"), requester="U0CAROL")


def test_drift_after_approval_supersedes_the_request(
    sandbox: Sandbox, engine: Engine, requests: Requests, tmp_path: Path
) -> None:
    req = requests.open(engine, spec_named(tmp_path, "dev-a"), requester="U0CAROL")
    boto3.client("iam", region_name="us-east-1").create_role(
        RoleName="dev-a-us-east-1-cluster-role", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []})
    )
    before = owned(sandbox.inventory())
    requests.approve(req.id, "U0BOB", groups=set(), context=CTX)
    assert requests.claim(req.id)
    with pytest.raises(PlanChangedError):
        requests.execute(engine, req.id)
    assert owned(sandbox.inventory()) == before
    assert requests.get(req.id).status == "superseded" and requests.locks() == []
    fresh = requests.open(engine, spec_named(tmp_path, "dev-a"), requester="U0CAROL")
    assert fresh.plan_hash != req.plan_hash


def test_a_plain_apply_is_refused_while_a_request_holds_the_cluster(
    sandbox: Sandbox, engine: Engine, requests: Requests, tmp_path: Path
) -> None:
    loaded = spec_named(tmp_path, "dev-a")
    req = requests.open(engine, loaded, requester="U0CAROL")
    before = owned(sandbox.inventory())
    with pytest.raises(ClusterLocked, match=f"locked by {req.id}"):
        engine.apply(loaded, req.plan_hash, "someone", "flag")
    assert owned(sandbox.inventory()) == before


def test_only_admins_release_locks_and_releasing_cancels_the_request(engine: Engine, requests: Requests, tmp_path: Path) -> None:
    req = requests.open(engine, spec_named(tmp_path, "dev-a"), requester="U0CAROL")
    with pytest.raises(ApprovalError, match="U0BOB is not an admin"):
        requests.release_lock("dev-a", admin="U0BOB")
    lock = requests.release_lock("dev-a", admin="U0ADMIN")
    assert lock.holder == req.id and requests.locks() == []
    assert requests.get(req.id).status == "cancelled"
    assert any(a["event"] == "lock-released" and a["actor"] == "U0ADMIN" for a in engine.store.audit_log())


def test_store_unavailable_fails_closed(engine: Engine, requests: Requests, store: Store, tmp_path: Path) -> None:
    req = requests.open(engine, spec_named(tmp_path, "dev-a"), requester="U0CAROL")
    store.close()
    with pytest.raises(Exception, match="closed"):
        requests.approve(req.id, "U0BOB", groups=set(), context=CTX)
    from assistant.store import open_store

    reopened = open_store()
    assert reopened.get_request(req.id)["status"] == "pending"
    reopened.close()


def test_a_request_left_applying_by_a_dead_process_is_settled(
    engine: Engine, requests: Requests, store: Store, clock: Clock, tmp_path: Path
) -> None:
    import subprocess
    import sys

    from assistant.store import RunRecord

    req = requests.open(engine, spec_named(tmp_path, "dev-a"), requester="U0CAROL")
    requests.approve(req.id, "U0BOB", groups=set(), context=CTX)
    assert requests.claim(req.id)
    # The claiming process died before its run started: settled only after the grace period.
    assert requests.settle_orphans() == []
    clock.now += 601
    [settled] = requests.settle_orphans()
    assert settled.status == "failed" and "never started" in settled.reason and requests.locks() == []

    other = requests.open(engine, spec_named(tmp_path, "dev-b"), requester="U0CAROL")
    requests.approve(other.id, "U0BOB", groups=set(), context=CTX)
    assert requests.claim(other.id)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    store.create_run(
        RunRecord(
            id=other.id, kind="apply", status="applying", playbook="cluster", spec_file="x", spec_source="", plan={},
            plan_hash=other.plan_hash, account=other.account, region=other.region, profile=None,
            created_at=clock.now, updated_at=clock.now, pid=int(dead.stdout),
        )
    )  # fmt: skip
    assert requests.expire_due() == []  # the sweep also settles orphans
    assert requests.get(other.id).status == "failed"
    assert f"the process applying run {other.id} stopped" in requests.get(other.id).reason
