"""Drill 4: aws-auth under contention. Five engine runs and an outside writer edit it for a minute; nothing is lost.

One cluster (the full drill spec) is applied first on an in-process sandbox. Then, for the
drill's duration:

- **Five engine workers** (threads, each with its own Engine, AwsContext and store handle) keep
  adding IAM role mappings the way ``/eks map-role`` does: the cluster's last applied spec plus
  one new ``via: aws-auth`` mapping, planned, its hash approved, and applied with the
  ``iam-mappings`` (mostly) or ``cluster`` playbook. They contend for the cluster lock: two give
  up at once (``ClusterLocked``), three wait for it. A run whose plan went stale meanwhile is
  refused (``PlanChangedError``); the worker re-plans from the new last spec and tries again, as
  a person would. A plan that would *remove* a mapping is one nobody who asked to add one would
  approve: the worker declines it and re-plans (counted as well).
- **An outside writer** edits aws-auth as a person with ``kubectl edit`` would: over HTTPS with
  its own EKS token, read-modify-write of the text with the resourceVersion, retrying on 409. It
  adds entries of its own (to mapRoles and mapUsers), edits their comments, and removes some of
  its earlier ones, recording exactly what it means to exist.

Every read the writer makes is also checked: each mapping whose apply had returned before the
read started, and each of the writer's own entries, must be there (a transient loss counts).
At the end the ConfigMap must hold every intended entry with its value and the writer's latest
comment, none the writer removed, the node role mapping, and a managed-entries annotation
naming exactly the engine's entries. No approved plan removed anything. Lost updates: 0.
"""

from __future__ import annotations

import base64
import json
import random
import ssl
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from assistant.clients.aws import AwsContext
from assistant.engine import Engine
from assistant.errors import PlanChangedError
from assistant.governance.locks import ClusterLocked
from assistant.identity.tokens import get_token
from assistant.planning.plan import Plan
from assistant.run.events import Event
from assistant.run.runner import RunOptions
from assistant.sandbox import Sandbox
from assistant.spec import LoadedSpec, loads_spec
from assistant.store import open_store
from assistant.tags import role_name

from .. import secrets_scan
from ..drill_report import record, scaled, seed
from .world import duplicates, full_spec

pytestmark = [pytest.mark.slow, pytest.mark.soak]

REGION = "us-east-1"
CLUSTER = "contend"
WORKERS = 5
# Two workers refuse at once when the lock is held, three wait for it (like --lock-timeout).
LOCK_TIMEOUTS = (0.0, 0.0, 5.0, 5.0, 5.0)
RETRYING = "aws-auth changed concurrently; retrying"
# The writer keeps at most this many entries of its own, so aws-auth stays a realistic size.
WRITER_MAX_LIVE = 40
# Seconds past the deadline a worker may take to get its first mapping applied (and the writer
# its first add, comment edit and removal), so that every one of them really contended.
OVERTIME = 120.0
NODE_USERNAME = "system:node:{{EC2PrivateDNSName}}"
NODE_GROUPS = ["system:bootstrappers", "system:nodes"]
MANAGED_ANNOTATION = "eks-assist.dev/managed-entries"


def _options(lock_timeout: float = 0.0) -> RunOptions:
    return RunOptions(poll_min=0.05, poll_max=0.1, lock_timeout=lock_timeout)


def with_mapping(last: LoadedSpec, arn: str, groups: list[str]) -> LoadedSpec:
    """``last`` plus ``arn`` mapped in aws-auth (what ``/eks map-role`` builds, with ``via: aws-auth``)."""
    data = yaml.safe_load(last.source)
    mappings = [m for m in (data.get("iamMappings") or []) if m.get("arn") != arn]
    mappings.append({"arn": arn, "kind": "role", "via": "aws-auth", "groups": groups})
    data["iamMappings"] = mappings
    text = f"# {CLUSTER}: map {arn} (drill worker)\n" + yaml.safe_dump(data, sort_keys=False)
    return loads_spec(text, last.file)


def aws_auth_removals(plan: Plan) -> list[str]:
    """The aws-auth entries a plan removes (null in ``after``, or in ``before`` and not in ``after``)."""
    out: list[str] = []
    for change in plan.changes:
        if change.action != "k8s.aws_auth":
            continue
        after = change.after or {}
        for section, values in after.items():
            out += [f"{section}:{k}" for k, v in values.items() if v is None]
        for section, values in (change.before or {}).items():
            out += [f"{section}:{k}" for k in values if k not in (after.get(section) or {})]
    return out


# -- the engine workers ------------------------------------------------------------------------


