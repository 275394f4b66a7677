"""The node-group editor (a modal over Workers): every field of one ``workers`` entry, validated
by the spec model with the group in place, so problems such as ``desired`` outside
``min..max`` or a custom AMI without ``amiType: CUSTOM`` show beside their field.
"""

from __future__ import annotations

import re
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, Select

from assistant.spec import AMI_TYPES

from ..state import new_nodegroup, number_or_text, split_list
from ..widgets.form import Row, TextField
from .editor import EditorScreen

_TAINT = re.compile(r"^(?P<key>[^=:\s]+)(?:=(?P<value>[^:\s]*))?:(?P<effect>\S+)$")


def parse_labels(text: str) -> tuple[dict[str, str], list[str]]:
    """``role=web, tier=front`` → labels, and the entries that are not ``key=value``."""
    labels: dict[str, str] = {}
    bad = []
    for part in [p.strip() for p in text.split(",") if p.strip()]:
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            bad.append(f"{part!r} is not key=value")
        else:
            labels[key.strip()] = value.strip()
    return labels, bad


def parse_taints(text: str) -> tuple[list[dict[str, str]], list[str]]:
    """``dedicated=gpu:NO_SCHEDULE, spot:PREFER_NO_SCHEDULE`` → taints, and the entries that do not parse."""
    taints = []
    bad = []
    for part in [p.strip() for p in text.split(",") if p.strip()]:
        m = _TAINT.match(part)
        if not m:
            bad.append(f"{part!r} is not key=value:EFFECT (like dedicated=gpu:NO_SCHEDULE)")
            continue
        taint = {"key": m["key"], "effect": m["effect"]}
        if m["value"] is not None:
            taint["value"] = m["value"]
        taints.append(taint)
    return taints, bad


def labels_text(labels: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in labels.items())


def taints_text(taints: list[dict[str, str]]) -> str:
    return ", ".join(f"{t['key']}{'=' + t['value'] if t.get('value') is not None else ''}:{t['effect']}" for t in taints)


