"""Waiting holds no slot; ``--parallelism`` limits the calls in flight per AWS service.

Five independent steps, each shaped like a node group (a read, one create, then polls until the
resource is "ACTIVE"), run against the sandbox over HTTP. Everything is checked by structure,
never by the clock:

- a step's resource turns ACTIVE only once all five steps have been seen waiting at the same
  time, so a runner whose waits hold worker slots never gets there (its waits time out);
- the sandbox counts, per service, the requests it is serving at once, holding each one until
  one more than the limit is in flight or a moment has passed, so a missing limit shows;
- with ``--parallelism 1``, steps run one at a time, each with its wait, in playbook order.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.actions import registry
from assistant.actions.base import Action, ActionArgs, ActionContext, Planned
from assistant.clients.aws import AwsContext
from assistant.errors import RunFailed
from assistant.planning.plan import Op
from assistant.planning.planner import build_plan
from assistant.playbook.loader import load_playbook
from assistant.run.events import Event
from assistant.run.runner import Runner, RunOptions
from assistant.run.waiting import WaitFailed, poll_until
from assistant.sandbox import Sandbox
from assistant.sandbox.faults import AwsCall, FaultConfig
from assistant.store import RunRecord, Store, open_store

STEPS = 5
ACTION = "test_slow_create"


class Waits:
    """Which steps are between their first poll and the end of their wait, and the most at once."""

    def __init__(self, ready_at: int, then: threading.Event | None = None) -> None:
        """Resources turn ACTIVE once ``ready_at`` steps wait at once; or, with ``then``, that is set instead."""
        self.ready_at = ready_at
        self.then = then
        self.lock = threading.Lock()
        self.now: set[str] = set()
        self.most = 0
        self.ready = False

    def poll(self, step: str) -> bool:
        with self.lock:
            self.now.add(step)
            self.most = max(self.most, len(self.now))
            if len(self.now) >= self.ready_at and not self.ready:
                self.ready = True
                if self.then is not None:
                    self.then.set()
            return self.ready and self.then is None

    def leave(self, step: str) -> None:
        with self.lock:
            self.now.discard(step)


class InFlight:
    """The sandbox's view: requests per service it is carrying out at once (its after_call hook)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.cond = threading.Condition()
        self.now: dict[str, int] = {}
        self.most: dict[str, int] = {}

    def __call__(self, call: AwsCall) -> None:
        with self.cond:
            count = self.now[call.service] = self.now.get(call.service, 0) + 1
            self.most[call.service] = max(self.most.get(call.service, 0), count)
            self.cond.notify_all()
            # Held until one request more than the limit is in flight (the failure this looks
            # for) or a moment has passed: overlap as wide as the runner lets it be.
            self.cond.wait_for(lambda: self.now[call.service] > self.limit, timeout=0.05)
            self.now[call.service] -= 1


class SlowArgs(ActionArgs):
    """The name of the key pair that stands in for a node group."""

    name: str


def slow_action(waits: Waits) -> type[Action]:
    """A node-group-like action on EC2 key pairs whose "ACTIVE" is up to ``waits``."""

    class SlowCreate(Action):
        """Read, create, then poll until ``waits`` says so."""

        name = ACTION
        summary = "test stand-in for a node group"
        Args = SlowArgs

        def read(self, args: SlowArgs, ctx: ActionContext) -> dict[str, Any] | None:
            pairs = ctx.client("ec2").describe_key_pairs(Filters=[{"Name": "key-name", "Values": [args.name]}])["KeyPairs"]
            return {"name": args.name} if pairs else None

        def plan(self, args: SlowArgs, current: dict[str, Any] | None, ctx: ActionContext) -> Planned:
            op = Op.NOOP if current else Op.CREATE
            return Planned(op, f"key pair {args.name}", None, {"name": args.name}, outputs={"name": args.name})

        def apply(self, args: SlowArgs, planned: Planned, current: dict[str, Any] | None, ctx: ActionContext) -> dict[str, Any]:
            ctx.client("ec2").create_key_pair(KeyName=args.name)
            return {"name": args.name}

        def wait(self, args: SlowArgs, outputs: dict[str, Any], ctx: ActionContext) -> dict[str, Any]:
            def active() -> tuple[bool, str]:
                if self.read(args, ctx) is None:
                    raise WaitFailed(f"{args.name} disappeared")
                return waits.poll(ctx.step), "CREATING"

            try:
                poll_until(active, ctx, f"key pair {args.name}", 10.0)
            finally:
                waits.leave(ctx.step)
            return outputs

    return SlowCreate