@dataclass
class Applied:
    """One mapping an engine run applied: its ARN, groups, the run, and when the apply returned."""

    arn: str
    groups: list[str]
    run_id: str
    playbook: str
    done_at: float


@dataclass
class Shared:
    """What the workers and the writer record, under one lock."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    applied: list[Applied] = field(default_factory=list)
    refusals: Counter[str] = field(default_factory=Counter)
    events: list[Event] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def sink(self, ev: Event) -> None:
        with self.lock:
            self.events.append(ev)

    def applied_before(self, t: float) -> list[Applied]:
        with self.lock:
            return [a for a in self.applied if a.done_at < t]


def engine_worker(i: int, account: str, deadline: float, shared: Shared) -> None:
    """Add new mappings until the deadline, re-planning after every refusal."""
    rng = random.Random(seed(400 + i))
    engine = Engine(AwsContext(region=REGION), open_store(), sink=shared.sink, options=_options(LOCK_TIMEOUTS[i]))
    n = 0

    def going() -> bool:
        # Past the deadline only to get a first mapping in (bounded): every worker contends.
        now = time.monotonic()
        return now < deadline or (n == 0 and now < deadline + OVERTIME)

    try:
        while going():
            arn = f"arn:aws:iam::{account}:role/engine-{i}-{n}"
            groups = [f"team-{i}", f"batch-{n % 3}"]
            while going():
                playbook = "cluster" if rng.random() < 0.2 else "iam-mappings"
                loaded = with_mapping(engine.last_spec(CLUSTER), arn, groups)
                plan = engine.plan(loaded, playbook).plan
                if aws_auth_removals(plan):
                    # The last applied spec is older than a run still in flight: nobody adding one
                    # mapping would approve removing another. Plan again.
                    with shared.lock:
                        shared.refusals["declined-plan-removing-entries"] += 1
                    time.sleep(rng.uniform(0.05, 0.2))
                    continue
                try:
                    run_id, _ = engine.apply(loaded, plan.hash, f"drill-worker-{i}", "drill", playbook=playbook)
                except ClusterLocked:
                    with shared.lock:
                        shared.refusals["ClusterLocked"] += 1
                    time.sleep(rng.uniform(0.05, 0.2))
                    continue
                except PlanChangedError:
                    with shared.lock:
                        shared.refusals["PlanChangedError"] += 1
                    continue
                with shared.lock:
                    shared.applied.append(Applied(arn, groups, run_id, playbook, time.monotonic()))
                n += 1
                break
    except Exception as exc:  # a worker thread has nobody to raise to; the drill asserts on this
        with shared.lock:
            shared.errors.append(f"worker {i}: {type(exc).__name__}: {exc}")
    finally:
        engine.store.close()


# -- the outside writer ------------------------------------------------------------------------


class Kubectl:
    """A person's ``kubectl get/replace`` of aws-auth over HTTPS, with their own EKS token."""

    def __init__(self, endpoint: str, ca_pem: str) -> None:
        self.url = f"{endpoint}/api/v1/namespaces/kube-system/configmaps/aws-auth"
        self.ssl = ssl.create_default_context(cadata=ca_pem)
        # Its own session: the same person's credentials, not the engine's clients.
        self.session = boto3.Session(region_name=REGION)
        self._token = ""
        self._token_at = -1e9

    def _auth(self) -> str:
        if time.monotonic() - self._token_at > 20:  # presigned for 60 s; refresh well before
            self._token = get_token(self.session, REGION, CLUSTER).token
            self._token_at = time.monotonic()
        return self._token

    def _call(self, method: str, body: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url, data=data, method=method)
        req.add_header("Authorization", f"Bearer {self._auth()}")
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, context=self.ssl, timeout=30) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            with exc:
                return exc.code, json.loads(exc.read() or b"{}")

    def get(self) -> dict[str, Any]:
        status, obj = self._call("GET")
        assert status == 200, f"GET aws-auth: {status} {obj}"
        return obj

    def replace(self, obj: dict[str, Any]) -> int:
        """PUT ``obj`` (with the resourceVersion it was read at); the HTTP status."""
        status, answer = self._call("PUT", obj)
        assert status in (200, 409), f"PUT aws-auth: {status} {answer}"
        return status


@dataclass
class OutsideEntry:
    """An entry the writer means to exist: where, its value, and the comment above it."""

    section: str
    key: str
    value: dict[str, Any]
    comment: str