class NodeGroupEditor(EditorScreen):
    """Edit one node group; Save (Ctrl+S) is refused while it has problems."""

    SECTION = "workers"
    PAGE = "workers"
    TITLE = NOUN = "node group"
    FIELDS = {
        "ng-name": "name",
        "ng-types": "instanceTypes",
        "ng-ami": "amiType",
        "ng-custom-ami": "customAmiId",
        "ng-capacity": "capacityType",
        "ng-min": "scaling.min",
        "ng-desired": "scaling.desired",
        "ng-max": "scaling.max",
        "ng-disk": "diskSize",
        "ng-labels": "labels",
        "ng-taints": "taints",
        "ng-subnets": "subnetIds",
    }

    BINDINGS = [Binding("f4", "pick", "Pick types")]

    def __init__(self, index: int | None, group: dict[str, Any] | None) -> None:
        super().__init__(index, group or new_nodegroup())

    def compose_fields(self) -> ComposeResult:
        g = self.entry
        sc = g.get("scaling") or {}
        existing_vpc = (
            "existing" in ((self.wizard.state.spec.get("masters") or {}).get("vpc") or {}) if self.wizard.state else False
        )
        yield Row(
            "Name",
            TextField(str(g.get("name", "")), id="ng-name", validators=[self.rule("ng-name")]),
            error_id="ng-name-error",
        )
        with Horizontal(classes="with-button"):
            yield Row(
                "Instance types (comma-separated; F4 opens the picker)",
                TextField(
                    ", ".join(g.get("instanceTypes") or []),
                    placeholder="m5.large, m5a.large",
                    id="ng-types",
                    validators=[self.rule("ng-types")],
                ),
                error_id="ng-types-error",
            )
            yield Button("Pick…", id="pick", compact=True)
        with Horizontal(classes="pair"):
            ami = str(g.get("amiType", "AL2023_x86_64_STANDARD"))
            yield Row(
                "AMI type",
                Select(
                    [(a, a) for a in AMI_TYPES],
                    value=ami if ami in AMI_TYPES else Select.NULL,
                    allow_blank=ami not in AMI_TYPES,
                    id="ng-ami",
                    compact=True,
                ),
                error_id="ng-ami-error",
            )
            yield Row(
                "Custom AMI ID (amiType CUSTOM)",
                TextField(
                    str(g.get("customAmiId") or ""),
                    placeholder="ami-…",
                    id="ng-custom-ami",
                    validators=[self.rule("ng-custom-ami")],
                ),
                error_id="ng-custom-ami-error",
            )
        cap = str(g.get("capacityType", "ON_DEMAND"))
        yield Row(
            "Capacity",
            Select(
                [("On-demand", "ON_DEMAND"), ("Spot", "SPOT")],
                value=cap if cap in ("ON_DEMAND", "SPOT") else Select.NULL,
                allow_blank=False,
                id="ng-capacity",
                compact=True,
            ),
            error_id="ng-capacity-error",
        )
        with Horizontal(classes="triple"):
            for key, label in (("min", "Min"), ("desired", "Desired"), ("max", "Max")):
                yield Row(
                    label,
                    TextField(str(sc.get(key, "")), id=f"ng-{key}", validators=[self.rule(f"ng-{key}")]),
                    error_id=f"ng-{key}-error",
                )
        yield Row(
            "Disk size (GiB)",
            TextField(str(g.get("diskSize", "")), placeholder="20", id="ng-disk", validators=[self.rule("ng-disk")]),
            error_id="ng-disk-error",
        )
        yield Row(
            "Labels",
            TextField(
                labels_text(g.get("labels") or {}),
                placeholder="role=web, tier=front",
                id="ng-labels",
                validators=[self.rule("ng-labels")],
            ),
            error_id="ng-labels-error",
        )
        yield Row(
            "Taints",
            TextField(
                taints_text(g.get("taints") or []),
                placeholder="dedicated=gpu:NO_SCHEDULE",
                id="ng-taints",
                validators=[self.rule("ng-taints")],
            ),
            error_id="ng-taints-error",
        )
        if existing_vpc or g.get("subnetIds"):
            yield Row(
                "Node subnets (existing VPC only; default: the cluster's)",
                TextField(
                    ", ".join(g.get("subnetIds") or []),
                    placeholder="subnet-…",
                    id="ng-subnets",
                    validators=[self.rule("ng-subnets")],
                ),
                error_id="ng-subnets-error",
            )

    # -- fields → group -------------------------------------------------------------------
    def apply(self, group: dict[str, Any], field_id: str, value: Any) -> list[str]:
        """Write a field into ``group``; returns entries that could not even be parsed."""
        bad: list[str] = []
        if field_id == "ng-name":
            group["name"] = value
        elif field_id == "ng-types":
            group["instanceTypes"] = split_list(value)
        elif field_id == "ng-ami":
            group["amiType"] = value
        elif field_id == "ng-custom-ami":
            if value.strip():
                group["customAmiId"] = value.strip()
            else:
                group.pop("customAmiId", None)
        elif field_id == "ng-capacity":
            group["capacityType"] = value
        elif field_id in ("ng-min", "ng-desired", "ng-max"):
            scaling = dict(group.get("scaling") or {})
            n = number_or_text(value)
            scaling[field_id.removeprefix("ng-")] = "" if n is None else n
            group["scaling"] = scaling
        elif field_id == "ng-disk":
            n = number_or_text(value)
            if n is None:
                group.pop("diskSize", None)
            else:
                group["diskSize"] = n
        elif field_id == "ng-labels":
            labels, bad = parse_labels(value)
            group["labels"] = labels
        elif field_id == "ng-taints":
            taints, bad = parse_taints(value)
            group["taints"] = taints
        elif field_id == "ng-subnets":
            ids = split_list(value)
            if ids:
                group["subnetIds"] = ids
            else:
                group.pop("subnetIds", None)
        return bad

    def pressed(self, button_id: str | None) -> None:
        """Pick… opens the instance-type picker; Save and Cancel as in every editor."""
        if button_id == "pick":
            self.action_pick()
        else:
            super().pressed(button_id)

    # -- actions --------------------------------------------------------------------------
    def action_pick(self) -> None:
        from .instance_picker import InstanceTypePicker

        def picked(types: list[str] | None) -> None:
            if types is not None:
                self.query_one("#ng-types", TextField).value = ", ".join(types)

        self.app.push_screen(InstanceTypePicker(list(self.entry.get("instanceTypes") or [])), picked)


__all__ = ["NodeGroupEditor", "parse_labels", "parse_taints"]
