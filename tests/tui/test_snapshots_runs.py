"""Snapshots of the run screens (Apply, Done, Failure) at 80x24 and 120x40.

Each test has its own sandbox with no EKS delays and runs one step at a time, so the event
order is fixed; the clock is frozen (elapsed 0.0s), the run id is fixed, and volatile
values are masked. The failure comes from a 503 on every AWS call once the control plane
is up, with two attempts per call.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from assistant.run.runner import Runner
from assistant.sandbox import FaultConfig, Sandbox

from .conftest import cut_off, quick_aws, redact, settle, settle_sandbox, test_app, wait_for
from .test_snapshots import SIZES, SPEC


@pytest.fixture
def quiet_sandbox(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    with Sandbox(latency="none", port=0, k8s_port=0) as sb:
        settle_sandbox(sb, monkeypatch)
        import boto3

        boto3.client("iam", region_name="us-east-1").create_role(RoleName="PlatformAdmins", AssumeRolePolicyDocument="{}")
        monkeypatch.chdir(tmp_path)
        monkeypatch.setenv("KUBECONFIG", "kubeconfig")
        yield sb


def run_shot(snap_compare: Any, size: tuple[int, int], *, then_continue: bool, **options: Any) -> bool:
    """Apply the snapshot spec, compare the screen it ends on; nothing on it may be cut off."""
    app = test_app(
        spec_file=str(SPEC), redact=redact, clock=lambda: 0.0, parallelism=1, run_ids=lambda: "20260101-000000-snap01", **options
    )
    cut: list[str] = []

    async def run_before(pilot: Pilot[Any]) -> None:
        await wait_for(pilot, lambda: app.conn is not None)
        await app.goto("review")
        await wait_for(pilot, lambda: getattr(app.screen, "planning", None) is not None, what="the plan")
        await pilot.press("ctrl+a")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "TypeNameScreen")
        await pilot.press(*"shop", "enter")
        await wait_for(pilot, lambda: getattr(app.screen, "result", None) is not None, timeout=120, what="the run")
        await settle(pilot)
        if then_continue:
            await pilot.press("enter")
            await settle(pilot)
        app.clear_notifications()
        await pilot.pause()
        cut.extend(f"{type(app.screen).__name__}: {line}" for line in cut_off(app.screen))

    same = bool(snap_compare(app, terminal_size=size, run_before=run_before))
    assert not cut, f"at {size[0]}x{size[1]}, cut off:\n  " + "\n  ".join(cut)
    return same


@pytest.mark.slow
@pytest.mark.parametrize("size", SIZES)
def test_apply_progress_finished(snap_compare: Any, quiet_sandbox: Sandbox, size: tuple[int, int]) -> None:
    assert run_shot(snap_compare, size, then_continue=False)


@pytest.mark.slow
@pytest.mark.parametrize("size", SIZES)
def test_done(snap_compare: Any, quiet_sandbox: Sandbox, size: tuple[int, int]) -> None:
    assert run_shot(snap_compare, size, then_continue=True)


@pytest.mark.slow
@pytest.mark.parametrize("size", SIZES)
def test_failure_with_resume(
    snap_compare: Any, quiet_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, size: tuple[int, int]
) -> None:
    real_emit = Runner._emit

    def emit(self: Runner, run_id: str, kind: str, step: str = "", message: str = "", **kw: Any) -> None:
        real_emit(self, run_id, kind, step, message, **kw)
        if kind == "step_done" and step == "cluster":
            quiet_sandbox.set_faults(FaultConfig(error5xx=1.0))

    monkeypatch.setattr(Runner, "_emit", emit)
    try:
        assert run_shot(snap_compare, size, then_continue=True, aws_factory=quick_aws)
    finally:
        quiet_sandbox.set_faults(FaultConfig())
