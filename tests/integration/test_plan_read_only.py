"""Planning any playbook makes zero mutating AWS calls and leaves the sandbox unchanged."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from assistant.clients.aws import AwsContext
from assistant.engine import Engine
from assistant.run.runner import RunOptions
from assistant.sandbox import Sandbox
from assistant.spec import load_spec
from assistant.store import open_store

from .conftest import DEMO, CallLog, owned

PLAYBOOKS = ["masters", "cni", "workers", "iam-mappings", "kubeconfig", "cluster", "teardown"]


def _kubeconfig_state() -> tuple[bytes, int] | None:
    """The kubeconfig's bytes and mtime: a plan reads it (kubeconfig and teardown playbooks) and never writes it."""
    path = Path(os.environ["KUBECONFIG"])
    return (path.read_bytes(), path.stat().st_mtime_ns) if path.exists() else None


def _plan_all(sandbox: Sandbox, existing: bool = False) -> list[Any]:
    loaded = load_spec(DEMO)
    plans = []
    for playbook in PLAYBOOKS:
        aws = AwsContext(region="us-east-1")
        log = CallLog(aws)
        before = owned(sandbox.inventory())
        kubeconfig = _kubeconfig_state()
        planning = Engine(aws, open_store()).plan(loaded, playbook, preflight=playbook != "teardown")
        assert planning.plan.changes, playbook
        assert log.calls, f"{playbook}: planning made no AWS calls at all?"
        assert log.mutating == [], f"{playbook}: mutating calls during plan: {log.mutating}"
        if playbook != "teardown":  # the extended-support warning reads the version calendar
            assert ("eks", "DescribeClusterVersions") in log.calls, playbook
        assert owned(sandbox.inventory()) == before, playbook
        if playbook != "teardown":
            # The quota checks read Service Quotas and count what exists, read-only like the rest.
            assert ("servicequotas", "ListServiceQuotas") in log.calls, playbook
            assert ("eks", "DescribeCluster") in log.calls, playbook
            counted = ("eks", "ListNodegroups") if existing else ("eks", "ListClusters")
            assert counted in log.calls, (playbook, log.calls)
            assert planning.plan.info, playbook
        assert _kubeconfig_state() == kubeconfig, f"{playbook}: the plan changed the kubeconfig"
        plans.append(planning.plan)
    return plans


def test_plan_on_empty_account_is_read_only(sandbox: Sandbox) -> None:
    _plan_all(sandbox)


@pytest.mark.slow
def test_plan_on_existing_cluster_is_read_only(sandbox: Sandbox) -> None:
    loaded = load_spec(DEMO)
    engine = Engine(AwsContext(region="us-east-1"), open_store(), options=RunOptions(poll_min=0.02, poll_max=0.1))
    engine.apply(loaded, engine.plan(loaded).plan.hash, "test", "flag")
    assert _kubeconfig_state() is not None
    teardown = _plan_all(sandbox, existing=True)[-1]
    change = teardown.change("kubeconfig")
    assert change is not None and change.op.value == "delete"  # the destroy plan shows the context removal
