"""The live capacity panel: pods per node per node group, and IPs needed at max scale against
every subnet's free IPs, as bars, with the planner's own warnings.

The numbers come from :mod:`assistant.network.capacity` (the same code ``eks-assist capacity`` and
every plan use) on real ``DescribeInstanceTypes``/``DescribeSubnets`` data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from assistant.network import capacity


@dataclass
class GroupPods:
    """Pods per node for one node group (the lowest of its instance types), and its max size."""

    name: str
    per_type: list[tuple[str, int]]
    max_nodes: int

    @property
    def pods_per_node(self) -> int:
        return min((p for _, p in self.per_type), default=0)


@dataclass
class CapacityReport:
    """What the panel shows; ``error`` replaces everything when the spec cannot be measured yet."""

    groups: list[GroupPods] = field(default_factory=list)
    subnets: list[capacity.SubnetLoad] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: str = ""


def measure(spec: dict[str, Any], aws: Any) -> CapacityReport:
    """Compute the report for a canonical spec (read-only AWS calls: run it in a worker)."""
    settings = capacity.CniSettings.from_spec(spec.get("cni") or {})
    workers = spec.get("workers") or []
    report = CapacityReport(warnings=[msg for _, msg in capacity.check_settings(settings)])
    if not workers:
        report.error = "No node groups yet: add them on the Workers screen."
        return report
    types = sorted({t for ng in workers for t in ng.get("instanceTypes") or []})
    nets = capacity.describe_instance_types(aws.client, types)
    for ng in workers:
        per_type = [
            (
                t,
                capacity.max_pods(
                    nets[t], prefix_delegation=settings.prefix_delegation, custom_networking=settings.custom_networking
                ).recommended,
            )
            for t in ng.get("instanceTypes") or []
        ]
        report.groups.append(GroupPods(ng["name"], per_type, int((ng.get("scaling") or {}).get("max") or 0)))
    report.subnets = capacity.subnet_budget(spec, aws.client, settings=settings)
    report.warnings = capacity.budget_warnings(report.subnets, settings) + capacity.settings_notes(spec) + report.warnings
    return report


def bar(used: int, total: int, width: int = 20) -> Text:
    """``█████░░░`` of ``used`` against ``total``: green when it fits, red (and full) when it does not."""
    fits = used <= total
    filled = width if not fits or total <= 0 else min(width, math.ceil(width * used / total)) if used else 0
    text = Text("█" * filled, style="green" if fits else "red")
    text.append("░" * (width - filled), style="dim")
    return text


class CapacityPanel(Static):
    """Renders a :class:`CapacityReport`."""

    DEFAULT_CLASSES = "capacity-panel"

    def show(self, report: CapacityReport) -> None:
        self.update(self.render_report(report))

    @staticmethod
    def render_report(report: CapacityReport) -> RenderableType:
        parts: list[RenderableType] = []
        if report.error:
            parts.append(Text(report.error, style="italic"))
        if report.groups:
            pods = Table(title="Pods per node", title_justify="left", expand=False, box=None, padding=(0, 1))
            # "fold": a cell too long for a narrow panel breaks onto the next line, never ends in "…".
            pods.add_column("node group", overflow="fold")
            pods.add_column("instance types (max pods)", overflow="fold")
            pods.add_column("pods/node", justify="right")
            pods.add_column("max nodes", justify="right")
            for g in report.groups:
                kinds = ", ".join(f"{t} ({p})" for t, p in g.per_type)
                pods.add_row(g.name, kinds, str(g.pods_per_node), str(g.max_nodes))
            parts.append(pods)
        if report.subnets:
            ips = Table(title="Subnet IPs at max scale", title_justify="left", expand=False, box=None, padding=(0, 1))
            ips.add_column("subnet", overflow="fold")
            ips.add_column("needed / free", justify="right")
            ips.add_column("")
            for s in report.subnets:
                label = s.ref if s.cidr is None or s.cidr == s.ref else f"{s.ref} ({s.cidr})"
                ips.add_row(label, f"{s.needed} / {s.free}", bar(s.needed, s.free))
            parts.append(ips)
        if report.warnings:
            warn = Text("Warnings\n", style="bold yellow")
            for w in report.warnings:
                warn.append(f"! {w}\n", style="yellow")
            parts.append(warn)
        elif report.subnets:
            parts.append(Text("✓ every subnet can hold its node groups at max scale", style="green"))
        return Group(*parts)


__all__ = ["CapacityPanel", "CapacityReport", "GroupPods", "bar", "measure"]
