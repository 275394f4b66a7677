"""Latency profiles: how long EKS resources take to change state in the sandbox.

The ``realistic`` numbers are rounded from what real EKS takes; ``fast`` keeps the same order
(cluster slowest, add-on quickest, deletes about half a create) at a pace tests can afford.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["cluster", "nodegroup", "addon", "update"]
Op = Literal["create", "delete", "update"]

KINDS: tuple[str, ...] = ("cluster", "nodegroup", "addon", "update")
OPS: tuple[str, ...] = ("create", "delete", "update")

# Seconds before time_scale. Kind "update" is a cluster version update (UpdateClusterVersion); it has
# one duration whatever the op. ("cluster", "update") is a cluster *config* update.
_PROFILES: dict[str, dict[tuple[str, str], float]] = {
    "none": {},
    "fast": {
        ("cluster", "create"): 1.0,
        ("cluster", "delete"): 0.5,
        ("cluster", "update"): 0.5,
        ("nodegroup", "create"): 0.5,
        ("nodegroup", "delete"): 0.25,
        ("nodegroup", "update"): 0.25,
        ("addon", "create"): 0.3,
        ("addon", "delete"): 0.15,
        ("addon", "update"): 0.3,
        ("update", "update"): 1.0,
    },
    "realistic": {
        ("cluster", "create"): 600.0,
        ("cluster", "delete"): 300.0,
        ("cluster", "update"): 180.0,
        ("nodegroup", "create"): 180.0,
        ("nodegroup", "delete"): 180.0,
        ("nodegroup", "update"): 120.0,
        ("addon", "create"): 60.0,
        ("addon", "delete"): 30.0,
        ("addon", "update"): 60.0,
        ("update", "update"): 1500.0,
    },
}

PROFILE_NAMES: tuple[str, ...] = tuple(_PROFILES)


@dataclass(frozen=True)
class LatencyProfile:
    """A named table of state-change durations, multiplied by ``time_scale``."""

    name: str = "fast"
    time_scale: float = 1.0

    def __post_init__(self) -> None:
        if self.name not in _PROFILES:
            raise ValueError(f"unknown latency profile {self.name!r}; choose one of {', '.join(PROFILE_NAMES)}")
        if not self.time_scale > 0:
            raise ValueError(f"time_scale must be greater than 0, got {self.time_scale}")

    def duration(self, kind: Kind | str, op: Op | str) -> float:
        """Seconds that ``op`` on a resource of ``kind`` takes under this profile."""
        if kind not in KINDS:
            raise ValueError(f"unknown resource kind {kind!r}; choose one of {', '.join(KINDS)}")
        if op not in OPS:
            raise ValueError(f"unknown operation {op!r}; choose one of {', '.join(OPS)}")
        if kind == "update":
            op = "update"
        return _PROFILES[self.name].get((kind, op), 0.0) * self.time_scale

    def to_dict(self) -> dict[str, object]:
        """The profile as plain data, for health output."""
        return {"name": self.name, "time_scale": self.time_scale}
