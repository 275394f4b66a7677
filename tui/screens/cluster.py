"""A cluster's details from the dashboard: node groups, versions, add-ons and IAM mappings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Static, TabbedContent, TabPane

from assistant.inventory import ClusterDetails, cluster_details

from ..bridge import plain_error
from ..connection import Connection
from ..widgets.fit_table import FitTable
from ..widgets.step_bar import StepBar

if TYPE_CHECKING:
    from ..app import EksAssistApp


class ClusterScreen(Screen[None]):
    """Read-only details of one cluster; Destroy starts the gated teardown."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("d", "destroy", "Destroy"),
        Binding("f5", "refresh", "Refresh"),
    ]

    def __init__(self, name: str) -> None:
        super().__init__()
        self.cluster = name

    @property
    def wizard(self) -> EksAssistApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Header()
        yield StepBar("Context")
        yield Static(f"Cluster {self.cluster}", classes="heading", markup=False)
        yield Static("Loading…", id="summary")
        with TabbedContent(id="tabs"):
            with TabPane("Node groups", id="tab-nodegroups"):
                yield FitTable(
                    "name", "status", "version", "instance types", "capacity", "AMI", "min/desired/max", id="nodegroups"
                )
            with TabPane("Add-ons", id="tab-addons"):
                yield FitTable("add-on", "version", "status", id="addons")
            with TabPane("IAM mappings", id="tab-mappings"):
                yield FitTable("source", "principal", "username", "groups", "policies", id="mappings")
        yield Static(id="notes", markup=False)
        with Horizontal(id="nav"):
            yield Button("← Back", id="back", compact=True)
            yield Static(classes="spacer")
            yield Button("Destroy…", id="destroy", variant="error", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self.action_refresh()

    def action_refresh(self) -> None:
        if self.wizard.conn is not None:
            self._load(self.wizard.conn)

    @work(thread=True, exclusive=True)
    def _load(self, conn: Connection) -> None:
        try:
            details = cluster_details(conn.aws, self.cluster)
        except Exception as exc:
            self.app.call_from_thread(self._failed, plain_error(exc))
            return
        self.app.call_from_thread(self._show, details)

    def _failed(self, error: str) -> None:
        self.query_one("#summary", Static).update(Text(error, style="red"))

    def _show(self, d: ClusterDetails) -> None:
        summary = Text()
        for label, value in (
            ("Status", d.status),
            ("Version", d.version),
            ("Auth mode", d.authentication_mode),
            ("Endpoint", self.wizard.redact(d.endpoint or "(not yet)")),
            ("ARN", d.arn),
        ):
            summary.append(f"{label:<10}", style="dim")
            summary.append(f"{value}\n")
        self.query_one("#summary", Static).update(summary)
        self.query_one("#nodegroups", FitTable).set_rows(
            (
                None,
                [
                    g.name,
                    g.status,
                    g.version,
                    ", ".join(g.instance_types),
                    g.capacity_type,
                    g.ami_type,
                    f"{g.min}/{g.desired}/{g.max}",
                ],
            )
            for g in d.nodegroups
        )
        self.query_one("#addons", FitTable).set_rows((None, [a.name, a.version, a.status]) for a in d.addons)
        rows = []
        for m in d.mappings:
            policies = ", ".join(
                p["policy"] + ("" if p["scope"] == "cluster" else f" ({', '.join(p['namespaces'])})") for p in m.policies
            )
            source = f"aws-auth {m.section}" if m.source == "aws-auth" else "access entry"
            rows.append((None, [source, m.arn, m.username or "-", ", ".join(m.groups) or "-", policies or "-"]))
        self.query_one("#mappings", FitTable).set_rows(rows)
        self.query_one("#notes", Static).update("\n".join(f"note: {n}" for n in d.notes))

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "back":
            self.app.pop_screen()
        else:
            self.action_destroy()

    def action_destroy(self) -> None:
        from .destroy import start_destroy

        start_destroy(self.wizard, self.cluster)


__all__ = ["ClusterScreen"]
