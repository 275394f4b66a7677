"""How long a large spec takes to load and validate (``load_spec``: YAML, positions, pydantic).

    python benchmarks/spec_load.py                       # 200 node groups, 10,000 mappings
    python benchmarks/spec_load.py --node-groups 50 --mappings 2000

The spec is generated (half the mappings via aws-auth, half as access entries, one in twenty of
those with a namespace-scoped access policy), written to a temporary file and loaded ``--runs``
times in this process; the median is printed. Run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def spec_text(node_groups: int, mappings: int) -> str:
    """A valid spec with ``node_groups`` managed node groups and ``mappings`` IAM mappings."""
    out = [
        "apiVersion: eks-assist/v1",
        "kind: Cluster",
        "metadata: {name: scale, region: us-east-1}",
        "masters:",
        '  version: "1.33"',
        "  vpc: {create: {cidr: 10.0.0.0/16, azCount: 3}}",
        "  authenticationMode: API_AND_CONFIG_MAP",
        "workers:",
    ]
    for i in range(node_groups):
        out += [
            f"  - name: ng{i:03d}",
            "    instanceTypes: [m5.large]",
            "    amiType: AL2023_x86_64_STANDARD",
            "    capacityType: ON_DEMAND",
            "    scaling: {min: 1, desired: 1, max: 3}",
            f"    labels: {{pool: p{i}}}",
        ]
    out.append("iamMappings:")
    for i in range(mappings):
        via = "aws-auth" if i % 2 == 0 else "access-entry"
        out += [
            f"  - arn: arn:aws:iam::111122223333:role/team-{i:05d}",
            "    kind: role",
            f"    username: team-{i:05d}",
            f"    groups: [team-{i % 50}]",
            f"    via: {via}",
        ]
        if via == "access-entry" and i % 20 == 1:
            out += ["    accessPolicies:", f"      - {{policy: AmazonEKSViewPolicy, scope: namespace, namespaces: [ns-{i}]}}"]
    return "\n".join(out) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--node-groups", type=int, default=200)
    parser.add_argument("--mappings", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    from assistant.spec import load_spec

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "scale.yaml"
        path.write_text(spec_text(args.node_groups, args.mappings), encoding="utf-8")
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            loaded = load_spec(path)
            times.append(time.perf_counter() - start)
        size = path.stat().st_size
    assert len(loaded.spec.workers) == args.node_groups
    print(
        f"{args.node_groups} node groups, {args.mappings} mappings, {size / 1e6:.2f} MB: median {statistics.median(times):.3f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
