"""Cold start of ``eks-assist --help`` and ``eks-assist validate`` against ``python -c pass``.

    python benchmarks/startup.py                      # this checkout
    python benchmarks/startup.py --repo /path/to/old  # another checkout, e.g. a worktree of an older commit

Each command runs ``--runs`` times in a fresh interpreter (``python -m assistant.cli``, with the
checkout first on ``PYTHONPATH``); the medians and their ratio to ``python -c pass`` are printed
as a Markdown table. Run it on a quiet machine: other load moves every figure.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def median_ms(argv: list[str], env: dict[str, str], runs: int, cwd: Path) -> float:
    """Median wall time of ``argv`` in milliseconds over ``runs`` runs (after one warm-up for the disk cache)."""
    times = []
    for i in range(runs + 1):
        start = time.perf_counter()
        # In the checkout: ``python -m`` puts the working directory first on sys.path.
        subprocess.run(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        if i:
            times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repo", type=Path, default=HERE.parent, help="checkout to measure (default: this one)")
    parser.add_argument("--runs", type=int, default=21, help="runs per command (default: %(default)s)")
    args = parser.parse_args()
    repo = args.repo.resolve()
    env = {**os.environ, "PYTHONPATH": str(repo)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # the warm-up run writes the bytecode the timed runs read
    spec = str(HERE.parent / "examples" / "demo.yaml")
    cli = [sys.executable, "-m", "assistant.cli"]
    baseline = median_ms([sys.executable, "-c", "pass"], env, args.runs, repo)
    rows = [("`python -c pass`", baseline)]
    rows.append(("`eks-assist --help`", median_ms([*cli, "--help"], env, args.runs, repo)))
    rows.append(("`eks-assist validate -f examples/demo.yaml`", median_ms([*cli, "validate", "-f", spec], env, args.runs, repo)))
    print(f"checkout: {repo}  ({args.runs} runs each, medians)\n")
    print("| command | median | ratio to `python -c pass` |")
    print("|---|---|---|")
    for name, ms in rows:
        print(f"| {name} | {ms:.1f} ms | {ms / baseline:.1f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
