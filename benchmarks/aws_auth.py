"""aws-auth micro-benchmark: parse + merge + render of 1,000 and 10,000 entries, before and after.

The "before" model is ``assistant/identity/awsauth.py`` as it is at ``--before`` (a git ref,
default ``main``), loaded from ``git show``; "after" is this checkout's. Both get the same
ConfigMap: N role mappings written by hand (a comment above every tenth), half of them ours
(in the managed annotation). The delta is what an apply of the spec sends: all of our N/2
entries again, one of them changed, plus ten new ones. Each cell is the median of ``--runs``.
One attempt of the apply's retry loop does exactly this parse + merge + render.

    python benchmarks/aws_auth.py [--sizes 1000 10000] [--runs 3] [--before main]
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

ACCOUNT = "111122223333"


def load_before(ref: str) -> ModuleType:
    """The aws-auth model as it is at ``ref`` (it imports only PyYAML and the standard library)."""
    source = subprocess.run(
        ["git", "show", f"{ref}:assistant/identity/awsauth.py"], cwd=HERE.parent, check=True, capture_output=True, text=True
    ).stdout
    path = Path(tempfile.mkdtemp()) / "awsauth_before.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("awsauth_before", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["awsauth_before"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def role(i: int) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/team-{i}"


def config_map(n: int) -> tuple[dict[str, str], dict[str, str], dict[str, dict[str, Any]]]:
    """(data, annotations, upserts) for ``n`` entries, every other one ours."""
    lines: list[str] = []
    ours: dict[str, Any] = {}
    for i in range(n):
        if i % 10 == 0:
            lines.append(f"# team {i}: added by hand\n")
        lines.append(f"- rolearn: {role(i)}\n  username: team-{i}\n  groups:\n  - team-{i}\n  - viewers\n")
        if i % 2:
            ours[role(i)] = {"rolearn": role(i), "username": f"team-{i}", "groups": [f"team-{i}", "viewers"]}
    managed = sorted(f"mapRoles:{arn}" for arn in ours)
    ours[role(1)] = {**ours[role(1)], "groups": ["changed"]}
    for i in range(n, n + 10):
        ours[role(i)] = {"rolearn": role(i), "username": f"team-{i}", "groups": ["new"]}
    data = {"mapRoles": "".join(lines), "mapUsers": "[]\n"}
    import json

    return data, {"eks-assist.dev/managed-entries": json.dumps(managed)}, {"mapRoles": ours}


def attempt(aa: ModuleType, data: dict[str, str], annotations: dict[str, str], upserts: dict[str, Any]) -> dict[str, str]:
    doc = aa.AwsAuth.parse(data, annotations)
    aa.apply_delta(doc, upserts, {})
    out: dict[str, str] = doc.render(data)
    return out


def parses(aa: ModuleType, data: dict[str, str], annotations: dict[str, str], upserts: dict[str, Any]) -> int:
    """YAML documents composed during one attempt (every PyYAML loader composes through here)."""
    import yaml.composer

    count = 0
    original = yaml.composer.Composer.get_single_node

    def counting(self: Any) -> Any:
        nonlocal count
        count += 1
        return original(self)

    yaml.composer.Composer.get_single_node = counting  # type: ignore[method-assign]
    try:
        attempt(aa, data, annotations, upserts)
    finally:
        yaml.composer.Composer.get_single_node = original  # type: ignore[method-assign]
    return count


def timed(aa: ModuleType, n: int, runs: int) -> tuple[float, float, int]:
    """(median seconds of a whole attempt, of the parse alone, YAML parses per attempt)."""
    data, annotations, upserts = config_map(n)
    whole, parse_only = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        aa.AwsAuth.parse(data, annotations)
        parse_only.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        attempt(aa, data, annotations, upserts)
        whole.append(time.perf_counter() - t0)
    return statistics.median(whole), statistics.median(parse_only), parses(aa, data, annotations, upserts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--before", default="main", help="git ref of the 'before' model (default: main)")
    opts = parser.parse_args()

    from assistant.identity import awsauth as after

    before = load_before(opts.before)
    # The two must agree, or the timing compares different work.
    for n in opts.sizes:
        data, annotations, upserts = config_map(min(n, 2000))
        assert attempt(before, data, annotations, upserts) == attempt(after, data, annotations, upserts)

    print("| entries | before: attempt (parse) | YAML parses | after: attempt (parse) | YAML parses | speedup |")
    print("|---|---|---|---|---|---|")
    for n in opts.sizes:
        b_all, b_parse, b_count = timed(before, n, opts.runs)
        a_all, a_parse, a_count = timed(after, n, opts.runs)
        print(
            f"| {n:,} | {b_all:.3f} s ({b_parse:.3f} s) | {b_count:,} | {a_all:.3f} s ({a_parse:.3f} s) | {a_count:,} "
            f"| {b_all / a_all:.1f}x |",
            flush=True,
        )


if __name__ == "__main__":
    main()