def _block(entry: OutsideEntry) -> str:
    kf = "rolearn" if entry.section == "mapRoles" else "userarn"
    groups = "".join(f"  - {g}\n" for g in entry.value["groups"])
    return f"{entry.comment}\n- {kf}: {entry.key}\n  username: {entry.value['username']}\n  groups:\n{groups}"


def _without_block(text: str, comment: str) -> str:
    """``text`` minus the item under the comment line ``comment`` (and the comment itself)."""
    lines = text.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.rstrip("\n") == comment)
    end = start + 1
    assert lines[end].startswith("- "), f"the item under {comment!r} moved: {lines[end]!r}"
    end += 1
    while end < len(lines) and not lines[end].startswith(("- ", "#")):
        end += 1
    return "".join(lines[:start] + lines[end:])


@dataclass
class Writer:
    """The outside writer's intentions and counts."""

    live: dict[str, OutsideEntry] = field(default_factory=dict)  # "section:key" -> entry
    removed: set[str] = field(default_factory=set)
    ops: Counter[str] = field(default_factory=Counter)
    conflicts: int = 0
    reads: int = 0
    transient: list[str] = field(default_factory=list)


def _entries(data: dict[str, str], section: str) -> dict[str, Any]:
    kf = "rolearn" if section == "mapRoles" else "userarn"
    items = yaml.safe_load(data.get(section) or "[]") or []
    return {str(e[kf]): e for e in items}


def check_read(obj: dict[str, Any], writer: Writer, must_have: list[Applied]) -> list[str]:
    """What is missing (or back from the dead) in one read of aws-auth."""
    data = obj.get("data") or {}
    roles, users = _entries(data, "mapRoles"), _entries(data, "mapUsers")
    have = {"mapRoles": roles, "mapUsers": users}
    bad = [f"engine entry {a.arn} (run {a.run_id}) missing" for a in must_have if a.arn not in roles]
    for ref, e in writer.live.items():
        if e.key not in have[e.section]:
            bad.append(f"outside entry {ref} missing")
        elif e.comment + "\n" not in (data.get(e.section) or ""):
            bad.append(f"outside entry {ref} lost its comment {e.comment!r}")
    for ref in writer.removed:
        section, _, key = ref.partition(":")
        if key in have[section]:
            bad.append(f"outside entry {ref} was removed but is back")
    return bad


def outside_writer(kubectl: Kubectl, account: str, deadline: float, shared: Shared, writer: Writer) -> None:
    """Edit aws-auth as a person would until the deadline; record what should exist."""
    rng = random.Random(seed(450))
    n = 0

    def going() -> bool:
        now = time.monotonic()
        return now < deadline or (len(writer.ops) < 3 and now < deadline + OVERTIME)

    try:
        while going():
            op = rng.choices(["add", "comment", "remove"], weights=[5, 3, 2])[0]
            if op != "add" and not writer.live:
                op = "add"
            if op == "add" and len(writer.live) >= WRITER_MAX_LIVE:
                op = "remove"
            target = rng.choice(sorted(writer.live)) if op != "add" else None
            if op == "add":
                section = rng.choice(["mapRoles", "mapUsers"])
                kind = "role" if section == "mapRoles" else "user"
                key = f"arn:aws:iam::{account}:{kind}/outside-{n}"
                entry = OutsideEntry(
                    section, key, {"username": f"outside-{n}", "groups": ["outside-team"]}, f"# outside-{n} rev 0"
                )
                n += 1
            while True:
                started = time.monotonic()
                obj = kubectl.get()
                writer.reads += 1
                writer.transient += check_read(obj, writer, shared.applied_before(started))
                data = dict(obj.get("data") or {})
                if op == "add":
                    text = data.get(entry.section) or ""
                    data[entry.section] = text + ("" if not text or text.endswith("\n") else "\n") + _block(entry)
                    new_comment = entry.comment
                else:
                    assert target is not None
                    cur = writer.live[target]
                    text = data[cur.section]
                    if op == "comment":
                        rev = int(cur.comment.rsplit(" ", 1)[1]) + 1
                        new_comment = cur.comment.rsplit(" ", 1)[0] + f" {rev}"
                        data[cur.section] = text.replace(cur.comment + "\n", new_comment + "\n", 1)
                    else:
                        data[cur.section] = _without_block(text, cur.comment)
                yaml.safe_load(data.get("mapRoles") or "[]")  # kubectl edit would refuse broken YAML too
                yaml.safe_load(data.get("mapUsers") or "[]")
                obj["data"] = data
                if kubectl.replace(obj) == 409:
                    writer.conflicts += 1
                    continue
                break
            writer.ops[op] += 1
            if op == "add":
                writer.live[f"{entry.section}:{entry.key}"] = entry
            elif op == "comment":
                assert target is not None
                writer.live[target].comment = new_comment
            else:
                assert target is not None
                writer.removed.add(target)
                del writer.live[target]
            time.sleep(rng.uniform(0.0, 0.05))
    except Exception as exc:
        with shared.lock:
            shared.errors.append(f"writer: {type(exc).__name__}: {exc}")


