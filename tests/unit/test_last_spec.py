"""``Engine.last_spec``: the spec of a cluster's newest successful apply, unless it was destroyed since."""

from __future__ import annotations

import time

import pytest

from assistant.clients.aws import AwsContext
from assistant.engine import Engine
from assistant.errors import InputError
from assistant.store import RunRecord, open_store

from ..conftest import EXAMPLES

DEMO = (EXAMPLES / "demo.yaml").read_text(encoding="utf-8")


def _run(store: object, run_id: str, kind: str, status: str, source: str, at: float) -> None:
    store.create_run(  # type: ignore[attr-defined]
        RunRecord(
            id=run_id, kind=kind, status=status, playbook="cluster", spec_file="demo.yaml", spec_source=source,
            plan={}, plan_hash="0" * 64, account="123456789012", region="us-east-1", profile=None,
            created_at=at, updated_at=at,
        )
    )  # fmt: skip


def test_newest_successful_apply_wins_and_a_destroy_ends_it() -> None:
    store = open_store()
    engine = Engine(AwsContext(region="us-east-1"), store)
    now = time.time()
    with pytest.raises(InputError, match="no successful eks-assist apply of cluster 'demo' in us-east-1"):
        engine.last_spec("demo")
    _run(store, "r1", "apply", "succeeded", DEMO, now - 30)
    _run(store, "r2", "apply", "succeeded", DEMO.replace("max: 3", "max: 5"), now - 20)
    _run(store, "r3", "apply", "failed", DEMO.replace("max: 3", "max: 9"), now - 10)
    assert engine.last_spec("demo").spec.workers[0].scaling.max_size == 5
    _run(store, "r4", "destroy", "succeeded", DEMO, now)
    with pytest.raises(InputError, match="cluster 'demo' in us-east-1 was destroyed by run r4"):
        engine.last_spec("demo")
    store.close()
