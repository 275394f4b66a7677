"""Scale benchmark: plan and apply a cluster with many node groups and IAM mappings.

Builds a spec with ``--nodegroups`` node groups and ``--mappings`` IAM mappings (half via
aws-auth, half via access entries, one in twenty access entries with an access policy),
applies it to a fresh in-process sandbox (fast profile), then plans it again on the existing
cluster. Reports, for the apply and for that plan: wall time, AWS calls by operation,
Kubernetes API calls, and the process's peak RSS; then the same for a small case (1 node
group, 10 mappings) and the ratios between them.

    python benchmarks/scale.py                       # 50 node groups, 2,000 mappings
    python benchmarks/scale.py --large               # 200 node groups, 10,000 mappings
    python benchmarks/scale.py --nodegroups 5 --mappings 100 --json out.json

The sandbox's "managed node groups per cluster" quota (30 by default) is raised the way an
account that asked for more has it raised (the sandbox's Service Quotas value).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

ACCOUNT = "123456789012"


def build_spec(nodegroups: int, mappings: int) -> dict[str, Any]:
    """A spec (as data) with ``nodegroups`` node groups and ``mappings`` IAM mappings.

    Built as data, not YAML text: 2,000 mappings are more than the spec loader's 50,000-token
    YAML limit (a guard against hostile files), so a file this size would be refused.
    """
    half = mappings // 2
    iam: list[dict[str, Any]] = []
    for i in range(mappings):
        via = "aws-auth" if i < half else "access-entry"
        m: dict[str, Any] = {
            "arn": f"arn:aws:iam::{ACCOUNT}:role/team-{i:05d}",
            "kind": "role",
            "username": f"team-{i:05d}",
            "groups": [f"team-{i % 7}"],
            "via": via,
        }
        # One access entry in ten, up to a tenth of the access entries, gets an access policy.
        if via == "access-entry" and (i - half) % 10 == 0:
            m["accessPolicies"] = [{"policy": "AmazonEKSViewPolicy"}]
        iam.append(m)
    return {
        "apiVersion": "eks-assist/v1",
        "kind": "Cluster",
        "metadata": {"name": "scale", "region": "us-east-1"},
        "masters": {
            "version": "1.33",
            "vpc": {"create": {"cidr": "10.0.0.0/16", "azCount": 3}},
            "authenticationMode": "API_AND_CONFIG_MAP",
        },
        "workers": [
            {"name": f"ng{i:03d}", "instanceTypes": ["m5.large"], "scaling": {"min": 0, "desired": 1, "max": 2}}
            for i in range(nodegroups)
        ],
        "iamMappings": iam,
    }


class Counter:
    """AWS requests sent (botocore before-send: retries count, answers from a plan's read cache
    do not) and Kubernetes API requests (the sandbox's API server)."""

    def __init__(self) -> None:
        self.aws: collections.Counter[str] = collections.Counter()
        self.k8s: collections.Counter[str] = collections.Counter()
        self._lock = threading.Lock()

    def on_aws(self, event_name: str, **_: Any) -> None:
        _, service, operation = event_name.split(".", 2)  # before-send.<service id>.<operation>
        with self._lock:
            self.aws[f"{service}:{operation}"] += 1

    def on_k8s(self, method: str, path: str) -> None:
        kind = path.split("?")[0].rstrip("/").split("/")
        # .../namespaces/<ns>/<kind>/<name>: count by method and kind
        label = kind[-2] if len(kind) >= 2 and kind[-2] in ("configmaps", "daemonsets", "nodes") else kind[-1]
        with self._lock:
            self.k8s[f"{method} {label}"] += 1

    def reset(self) -> None:
        with self._lock:
            self.aws.clear()
            self.k8s.clear()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(nodegroups: int, mappings: int, latency_ms: int = 0) -> dict[str, Any]:
    """Apply then plan (existing cluster) the spec on a fresh sandbox; numbers for both.

    ``latency_ms`` is added to every AWS request (the sandbox's fault injection), to stand in
    for the round trip to a real AWS endpoint.
    """
    from assistant.clients.aws import AwsContext
    from assistant.engine import Engine
    from assistant.planning.quotas import NODEGROUPS, SERVICE_CODE
    from assistant.run.runner import RunOptions
    from assistant.sandbox import Sandbox, servicequotas
    from assistant.sandbox.faults import FaultConfig
    from assistant.sandbox.link import SandboxLink
    from assistant.spec import parse_spec
    from assistant.spec.source import Locator
    from assistant.store import open_store

    counter = Counter()
    out: dict[str, Any] = {"nodegroups": nodegroups, "mappings": mappings, "latency_ms": latency_ms}
    with (
        tempfile.TemporaryDirectory() as state,
        Sandbox(latency="fast", port=0, k8s_port=0, faults=FaultConfig(latency_ms=latency_ms)) as sb,
    ):
        os.environ.update(sb.env())
        os.environ["EKS_ASSIST_STATE_DIR"] = state
        os.environ["KUBECONFIG"] = os.path.join(state, "kubeconfig")
        servicequotas.set_value(ACCOUNT, "us-east-1", SERVICE_CODE, NODEGROUPS.code, max(30, nodegroups))
        k8s = sb._servers()[1]
        dispatch = k8s.dispatch

        def counted(method: str, raw_path: str, headers: dict[str, str], body: bytes) -> Any:
            counter.on_k8s(method, raw_path)
            return dispatch(method, raw_path, headers, body)

        k8s.dispatch = counted  # type: ignore[method-assign]
        loaded = parse_spec(build_spec(nodegroups, mappings), Locator("scale.yaml"))
        aws = AwsContext(region="us-east-1", sandbox=SandboxLink(), max_pool_connections=32)
        aws.session._session.get_component("event_emitter").register_first("before-send", counter.on_aws)
        engine = Engine(aws, open_store(), options=RunOptions(poll_min=0.02, poll_max=0.1))

        counter.reset()
        t0 = time.perf_counter()
        planning = engine.plan(loaded)
        out["plan_new"] = {"wall": time.perf_counter() - t0, "aws": dict(counter.aws), "k8s": dict(counter.k8s)}

        counter.reset()
        t0 = time.perf_counter()
        engine.apply(loaded, planning.plan.hash, "benchmark", "flag")
        out["apply"] = {"wall": time.perf_counter() - t0, "aws": dict(counter.aws), "k8s": dict(counter.k8s)}
        steps = {s.step: s for s in engine.store.steps(engine.store.list_runs(limit=1)[0].id)}
        ae = steps.get("access_entries")
        if ae is not None and ae.started_at and ae.finished_at:
            out["apply"]["access_entries_step"] = ae.finished_at - ae.started_at
        timed = [(s.finished_at - s.started_at, name) for name, s in steps.items() if s.started_at and s.finished_at]
        out["apply"]["longest_steps"] = [(name, round(t, 2)) for t, name in sorted(timed, reverse=True)[:5]]

        counter.reset()
        t0 = time.perf_counter()
        again = engine.plan(loaded)
        out["plan_existing"] = {"wall": time.perf_counter() - t0, "aws": dict(counter.aws), "k8s": dict(counter.k8s)}
        changed = [c.step for c in again.plan.changes if c.op.value != "no-op"]
        out["plan_existing"]["changes"] = changed
        out["peak_rss_mb"] = peak_rss_mb()
    return out


def _row(name: str, m: dict[str, Any], base: dict[str, Any] | None) -> str:
    calls = sum(m["aws"].values())
    k8s = sum(m["k8s"].values())
    ratio = ""
    if base is not None:
        bcalls = sum(base["aws"].values())
        ratio = f"{m['wall'] / base['wall']:.2f}x time, {calls / max(1, bcalls):.1f}x calls"
    return f"| {name} | {m['wall']:.2f} s | {calls} | {k8s} | {ratio} |"


def report(big: dict[str, Any], small: dict[str, Any]) -> str:
    lines = [
        f"AWS request latency added: {big.get('latency_ms', 0)} ms",
        f"{big['nodegroups']} node groups, {big['mappings']} mappings (ratio to {small['nodegroups']} node group, "
        f"{small['mappings']} mappings); peak RSS {big['peak_rss_mb']:.0f} MB",
        "",
        "| phase | wall | AWS calls | Kubernetes calls | ratio to small |",
        "|---|---|---|---|---|",
        _row("plan (new cluster)", big["plan_new"], small["plan_new"]),
        _row("plan (existing cluster)", big["plan_existing"], small["plan_existing"]),
        _row("apply (incl. re-plan)", big["apply"], small["apply"]),
    ]
    if "access_entries_step" in big["apply"]:
        lines.append(f"\naccess_entries step in the apply: {big['apply']['access_entries_step']:.2f} s")
    lines.append("longest steps in the apply: " + ", ".join(f"{n} {t:.2f} s" for n, t in big["apply"]["longest_steps"]))
    for phase in ("plan_existing", "apply"):
        lines.append(f"\n{phase} AWS calls by operation:")
        for op, n in sorted(big[phase]["aws"].items(), key=lambda kv: -kv[1]):
            lines.append(f"  {n:6d} {op}")
        lines.append(f"{phase} Kubernetes calls: " + ", ".join(f"{k} {v}" for k, v in sorted(big[phase]["k8s"].items())))
    if big["plan_existing"]["changes"]:
        lines.append(f"\nWARNING: the plan after apply is not all no-op: {big['plan_existing']['changes']}")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nodegroups", type=int, default=50)
    ap.add_argument("--mappings", type=int, default=2000)
    ap.add_argument("--large", action="store_true", help="200 node groups, 10,000 mappings")
    ap.add_argument("--json", help="also write the raw numbers to this file")
    ap.add_argument(
        "--api-latency-ms", type=int, default=0, help="add this many ms to every AWS request (a real endpoint's round trip)"
    )
    args = ap.parse_args()
    if args.large:
        args.nodegroups, args.mappings = 200, 10_000
    small = measure(1, 10, args.api_latency_ms)
    big = measure(args.nodegroups, args.mappings, args.api_latency_ms)
    print(report(big, small))
    if args.json:
        Path(args.json).write_text(json.dumps({"big": big, "small": small}, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
