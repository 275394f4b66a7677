"""Provisioning benchmark: concurrent vs serial apply on the sandbox's realistic profile.

Applies ``three-nodegroups.yaml`` (a new VPC and three node groups) twice, each time on a
fresh in-process sandbox with the realistic latency profile scaled by ``--time-scale``:
once with the engine's concurrency (``needs:`` graph), once one step at a time the way
eksctl-style tools do it. Prints wall time, the critical path the profile implies, their
ratio (goal <= 1.05) and the speedup. Then times ``eks-assist --help`` against
``python -c pass`` (goal: under 150 ms of overhead).

    python benchmarks/provision.py [--time-scale 0.04] [--runs-help 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def apply_once(time_scale: float, parallelism: int) -> tuple[float, float, float]:
    """(wall seconds, critical path seconds, serial path seconds) for one apply."""
    from assistant.clients.aws import AwsContext
    from assistant.engine import Engine
    from assistant.run.runner import RunOptions
    from assistant.sandbox import Sandbox
    from assistant.sandbox.link import SandboxLink
    from assistant.spec import load_spec
    from assistant.store import open_store

    with tempfile.TemporaryDirectory() as state, Sandbox(latency="realistic", time_scale=time_scale, port=0, k8s_port=0) as sb:
        os.environ.update(sb.env())
        os.environ["EKS_ASSIST_STATE_DIR"] = state
        os.environ["KUBECONFIG"] = os.path.join(state, "kubeconfig")  # the apply writes one; never the user's
        loaded = load_spec(HERE / "three-nodegroups.yaml")
        engine = Engine(
            AwsContext(region="us-east-1", sandbox=SandboxLink()),
            open_store(),
            options=RunOptions(parallelism=parallelism, poll_min=0.02, poll_max=0.1),
        )
        planning = engine.plan(loaded)
        t0 = time.perf_counter()
        engine.apply(loaded, planning.plan.hash, "benchmark", "flag")
        wall = time.perf_counter() - t0
        cluster = sb.profile.duration("cluster", "create")
        addon = sb.profile.duration("addon", "create")  # vpc-cni: in place before node groups launch
        nodegroup = sb.profile.duration("nodegroup", "create")
        groups = len(loaded.spec.workers)
        return wall, cluster + addon + nodegroup, cluster + addon + groups * nodegroup


def cold_start(runs: int) -> tuple[float, float]:
    """Median seconds of `python -c pass` and `eks-assist --help`."""

    def median(cmd: list[str]) -> float:
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
            times.append(time.perf_counter() - t0)
        return statistics.median(times)

    base = median([sys.executable, "-c", "pass"])
    cli = median([sys.executable, "-m", "assistant.cli", "--help"])
    return base, cli


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--time-scale", type=float, default=0.04, help="realistic profile scale (default 0.04: cluster create 24 s)")
    ap.add_argument("--runs-help", type=int, default=15, help="repetitions for the --help timing")
    args = ap.parse_args()

    wall, critical, serial_path = apply_once(args.time_scale, parallelism=8)
    swall, _, _ = apply_once(args.time_scale, parallelism=1)
    base, cli = cold_start(args.runs_help)
    print(f"time scale                      {args.time_scale}")
    print(f"concurrent apply wall time      {wall:7.2f} s")
    print(f"critical path (profile)         {critical:7.2f} s   (cluster + vpc-cni add-on + one node group)")
    print(f"ratio wall / critical path      {wall / critical:7.3f}     (goal <= 1.05)")
    print(f"serial apply wall time          {swall:7.2f} s   (profile serial path {serial_path:.2f} s)")
    print(f"speedup concurrent vs serial    {swall / wall:7.2f} x")
    print(f"python -c pass                  {base * 1000:7.1f} ms (median of {args.runs_help})")
    print(f"eks-assist --help               {cli * 1000:7.1f} ms")
    print(f"--help overhead                 {(cli - base) * 1000:7.1f} ms   (goal < 150 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
