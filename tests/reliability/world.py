"""What the drills check the sandbox against: the full spec, and duplicates counted by tags and names."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from assistant.spec import LoadedSpec, loads_spec
from assistant.tags import CLUSTER, MANAGED_BY, RESOURCE

FULL_SPEC = Path(__file__).with_name("full_spec.yaml")


def full_spec(name: str, path: Path | None = None, *, kubeconfig: Path | None = None) -> LoadedSpec:
    """The full drill spec for cluster ``name`` (written to ``path`` too, when given, for CLI runs).

    ``kubeconfig`` gives the cluster its own kubeconfig file instead of $KUBECONFIG.
    """
    text = (
        FULL_SPEC.read_text(encoding="utf-8")
        .replace("name: drill\n", f"name: {name}\n", 1)
        .replace("alias: drill", f"alias: {name}" + (f"\n  path: {json.dumps(str(kubeconfig))}" if kubeconfig else ""))
    )
    if path is not None:
        path.write_text(text, encoding="utf-8")
    return loads_spec(text, str(path or f"{name}.yaml"))


def _owned(tags: dict[str, str]) -> tuple[str, str] | None:
    if MANAGED_BY not in tags:
        return None
    return tags.get(CLUSTER, "?"), tags.get(RESOURCE, "?")


def duplicates(inventory: dict[str, Any]) -> dict[str, int]:
    """Resources of ours that exist more than once, by (kind, cluster, resource tag or name).

    EC2 resources and IAM roles are keyed by their ownership tags; a subnet's key adds its
    resource tag (one per AZ). EKS node groups, add-ons and access entries are keyed by name.
    The value is how many extra copies exist (0 when all is well; only keys > 0 are returned).
    """
    seen: Counter[tuple[str, ...]] = Counter()
    for account in inventory.values():
        for role in account.get("iam", {}).get("roles", {}).values():
            key = _owned(role.get("tags", {}))
            if key:
                seen[("iam-role", *key)] += 1
        for region, services in account.get("regions", {}).items():
            ec2 = services.get("ec2", {})
            for kind in ("vpcs", "subnets", "internetGateways", "routeTables", "launchTemplates"):
                for tags in ec2.get(kind, {}).values():
                    key = _owned(tags)
                    if key:
                        seen[(kind, region, *key)] += 1
            for group in ec2.get("securityGroups", {}).values():
                key = _owned(group.get("tags", {}))
                if key:
                    seen[("securityGroups", region, *key)] += 1
            for name, cluster in services.get("eks", {}).items():
                seen[("cluster", region, name)] += 1
                for kind in ("nodegroups", "addons", "accessEntries"):
                    for item in cluster.get(kind, {}):
                        seen[(kind, region, name, item)] += 1
    return {"/".join(k): n - 1 for k, n in seen.items() if n > 1}