@pytest.fixture
def playbook(tmp_path: Path) -> Path:
    steps = "".join(
        f"  - id: group{i}\n    action: {ACTION}\n    with: {{name: {tmp_path.name[-12:]}-group{i}}}\n" for i in range(STEPS)
    )
    path = tmp_path / "slow.yaml"
    path.write_text(f"name: slow\nsteps:\n{steps}")
    return path


@pytest.fixture
def apply_with(sandbox: Sandbox, playbook: Path, isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """``apply_with(waits, parallelism, cancel=None)``: plan and run the playbook; (events, in-flight, store, run id)."""
    aws = AwsContext(region="us-east-1")
    account, _ = aws.identity()
    store: Store = open_store()
    registry.names()  # the built-in actions first, so the test action is only added

    def apply(waits: Waits, parallelism: int, cancel: threading.Event | None = None) -> tuple[list[Event], InFlight, Store, str]:
        monkeypatch.setitem(registry._REGISTRY, ACTION, slow_action(waits))
        planning = build_plan(
            load_playbook(str(playbook)), {"metadata": {"name": "t", "region": "us-east-1"}}, aws.client, account, "us-east-1"
        )
        run = RunRecord(
            id=f"20260101-000000-par{parallelism}",
            kind="apply",
            status="applying",
            playbook=str(playbook),
            spec_file="",
            spec_source="",
            plan=planning.plan.canonical(),
            plan_hash=planning.plan.hash,
            account=account,
            region="us-east-1",
            profile=None,
            created_at=time.time(),
            updated_at=time.time(),
            pid=0,
            approver="test",
        )
        store.create_run(run)
        events: list[Event] = []
        options = RunOptions(parallelism=parallelism, poll_min=0.01, poll_max=0.05, wait_timeout=30.0, cancel=cancel)
        runner = Runner(store, aws.client, account, "us-east-1", events.append, options, session=aws.session)
        in_flight = InFlight(parallelism)
        sandbox.set_faults(FaultConfig(after_call=in_flight))
        try:
            runner.execute(run, planning, planning.plan)
        finally:
            sandbox.set_faults(FaultConfig())
        return events, in_flight, store, run.id

    yield apply


def most_at_once(events: list[Event]) -> int:
    """The most steps that were between step_started and their end at the same time."""
    now = most = 0
    for ev in events:
        if ev.kind == "step_started":
            now += 1
            most = max(most, now)
        elif ev.kind in ("step_done", "step_failed"):
            now -= 1
    return most


def test_every_independent_step_waits_at_once_while_calls_stay_within_the_limit(apply_with: Any) -> None:
    waits = Waits(ready_at=STEPS)
    events, in_flight, store, run_id = apply_with(waits, parallelism=2)
    assert waits.most == STEPS, "the steps never all waited at the same time"
    assert [e.kind for e in events].count("step_done") == STEPS
    # Never more than two requests to one service at once, and the limit was reached.
    assert in_flight.most["ec2"] == 2, in_flight.most
    assert all(n <= 2 for n in in_flight.most.values()), in_flight.most
    assert {s.status for s in store.steps(run_id)} == {"done"}


def test_parallelism_1_runs_one_step_at_a_time_with_its_wait(apply_with: Any) -> None:
    waits = Waits(ready_at=1)
    events, in_flight, _, _ = apply_with(waits, parallelism=1)
    assert waits.most == 1 and most_at_once(events) == 1
    assert all(n == 1 for n in in_flight.most.values()), in_flight.most
    # The eksctl way, in playbook order: each step's wait ends before the next step starts.
    order = [(e.kind, e.step) for e in events if e.kind in ("step_started", "step_done")]
    assert order == [(kind, f"group{i}") for i in range(STEPS) for kind in ("step_started", "step_done")]


def test_a_cancel_ends_every_wait_and_leaves_the_run_resumable(apply_with: Any) -> None:
    cancel = threading.Event()
    # Cancelled once every step waits; none of them ever sees "ACTIVE".
    waits = Waits(ready_at=STEPS, then=cancel)
    with pytest.raises(RunFailed, match="cancelled"):
        apply_with(waits, parallelism=2, cancel=cancel)
    store: Store = open_store()
    run = store.get_run("20260101-000000-par2")
    assert run is not None and run.status == "interrupted"
    steps = store.steps(run.id)
    assert len(steps) == STEPS and all(s.status == "failed" and "cancelled" in s.error for s in steps), steps
