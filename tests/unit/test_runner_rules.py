"""The runner's rules for what counts as 'the approved change', and the store's guarantees."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from assistant.planning.plan import Op, Unknown
from assistant.run.runner import continues, matches
from assistant.store import RunRecord, StepRecord, open_store


def test_unknowns_match_any_value_known_values_must_equal() -> None:
    approved = {"vpcId": Unknown("steps.vpc.id"), "cidr": "10.0.0.0/16", "subnets": [Unknown("x"), "b"]}
    assert matches(approved, {"vpcId": "vpc-1", "cidr": "10.0.0.0/16", "subnets": ["a", "b"]})
    assert not matches(approved, {"vpcId": "vpc-1", "cidr": "10.1.0.0/16", "subnets": ["a", "b"]})
    assert not matches(approved, {"vpcId": "vpc-1", "cidr": "10.0.0.0/16", "subnets": ["a"]})
    assert not matches(approved, {"vpcId": "vpc-1", "cidr": "10.0.0.0/16", "subnets": ["a", "b"], "extra": 1})


@pytest.mark.parametrize(
    ("approved", "fresh", "ok"),
    [
        (Op.CREATE, Op.CREATE, True),
        (Op.CREATE, Op.UPDATE, True),  # a create that was cut short, finished
        (Op.CREATE, Op.DELETE, False),
        (Op.UPDATE, Op.CREATE, False),  # someone deleted it since approval
        (Op.NOOP, Op.UPDATE, False),  # drifted since approval
        (Op.DELETE, Op.DELETE, True),
        (Op.DELETE, Op.CREATE, False),
    ],
)
def test_continuations(approved: Op, fresh: Op, ok: bool) -> None:
    assert continues(approved, fresh) is ok


def _run(run_id: str) -> RunRecord:
    now = time.time()
    return RunRecord(
        id=run_id,
        kind="apply",
        status="applying",
        playbook="cluster",
        spec_file="s.yaml",
        spec_source="x: 1",
        plan={"changes": []},
        plan_hash="ab" * 32,
        account="1",
        region="us-east-1",
        profile=None,
        created_at=now,
        updated_at=now,
        pid=1,
        approver="me",
    )


def test_store_round_trip_and_prefix_lookup(isolated_env: Path) -> None:
    store = open_store()
    store.create_run(_run("20261124-000000-aaaaaa"))
    store.record_step(StepRecord("20261124-000000-aaaaaa", "vpc", "applying", "create", started_at=1.0))
    store.record_step(StepRecord("20261124-000000-aaaaaa", "vpc", "done", "create", finished_at=2.0, outputs={"id": "vpc-1"}))
    (step,) = store.steps("20261124-000000-aaaaaa")
    assert (step.status, step.started_at, step.outputs) == ("done", 1.0, {"id": "vpc-1"})
    assert [r.id for r in store.find_runs("20261124-0000")] == ["20261124-000000-aaaaaa"]
    # Wildcards and an empty prefix match nothing: a prefix is compared as text.
    assert [store.find_runs(p) for p in ("", "%", "_", "2026112_", "20261124%")] == [[], [], [], [], []]
    store.update_run("20261124-000000-aaaaaa", status="succeeded", outputs={"endpoint": "https://x"})
    run = store.get_run("20261124-000000-aaaaaa")
    assert run is not None and run.status == "succeeded" and run.outputs == {"endpoint": "https://x"}
    assert (isolated_env / "state.db").stat().st_mode & 0o777 == 0o600


def test_audit_log_is_append_only(isolated_env: Path) -> None:
    store = open_store()
    store.audit("approved", "run-1", "alice", "ab" * 32, {"method": "tty"})
    db = sqlite3.connect(isolated_env / "state.db")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("UPDATE audit SET actor='mallory'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("DELETE FROM audit")
    db.close()
    assert store.audit_log()[0]["actor"] == "alice"


def test_unsupported_store_url_is_input_error() -> None:
    from assistant.errors import InputError

    with pytest.raises(InputError, match="unsupported store URL scheme 'postgresql'"):
        open_store("postgresql://localhost/eks")
