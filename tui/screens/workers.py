"""Screen 3, Workers: the managed node groups. Add, edit and remove them; each row shows its
instance types, AMI, capacity type, scaling and the pods one node can run.
"""

from __future__ import annotations

import copy
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, DataTable, Static

from assistant.errors import Problem
from assistant.inventory import InstanceTypeInfo, instance_types_named

from ..connection import Connection
from ..state import describe_problem, get_path
from ..widgets.fit_table import FitTable
from .base import WizardScreen


def scaling_text(ng: dict[str, Any]) -> str:
    sc = ng.get("scaling") or {"min": 1, "desired": 2, "max": 2}
    return f"{sc.get('min', '?')}/{sc.get('desired', '?')}/{sc.get('max', '?')}"


class WorkersScreen(WizardScreen):
    """The spec's ``workers`` list."""

    STEP = "Workers"
    SECTION = "workers"
    HEADING = "Workers: managed node groups (a: add · e/Enter: edit · x: remove)"
    BINDINGS = [
        *WizardScreen.BINDINGS,
        Binding("a", "add", "Add"),
        Binding("e", "edit", "Edit"),
        Binding("x,delete", "remove", "Remove"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.pods: dict[str, InstanceTypeInfo] = {}

    @property
    def groups(self) -> list[dict[str, Any]]:
        return self.state.spec.setdefault("workers", [])

    def compose_form(self) -> ComposeResult:
        yield FitTable("name", "instance types", "AMI", "capacity", "min/des/max", "pods/node", id="nodegroups")
        yield Static(id="workers-note", classes="hint", markup=False)
        with Horizontal(classes="buttons"):
            yield Button("Add node group", id="add", compact=True)
            yield Button("Edit", id="edit", compact=True)
            yield Button("Remove", id="remove", compact=True)

    def on_mount(self) -> None:
        self.fill()
        super().on_mount()
        self.query_one("#nodegroups").focus()
        # The picker needs the whole catalogue; start fetching it while the user reads this screen.
        if self.wizard.prefetch_catalogue:
            self.wizard.want_catalogue()

    def fill(self) -> None:
        prefix = bool(get_path(self.state.spec, "cni", "prefixDelegation", default=False))
        rows = []
        for i, ng in enumerate(self.groups):
            types = ng.get("instanceTypes") or []
            pods = [self.pods[t].max_pods_prefix if prefix else self.pods[t].max_pods for t in types if t in self.pods]
            rows.append(
                (
                    str(i),
                    [
                        str(ng.get("name", "")),
                        ", ".join(types),
                        str(ng.get("amiType", "AL2023_x86_64_STANDARD")).replace("_STANDARD", ""),
                        str(ng.get("capacityType", "ON_DEMAND")),
                        scaling_text(ng),
                        str(min(pods)) if pods and len(pods) == len(types) else "…",
                    ],
                )
            )
        self.query_one("#nodegroups", FitTable).set_rows(rows)
        note = "No node groups yet: press a to add one." if not self.groups else f"{len(self.groups)} node group(s)."
        self.query_one("#workers-note", Static).update(note)
        wanted = sorted({t for ng in self.groups for t in ng.get("instanceTypes") or [] if t not in self.pods})
        if wanted and self.wizard.conn is not None:
            self._load_pods(self.wizard.conn, wanted)

    @work(thread=True, exclusive=True, group="pods")
    def _load_pods(self, conn: Connection, names: list[str]) -> None:
        try:
            found = instance_types_named(conn.aws, names)
        except Exception:
            return  # the column stays "…"; Review's preflight reports unknown types with their location
        self.app.call_from_thread(self._pods_loaded, found)

    def _pods_loaded(self, found: dict[str, InstanceTypeInfo]) -> None:
        if found:
            self.pods.update(found)
            self.fill()

    def field_for(self, problem: Problem) -> str | None:
        return None  # node-group problems are listed by group, and shown by field in the editor

    def refresh_problems(self) -> list[Problem]:
        problems = self.section_problems()
        summary = self.query_one("#problems", Static)
        lines = []
        for p in problems:
            index = (p.path or "").split("]", 1)[0].removeprefix("workers[")
            name = self.groups[int(index)].get("name") if index.isdigit() and int(index) < len(self.groups) else None
            lines.append(f"✗ {name or 'workers'}: {describe_problem(p, f'workers[{index}]' if index.isdigit() else '')}")
        summary.update("\n".join(lines))
        summary.display = bool(lines)
        return problems

    # -- actions --------------------------------------------------------------------------
    @on(Button.Pressed, "#add, #edit, #remove")
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        {"add": self.action_add, "edit": self.action_edit, "remove": self.action_remove}[str(event.button.id)]()

    @on(DataTable.RowSelected, "#nodegroups")
    def _selected(self, event: DataTable.RowSelected) -> None:
        self.action_edit()

    def _index(self) -> int | None:
        table = self.query_one("#nodegroups", DataTable)
        return table.cursor_row if self.groups and 0 <= table.cursor_row < len(self.groups) else None

    def _edit(self, index: int | None) -> None:
        from .nodegroup_editor import NodeGroupEditor

        def saved(group: dict[str, Any] | None) -> None:
            if group is None:
                return
            if index is None:
                self.groups.append(group)
            else:
                self.groups[index] = group
            self.fill()
            if index is None:
                self.query_one("#nodegroups", DataTable).move_cursor(row=len(self.groups) - 1)
            self.refresh_problems()

        existing = copy.deepcopy(self.groups[index]) if index is not None else None
        self.app.push_screen(NodeGroupEditor(index, existing), saved)

    def action_add(self) -> None:
        self._edit(None)

    def action_edit(self) -> None:
        index = self._index()
        if index is None:
            self.notify("No node group selected: press a to add one.", severity="warning")
            return
        self._edit(index)

    def action_remove(self) -> None:
        index = self._index()
        if index is None:
            return
        removed = self.groups.pop(index)
        self.fill()
        self.refresh_problems()
        self.notify(f"Removed node group {removed.get('name')}.", markup=False)


__all__ = ["WorkersScreen"]
