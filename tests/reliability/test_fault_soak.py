"""Fault soak: the full cluster spec applied again and again while AWS throttles, fails and lags.

Each run applies a fresh cluster while the sandbox answers 10% of AWS requests with
throttling, 3% with a 5xx, and delays every request by a seeded 0-25 ms. Every run must
converge on its own (no resume, no retry in the test): the apply succeeds, a fresh plan is all
no-op, and the cluster, its node groups, the VPC CNI settings, both IAM mapping routes and
the kubeconfig context are what the spec says. Across all runs, nothing of ours may exist twice.

Most of a faulted apply is spent in botocore's retry backoff, so runs overlap: each chunk of
runs has its own sandbox (one per process, so pytest-xdist can run chunks side by side) and
applies its clusters a few at a time, each from its own engine, all in one account and one
store (each cluster gets its own kubeconfig file: see ``_apply``). A run sets its seeded faults as it starts; overlapping runs share the sandbox's
dice from then on. The chunk that finishes last records the drill's figures for all of them.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import random
import shutil
import statistics
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from botocore.exceptions import ClientError

from assistant.actions.base import ActionContext
from assistant.clients.aws import AwsContext
from assistant.clients.kube import api_client
from assistant.planning.plan import Op
from assistant.run.waiting import poll_until
from assistant.sandbox import FaultConfig, Sandbox
from assistant.spec import LoadedSpec
from assistant.store import Store, open_store

from ..drill_report import REPORT_DIR, record, scaled, seed
from .conftest import REGION, EventLog, drill_engine, plan_and_apply, secrets_in
from .world import duplicates, full_spec

pytestmark = [pytest.mark.slow, pytest.mark.soak]

RUNS = scaled(30)
CHUNK = 10
AT_ONCE = 3
CHUNKS = math.ceil(RUNS / CHUNK)
MAX_LATENCY_MS = 25
FAULTS = f"10% throttle, 3% 5xx, 0-{MAX_LATENCY_MS} ms latency; {AT_ONCE} applies at a time"


def _faults(run: int) -> FaultConfig:
    rng = random.Random(seed(100 + run))
    return FaultConfig(throttle=0.1, error5xx=0.03, latency_ms=rng.randint(0, MAX_LATENCY_MS), seed=seed(100 + run))


def _check_converged(loaded: LoadedSpec, engine: Any) -> list[str]:
    """What differs between the world and the spec, read back through AWS and Kubernetes (empty: converged)."""
    import kubernetes.client

    spec = loaded.spec
    name = spec.metadata.name
    problems = [f"fresh plan: {c.step} would {c.op.value}" for c in engine.plan(loaded).plan.changes if c.op is not Op.NOOP]
    eks = engine.aws.client("eks")
    cluster = eks.describe_cluster(name=name)["cluster"]
    if cluster["status"] != "ACTIVE":
        problems.append(f"cluster {cluster['status']}")
    groups = {}
    for ng in spec.workers:
        got = eks.describe_nodegroup(clusterName=name, nodegroupName=ng.name)["nodegroup"]
        groups[ng.name] = (got["status"], got["scalingConfig"])
    want = {
        ng.name: (
            "ACTIVE",
            {"minSize": ng.scaling.min_size, "desiredSize": ng.scaling.desired_size, "maxSize": ng.scaling.max_size},
        )
        for ng in spec.workers
    }
    if groups != want or sorted(eks.list_nodegroups(clusterName=name)["nodegroups"]) != sorted(want):
        problems.append(f"node groups {groups}")
    addon = eks.describe_addon(clusterName=name, addonName="vpc-cni")["addon"]
    env = json.loads(addon.get("configurationValues") or "{}").get("env", {})
    if addon["status"] != "ACTIVE" or env.get("ENABLE_PREFIX_DELEGATION") != "true" or env.get("WARM_PREFIX_TARGET") != "1":
        problems.append(f"vpc-cni {addon['status']} {env}")
    by_route = {m.via: m for m in spec.iam_mappings}
    entry = by_route["access-entry"].arn
    policies = eks.list_associated_access_policies(clusterName=name, principalArn=entry)["associatedAccessPolicies"]
    if [p["policyArn"].rsplit("/", 1)[-1] for p in policies] != ["AmazonEKSViewPolicy"]:
        problems.append(f"access entry {entry}: {policies}")
    config_map = kubernetes.client.CoreV1Api(api_client(engine.aws, name)).read_namespaced_config_map("aws-auth", "kube-system")
    roles = {r["rolearn"]: r for r in yaml.safe_load((config_map.data or {}).get("mapRoles") or "[]")}
    admin = by_route["aws-auth"]
    if roles.get(admin.arn, {}).get("groups") != list(admin.groups):
        problems.append(f"aws-auth mapRoles {sorted(roles)}")
    kubeconfig = yaml.safe_load(Path(spec.kubeconfig.path or os.environ["KUBECONFIG"]).read_text(encoding="utf-8"))
    if name not in {c["name"] for c in kubeconfig.get("contexts") or []}:
        problems.append(f"kubeconfig has no context {name}")
    return problems


def _retries(engine: Any, run_id: str) -> int:
    [event] = [e for e in engine.store.audit_log(100_000) if e["event"] == "mutating-calls" and e["run_id"] == run_id]
    return int(event["data"]["retries"])


# Outside xdist, one process is the whole session.
_SESSION = uuid.uuid4().hex


def _shared_dir(config: pytest.Config) -> Path:
    """A directory every chunk of this test session sees (keyed by xdist's test run id)."""
    run = getattr(config, "workerinput", {}).get("testrunuid", _SESSION)
    return REPORT_DIR / "fault-soak" / str(run)


def _record_when_all_done(shared: Path, chunk: int, result: dict[str, Any]) -> dict[str, Any] | None:
    """Save this chunk's result; the chunk that sees every result (the last to finish) records the drill."""
    for old in shared.parent.glob("*") if shared.parent.is_dir() else []:
        # Earlier sessions' results (a session's own stay until the next one cleans them).
        if old != shared and time.time() - old.stat().st_mtime > 3600:
            shutil.rmtree(old, ignore_errors=True)
    shared.mkdir(parents=True, exist_ok=True)
    (shared / f"chunk-{chunk}.json").write_text(json.dumps(result), encoding="utf-8")
    results = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(shared.glob("chunk-*.json"))]
    if len(results) < CHUNKS:
        return None
    with contextlib.suppress(FileExistsError):
        os.close(os.open(shared / "recorded", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        retries = [r for res in results for r in res["retries"]]
        injected = {k: sum(res["injected"][k] for res in results) for k in ("requests", "throttle", "error5xx")}
        return record(
            "fault soak",
            runs=len(retries),
            faults=FAULTS,
            outcome=f"{sum(res['converged'] for res in results)}/{len(retries)} converged",
            retries_min=min(retries),
            retries_median=statistics.median(retries),
            retries_max=max(retries),
            retries_total=sum(retries),
            aws_requests=injected["requests"],
            injected_throttles=injected["throttle"],
            injected_5xx=injected["error5xx"],
            duplicates=sum(res["duplicates"] for res in results),
            secrets_found=sum(res["secrets"] for res in results),
            chunks=len(results),
        )
    return None


def _apply(run: int, sandbox: Sandbox, events: EventLog, store: Store, kube: Path) -> tuple[str, LoadedSpec, str, str]:
    """Apply run ``run``'s cluster under its faults: (name, spec, run id or "", failure or "")."""
    # Its own kubeconfig: applying a cluster makes its context the current one, so in a shared
    # file every cluster but the last would plan a kubeconfig update.
    loaded = full_spec(f"soak{run:03d}", kubeconfig=kube / f"soak{run:03d}.config")
    sandbox.set_faults(_faults(run))
    engine = drill_engine(events, store)
    try:
        run_id, _outputs = plan_and_apply(engine, loaded)
    except Exception as exc:  # a finding: the test reports every run that did not converge
        return loaded.spec.metadata.name, loaded, "", f"{type(exc).__name__}: {exc}"
    return loaded.spec.metadata.name, loaded, run_id, ""


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_fault_soak(chunk: int, drill_sandbox: Sandbox, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    events = EventLog()
    store = open_store()
    runs = range(chunk * CHUNK, min(RUNS, (chunk + 1) * CHUNK))
    with ThreadPoolExecutor(max_workers=AT_ONCE, thread_name_prefix="soak") as pool:
        results = list(pool.map(lambda run: _apply(run, drill_sandbox, events, store, Path.home() / "kube"), runs))
    drill_sandbox.set_faults(FaultConfig())
    engine = drill_engine(events, store)
    failures = {name: failure for name, _spec, _run_id, failure in results if failure}
    retries = [_retries(engine, run_id) for _name, _spec, run_id, failure in results if not failure]
    for name, loaded, _run_id, failure in results:
        problems = [] if failure else _check_converged(loaded, engine)
        if problems:
            failures[name] = "; ".join(problems)
    injected = drill_sandbox.fault_counts()
    extra = duplicates(drill_sandbox.inventory())
    # Our clusters are all in the sandbox's one account: a look from a plain client confirms it.
    names = boto3.client("eks", region_name=REGION).list_clusters()["clusters"]
    found, files = secrets_in([tmp_path], {"events": events.text()})

    assert not failures, f"{len(failures)}/{len(runs)} run(s) did not converge: {failures}"
    assert extra == {}, f"duplicates: {extra}"
    assert sorted(names) == [f"soak{run:03d}" for run in runs]
    assert sum(retries) > 0 and injected["throttle"] > 0 and injected["error5xx"] > 0, (retries, injected)
    assert files > 0 and not found, [str(f) for f in found]
    entry = _record_when_all_done(
        _shared_dir(request.config),
        chunk,
        {"retries": retries, "converged": len(runs), "injected": injected, "duplicates": 0, "secrets": len(found)},
    )
    if entry is not None:
        assert entry["figures"]["retries_total"] > 0
        assert entry["outcome"] == f"{RUNS}/{RUNS} converged"


def test_a_wait_rides_out_an_api_brownout(drill_sandbox: Sandbox) -> None:
    """Found by a heavier soak (25% throttling, 10% 5xx): once botocore's retry quota is drained,
    one failed poll ended a long wait. A poll without an answer now only delays the next one."""
    aws = AwsContext(region=REGION, max_attempts=2)  # botocore gives up after one retry, as with a drained quota
    eks = aws.client("eks")
    progress: list[str] = []
    ctx = ActionContext(
        client=aws.client,
        account="123456789012",
        region=REGION,
        step="wait",
        progress=lambda message, fraction=None: progress.append(message),
        poll_min=0.01,
        poll_max=0.02,
        wait_timeout=60,
    )
    # Every answer a 5xx, then every answer a throttle, then answers again.
    phases = {1: FaultConfig(error5xx=1.0), 4: FaultConfig(throttle=1.0), 7: FaultConfig()}
    polls: list[int] = []

    def check() -> tuple[bool, str]:
        polls.append(len(polls) + 1)
        if len(polls) in phases:
            drill_sandbox.set_faults(phases[len(polls)])
        return eks.list_clusters()["clusters"] == [], "ACTIVE"

    poll_until(check, ctx, "cluster x", 1.0)
    assert len(polls) == 7
    assert sum("no answer this time (ServiceUnavailableException)" in m for m in progress) == 3
    assert sum("no answer this time (ThrottlingException)" in m for m in progress) == 3
    assert progress[-1] == "cluster x: ACTIVE"

    # Anything else still ends the wait at once.
    with pytest.raises(ClientError) as missing:
        poll_until(lambda: (eks.describe_cluster(name="missing") is None, "?"), ctx, "cluster missing", 1.0)
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"