# -- the drill ---------------------------------------------------------------------------------


def test_aws_auth_keeps_every_intended_entry_under_contention(drill_sandbox: Sandbox, tmp_path: Path, isolated_env: Path) -> None:
    t0 = time.monotonic()
    account = boto3.client("sts", region_name=REGION).get_caller_identity()["Account"]
    loaded = full_spec(CLUSTER, tmp_path / f"{CLUSTER}.yaml")
    setup = Engine(AwsContext(region=REGION), open_store(), options=_options())
    plan = setup.plan(loaded).plan
    setup.apply(loaded, plan.hash, "drill", "drill")
    eks = boto3.client("eks", region_name=REGION)
    cluster = eks.describe_cluster(name=CLUSTER)["cluster"]
    kubectl = Kubectl(cluster["endpoint"], base64.b64decode(cluster["certificateAuthority"]["data"]).decode())

    duration = scaled(60)
    deadline = time.monotonic() + duration
    shared, writer = Shared(), Writer()
    threads = [
        threading.Thread(target=engine_worker, args=(i, account, deadline, shared), name=f"worker-{i}") for i in range(WORKERS)
    ]
    threads.append(threading.Thread(target=outside_writer, args=(kubectl, account, deadline, shared, writer), name="writer"))
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=duration + OVERTIME + 60)
    assert not any(t.is_alive() for t in threads), "a drill thread did not finish"

    # -- what the store says: every run succeeded, and no approved plan removed anything -------
    store = setup.store
    runs = [r for r in store.list_runs(limit=10_000) if r.kind == "apply"]
    not_succeeded = [(r.id, r.status, r.error) for r in runs if r.status != "succeeded"]
    approved_removals = {r.id: removed for r in runs if (removed := aws_auth_removals(Plan.from_canonical(r.plan)))}
    # The mappings accumulate through last_spec: the newest spec names every one applied.
    last = yaml.safe_load(setup.last_spec(CLUSTER).source)
    dropped_from_spec = {a.arn for a in shared.applied} - {m["arn"] for m in last["iamMappings"]}

    # -- the final ConfigMap holds every intended entry ----------------------------------------
    final = kubectl.get()
    data = final["data"]
    roles, users = _entries(data, "mapRoles"), _entries(data, "mapUsers")
    expected_roles: dict[str, dict[str, Any]] = {
        f"arn:aws:iam::{account}:role/{role_name(CLUSTER, REGION, 'node')}": {"username": NODE_USERNAME, "groups": NODE_GROUPS},
        "arn:aws:iam::123456789012:role/PlatformAdmins": {"groups": ["system:masters"]},
    }
    for a in shared.applied:
        expected_roles[a.arn] = {"groups": a.groups}
    lost = [arn for arn in expected_roles if arn not in roles]
    wrong = [arn for arn, want in expected_roles.items() if arn in roles and any(roles[arn][k] != v for k, v in want.items())]
    have = {"mapRoles": roles, "mapUsers": users}
    lost += [ref for ref, e in writer.live.items() if e.key not in have[e.section]]
    wrong += [
        ref
        for ref, e in writer.live.items()
        if e.key in have[e.section] and have[e.section][e.key]["groups"] != e.value["groups"]
    ]
    comments_lost = [ref for ref, e in writer.live.items() if e.comment + "\n" not in data[e.section]]
    resurrected = [ref for ref in writer.removed if ref.partition(":")[2] in have[ref.partition(":")[0]]]
    # Nothing but the intended entries: a duplicate item or a stray would show here.
    items = yaml.safe_load(data["mapRoles"]) + (yaml.safe_load(data.get("mapUsers") or "[]") or [])
    expected_count = len(expected_roles) + len(writer.live)
    managed = set(json.loads(final["metadata"]["annotations"][MANAGED_ANNOTATION]))

    faults = drill_sandbox.fault_counts()
    retries_409 = sum(1 for ev in shared.events if ev.kind == "step_progress" and ev.message == RETRYING)
    texts = {f"event {i}": ev.message for i, ev in enumerate(shared.events)}
    texts["aws-auth"] = json.dumps(final)
    leaks = secrets_scan.scan_tree(isolated_env, tmp_path) + secrets_scan.scan_texts(texts)
    by_playbook = Counter(a.playbook for a in shared.applied)
    record(
        "4 aws-auth contention",
        runs=len(shared.applied),
        faults=f"{WORKERS} concurrent engine runs + an outside kubectl writer for {duration}s",
        outcome="0 lost" if not (lost or writer.transient or shared.errors) else f"{len(lost)} lost, {len(shared.errors)} errors",
        errors=len(shared.errors),
        engine_runs_applied=len(shared.applied),
        by_playbook=dict(by_playbook),
        refusals=dict(shared.refusals),
        engine_409_retries=retries_409,
        outside_writes=sum(writer.ops.values()),
        outside_ops=dict(writer.ops),
        outside_409_retries=writer.conflicts,
        outside_reads_checked=writer.reads,
        outside_entries_live=len(writer.live),
        lost_updates=len(lost),
        transient_losses=len(writer.transient),
        comments_lost=len(comments_lost),
        approved_removals=len(approved_removals),
        duplicates=len(duplicates(drill_sandbox.inventory())),
        secrets_found=len(leaks),
        requests=faults.get("requests", 0),
        seconds=round(time.monotonic() - t0, 1),
    )
    assert shared.errors == []
    assert not_succeeded == [] and len(runs) == 1 + len(shared.applied)
    assert approved_removals == {}
    assert lost == [], lost
    assert dropped_from_spec == set()
    # The annotation names exactly the engine's entries: none of the writer's, none lost.
    assert managed == {f"mapRoles:{arn}" for arn in expected_roles}
    assert writer.transient == [], writer.transient[:10]
    assert wrong == [] and comments_lost == [] and resurrected == []
    assert len(items) == expected_count
    assert {a.arn.rsplit("/", 1)[1].split("-")[1] for a in shared.applied} == {str(i) for i in range(WORKERS)}
    assert writer.ops["add"] and writer.ops["comment"] and writer.ops["remove"]
    assert leaks == []


