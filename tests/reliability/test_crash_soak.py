"""Drill 2: crash soak. Real ``eks-assist apply`` processes are SIGKILLed mid-run; ``eks-assist resume`` converges.

Each run applies the full drill spec (a fresh cluster name per run) with the CLI in a subprocess,
approved by the hash of a plan, against an in-process sandbox published like ``eks-assist
sandbox``. The seeded schedule kills every apply once, in one of three ways, in equal shares:

- **between steps**: as soon as the journal shows a chosen step ``done`` (one that others wait on);
- **in a waiter**: as soon as a chosen step (cluster, add-on, node group) is ``waiting``;
- **after a call**: from the sandbox side, right after it carried out the apply's N-th mutating
  AWS call and before the answer leaves, so the client never journals it.

Some runs are killed twice: the first resume is killed after one of its own mutating calls too.

After every kill the journal must be intact: SQLite's integrity check passes, the run row is there
and parses (still ``applying``, the victim had no chance to say otherwise), every step is in a
known state, and ``eks-assist runs -o json`` lists the run as ``interrupted``. Then ``eks-assist
resume`` must converge: exit 0, the run ``succeeded`` with every step ``done``, nothing duplicated
anywhere in the sandbox, this cluster's resources all there once each, and a fresh plan all no-op.

The 30 runs are split into parametrized chunks, one sandbox each, so pytest-xdist spreads them.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from assistant.clients.aws import AwsContext
from assistant.engine import Engine
from assistant.planning.plan import Op
from assistant.run.runner import RunOptions
from assistant.sandbox import FaultConfig, Sandbox
from assistant.sandbox.link import SandboxLink
from assistant.store import Store, open_store

from .. import secrets_scan
from ..drill_report import record, scaled, seed
from .crash import REGION, CallKiller, Outputs, check_journal, find_run, kill_when, owned_counts, published_sandbox, start_cli
from .world import duplicates, full_spec

pytestmark = [pytest.mark.slow, pytest.mark.soak]

RUNS = scaled(30)
CHUNKS = 5
# The sandbox's fast profile at this scale: cluster creation 0.5 s, node groups 0.25 s, add-on 0.15 s.
TIME_SCALE = 0.5
KINDS = ("between-steps", "in-waiter", "after-call")
# Steps that others wait on, so the apply is still going when one of them is done.
BOUNDARY_STEPS = (
    "cluster_role",
    "node_role",
    "vpc",
    "subnets",
    "internet_gateway",
    "route_table",
    "control_plane_sg",
    "cluster",
    "vpc_cni",
    "aws_node_env",
)
WAITER_STEPS = ("cluster", "vpc_cni", "nodegroup[general]", "nodegroup[spot]", "nodegroup[batch]")
# Mutating calls a full apply of the drill spec makes: roles, policy attachments, the network,
# the cluster, the add-on, an access entry and its policy, three node groups.
MUTATING_CALLS = 28
# A second kill (of the first resume) comes from the runs killed this early after a call, so the
# resume still has calls to make; it is killed within the first half of them.
SECOND_KILL_MAX_FIRST = 20
SECOND_KILL_SHARE = 0.4
CLUSTER_NODEGROUPS = {"general", "spot", "batch"}
DEVELOPERS = "arn:aws:iam::123456789012:role/Developers"


@dataclass(frozen=True)
class Crash:
    """One scheduled run: where its apply is killed, and whether its first resume is killed too."""

    index: int
    kind: str
    step: str = ""  # between-steps / in-waiter: the step whose state triggers the kill
    nth: int = 0  # after-call: kill after the apply's nth mutating call
    second_nth: int = 0  # > 0: kill the first resume after its nth mutating call

    @property
    def cluster(self) -> str:
        return f"crash{self.index:02d}"


def schedule() -> list[Crash]:
    """Every run of the drill, from the seed alone (so a chunk's runs do not depend on the chunking)."""
    rng = random.Random(seed(2))
    kinds = [KINDS[i % len(KINDS)] for i in range(RUNS)]
    rng.shuffle(kinds)
    runs = []
    for i, kind in enumerate(kinds):
        if kind == "between-steps":
            runs.append(Crash(i, kind, step=rng.choice(BOUNDARY_STEPS)))
        elif kind == "in-waiter":
            runs.append(Crash(i, kind, step=rng.choice(WAITER_STEPS)))
        else:
            nth = rng.randint(1, MUTATING_CALLS)
            second = 0
            if nth <= SECOND_KILL_MAX_FIRST and rng.random() < SECOND_KILL_SHARE:
                second = rng.randint(1, (MUTATING_CALLS - nth) // 2)
            runs.append(Crash(i, kind, nth=nth, second_nth=second))
    return runs


@dataclass
class Drill:
    """What one chunk works with: the sandbox, its kill hook, the journal, and where output goes."""

    sandbox: Sandbox
    killer: CallKiller
    store: Store
    engine: Engine
    db: Path
    specs: Path
    outputs: Outputs


@pytest.fixture
def drill(isolated_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Drill]:
    with published_sandbox(TIME_SCALE, monkeypatch) as sb:
        killer = CallKiller()
        sb.set_faults(FaultConfig(after_call=killer))
        store = open_store()
        engine = Engine(AwsContext(region=REGION, sandbox=SandboxLink()), store, options=RunOptions(poll_min=0.05, poll_max=0.1))
        specs = tmp_path / "specs"
        specs.mkdir()
        try:
            yield Drill(sb, killer, store, engine, isolated_env / "state.db", specs, Outputs(tmp_path / "outputs"))
        finally:
            store.close()


def _kill_apply(d: Drill, crash: Crash, spec: Path, plan_hash: str) -> tuple[str, str]:
    """Start the apply and kill it as scheduled; returns (run id, what it was doing when killed)."""
    args = ("apply", "-f", str(spec), "--approve", plan_hash, "--poll-max", "0.1")
    if crash.kind == "after-call":
        # Armed right after the start: its first mutating call comes after its imports and its own plan.
        proc = start_cli(d.outputs, f"{crash.cluster}-apply", *args)
        d.killer.arm(proc.popen.pid, crash.nth)
        try:
            code = proc.finish(120)
        finally:
            call = d.killer.disarm()
        assert call is not None, f"{crash}: apply ended (exit {code}) before its mutating call #{crash.nth}:\n{proc.text()}"
        run_id = find_run(d.store, str(spec))
        assert run_id is not None
        return run_id, f"{call.service}:{call.operation}"
    proc = start_cli(d.outputs, f"{crash.cluster}-apply", *args)
    target = "done" if crash.kind == "between-steps" else "waiting"
    run_id, _ = kill_when(
        proc,
        d.store,
        lambda: find_run(d.store, str(spec)),
        lambda journal: journal.get(crash.step) == target,
    )
    return run_id, crash.step


def _check_killed(d: Drill, crash: Crash, run_id: str) -> dict[str, str]:
    steps = {s.step: s.status for s in check_journal(d.db, d.store, run_id, {"applying"})}
    if crash.kind == "between-steps":
        assert steps[crash.step] == "done", steps
    elif crash.kind == "in-waiter":
        assert steps[crash.step] == "waiting", f"{crash.step} left its waiter before the kill: {steps}"
    else:
        # The killed call was made by a step in its apply phase, journaled before its calls.
        assert "applying" in steps.values(), steps
    code, out = _cli(d, f"{crash.cluster}-runs", "runs", "-o", "json")
    assert code == 0, out
    listed = {r["id"]: r["status"] for r in json.loads(out)}
    assert listed.get(run_id) == "interrupted", listed
    return steps


def _cli(d: Drill, label: str, *args: str) -> tuple[int, str]:
    proc = start_cli(d.outputs, label, *args)
    code = proc.finish(120)
    return code, proc.out.read_text(errors="replace") + proc.err.read_text(errors="replace")


def _check_converged(d: Drill, crash: Crash, run_id: str, spec: Path) -> None:
    run = d.store.get_run(run_id)
    assert run is not None and run.status == "succeeded", run and (run.status, run.error)
    steps = {s.step: s.status for s in d.store.steps(run_id)}
    assert set(steps.values()) == {"done"}, steps
    inventory = d.sandbox.inventory()
    assert duplicates(inventory) == {}
    have = owned_counts(inventory, crash.cluster)
    expected = {"roles": 2, "vpcs": 1, "subnets": 2, "internetGateways": 1, "routeTables": 1, "securityGroups": 1}
    assert {k: have.get(k) for k in expected} == expected, have
    assert have["cluster"] == "ACTIVE", have
    assert have["nodegroups"] == dict.fromkeys(CLUSTER_NODEGROUPS, "ACTIVE"), have
    assert have["addons"] == {"vpc-cni": "ACTIVE"}, have
    assert DEVELOPERS in have["accessEntries"], have
    fresh = d.engine.plan(full_spec(crash.cluster, spec)).plan
    assert [c.step for c in fresh.changes if c.op is not Op.NOOP] == [], fresh.to_json()["summary"]


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_killed_applies_resume_and_converge(drill: Drill, chunk: int, tmp_path: Path) -> None:
    """Every kill leaves an intact journal, and every resume converges with no duplicates."""
    mine = [c for c in schedule() if c.index % CHUNKS == chunk]
    kills: Counter[str] = Counter()
    killed_at: Counter[str] = Counter()
    journal_checks = resumes = second_kills = 0
    for crash in mine:
        spec = drill.specs / f"{crash.cluster}.yaml"
        plan = drill.engine.plan(full_spec(crash.cluster, spec)).plan
        assert plan.has_changes
        run_id, where = _kill_apply(drill, crash, spec, plan.hash)
        kills[crash.kind] += 1
        killed_at[where] += 1
        journal = _check_killed(drill, crash, run_id)
        journal_checks += 1
        resume = ("resume", run_id, "--poll-max", "0.1")
        if crash.second_nth:
            proc = start_cli(drill.outputs, f"{crash.cluster}-resume-killed", *resume)
            drill.killer.arm(proc.popen.pid, crash.second_nth)
            try:
                code = proc.finish(120)
            finally:
                call = drill.killer.disarm()
            assert call is not None, f"{crash}: resume ended (exit {code}) before its call #{crash.second_nth}:\n{proc.text()}"
            second_kills += 1
            killed_at[f"resume {call.service}:{call.operation}"] += 1
            after = {s.step: s.status for s in check_journal(drill.db, drill.store, run_id, {"applying"})}
            # What the first attempt finished stays on record (being re-checked at most), never "pending".
            lost = [step for step, status in journal.items() if status == "done" and after[step] == "pending"]
            assert not lost, f"the killed resume's journal forgot finished steps: {lost}"
            journal_checks += 1
        code, out = _cli(drill, f"{crash.cluster}-resume", *resume)
        assert code == 0 and "converged" in out, f"{crash}: resume failed (exit {code}):\n{out[-4000:]}"
        _check_converged(drill, crash, run_id, spec)
        resumes += 1

    findings = secrets_scan.scan_tree(tmp_path) + secrets_scan.scan_texts(drill.outputs.texts())
    assert findings == [], [str(f) for f in findings]
    dup = duplicates(drill.sandbox.inventory())
    record(
        f"crash soak {chunk + 1}/{CHUNKS}",
        runs=len(mine),
        faults="SIGKILL of apply (and of some resumes)",
        outcome=f"{resumes}/{len(mine)} resumes converged, 0 duplicates, journal intact",
        kills_between_steps=kills["between-steps"],
        kills_in_waiter=kills["in-waiter"],
        kills_after_call=kills["after-call"],
        second_kills=second_kills,
        resumes_converged=resumes,
        duplicates=sum(dup.values()),
        journal_checks_passed=journal_checks,
        secrets_found=len(findings),
        files_scanned=secrets_scan.files_scanned(tmp_path),
        killed_at=dict(sorted(killed_at.items())),
    )
    assert resumes == len(mine) and not dup


def test_kill_points_that_broke_resume(drill: Drill) -> None:
    """Regressions, each pinned to the kill point that found it.

    1. An apply killed between CreateAccessEntry and AssociateAccessPolicy: the approved create
       had no username (EKS picks one), so the resume re-read the entry with EKS's default
       username, planned an update to it, and refused that as "not what was approved".
    2. A resume killed as it starts: it had reset every step to "pending", so its journal said
       that nothing was done, though the first attempt had finished most of the run.
    """
    crash = Crash(90, "after-call", nth=1)
    spec = drill.specs / f"{crash.cluster}.yaml"
    plan = drill.engine.plan(full_spec(crash.cluster, spec)).plan
    proc = start_cli(drill.outputs, "apply", "apply", "-f", str(spec), "--approve", plan.hash, "--poll-max", "0.1")
    drill.killer.arm(proc.popen.pid, 1, operation="CreateAccessEntry")
    try:
        proc.finish(120)
    finally:
        call = drill.killer.disarm()
    assert call is not None and call.operation == "CreateAccessEntry", proc.text()
    run_id = find_run(drill.store, str(spec))
    assert run_id is not None
    assert _check_killed(drill, crash, run_id)["access_entries"] == "applying"
    code, out = _cli(drill, "resume", "resume", run_id, "--poll-max", "0.1")
    assert code == 0 and "converged" in out, out[-4000:]
    _check_converged(drill, crash, run_id, spec)

    crash = Crash(91, "in-waiter", step="nodegroup[general]")
    spec = drill.specs / f"{crash.cluster}.yaml"
    plan = drill.engine.plan(full_spec(crash.cluster, spec)).plan
    run_id, _ = _kill_apply(drill, crash, spec, plan.hash)
    finished = {step for step, status in _check_killed(drill, crash, run_id).items() if status == "done"}
    assert len(finished) >= 10, finished

    resume = start_cli(drill.outputs, "resume-killed", "resume", run_id, "--poll-max", "0.1")
    # Killed as soon as it re-checks its first finished step: its journal is set up by then.
    kill_when(resume, drill.store, lambda: run_id, lambda journal: any(journal[s] in ("applying", "waiting") for s in finished))
    after = {s.step: s.status for s in check_journal(drill.db, drill.store, run_id, {"applying"})}
    assert [step for step in finished if after[step] == "pending"] == [], after
    code, out = _cli(drill, "resume", "resume", run_id, "--poll-max", "0.1")
    assert code == 0 and "converged" in out, out[-4000:]
    _check_converged(drill, crash, run_id, spec)