def test_resume_never_removes_an_entry_its_approval_did_not(drill_sandbox: Sandbox, isolated_env: Path) -> None:
    """Regression: a resumed run met a mapping another run added since, and removed it.

    Run A (adds Y) is interrupted before its aws-auth step; run B (adds X) applies; resuming A
    re-planned its aws-auth step against the new ConfigMap, found X managed but not in A's spec,
    and removed it: A's approval never said so. Removals are now part of the step's ``after``,
    so the runner's check against the approved plan refuses it, and X stays.
    """
    import dataclasses

    from assistant.errors import RunFailed

    loaded = full_spec(CLUSTER)
    engine = Engine(AwsContext(region=REGION), open_store(), options=_options())
    engine.apply(loaded, engine.plan(loaded).plan.hash, "drill", "drill")
    account = boto3.client("sts", region_name=REGION).get_caller_identity()["Account"]
    y, x = f"arn:aws:iam::{account}:role/resumed-y", f"arn:aws:iam::{account}:role/meanwhile-x"

    spec_a = with_mapping(engine.last_spec(CLUSTER), y, ["gy"])
    plan_a = engine.plan(spec_a, "iam-mappings").plan
    # Cancelled at once (a person pressing Esc): A ends "interrupted" before any step, resumable.
    stop = threading.Event()
    stop.set()
    cancelled = Engine(AwsContext(region=REGION), open_store(), options=dataclasses.replace(_options(), cancel=stop))
    with pytest.raises(RunFailed) as interrupted:
        cancelled.apply(spec_a, plan_a.hash, "alice", "drill", playbook="iam-mappings")
    run_a = interrupted.value.run_id
    assert run_a and engine.get_run(run_a).status == "interrupted"

    spec_b = with_mapping(engine.last_spec(CLUSTER), x, ["gx"])
    engine.apply(spec_b, engine.plan(spec_b, "iam-mappings").plan.hash, "bob", "drill", playbook="iam-mappings")

    cluster = boto3.client("eks", region_name=REGION).describe_cluster(name=CLUSTER)["cluster"]
    kubectl = Kubectl(cluster["endpoint"], base64.b64decode(cluster["certificateAuthority"]["data"]).decode())
    assert x in _entries(kubectl.get()["data"], "mapRoles")
    with pytest.raises(RunFailed, match="the world changed during apply"):
        engine.resume(run_a)
    roles = _entries(kubectl.get()["data"], "mapRoles")
    assert x in roles and roles[x]["groups"] == ["gx"], "the resumed run removed an entry its approval did not name"
    assert y not in roles
