"""Screen 1, Context: who and where (account, caller, region, profile, or the SANDBOX), and the
clusters dashboard of the region, which opens into a cluster's details.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, Header, Static
from textual.worker import get_current_worker

from assistant.errors import SandboxError
from assistant.inventory import ClusterSummary, list_clusters

from ..bridge import plain_error
from ..connection import Connection
from ..widgets.fit_table import FitTable
from ..widgets.step_bar import StepBar

if TYPE_CHECKING:
    from ..app import EksAssistApp


def identity_text(conn: Connection | None, *, sandbox: bool, error: str = "", region: str | None = None) -> Text:
    """The banner: SANDBOX in loud colours, or the real account and caller."""
    text = Text()
    if sandbox:
        text.append(" SANDBOX ", style="bold black on yellow")
        text.append("  local simulation of AWS and Kubernetes: nothing here touches a real account\n", style="bold")
    if error:
        text.append("Not connected: ", style="bold red")
        text.append(error)
        return text
    if conn is None:
        text.append(f"Connecting to {'the sandbox' if sandbox else 'AWS'}{f' in {region}' if region else ''}…", style="italic")
        return text
    text.append("Account ", style="dim")
    text.append(conn.account, style="bold")
    text.append("   Region ", style="dim")
    text.append(conn.region, style="bold")
    text.append("   Profile ", style="dim")
    text.append(conn.profile or ("(sandbox)" if conn.sandbox else "(default chain)"), style="bold")
    text.append("\nCaller  ", style="dim")
    text.append(conn.caller)
    return text


class ContextScreen(Screen[None]):
    """Account, region and profile (switchable with r), and the region's EKS clusters."""

    BINDINGS = [
        Binding("n", "new", "New cluster"),
        Binding("enter", "open", "Details", show=False),
        Binding("d", "destroy", "Destroy"),
        Binding("r", "switch", "Region/profile"),
        Binding("f5", "refresh", "Refresh"),
        Binding("ctrl+q", "app.quit", "Quit"),
    ]

    @property
    def wizard(self) -> EksAssistApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Header()
        yield StepBar("Context")
        yield Static(id="identity", classes="sandbox" if self.wizard.sandbox else "aws")
        yield Static("Clusters in this region", classes="heading")
        yield FitTable("name", "status", "version", "node groups", "endpoint", id="clusters")
        yield Static(id="clusters-note", markup=False)
        with Horizontal(id="nav"):
            yield Button("New cluster", id="new", variant="primary", compact=True)
            yield Button("Details", id="open", compact=True)
            yield Button("Destroy…", id="destroy", variant="error", compact=True)
            yield Button("Region/profile", id="switch", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self._show_identity()
        if self.wizard.state is not None and self.wizard.state.file:
            self.query_one("#new", Button).label = f"Open {self.wizard.state.file}"
        self.connect(self.wizard.region, self.wizard.profile)

    def _show_identity(self, error: str = "") -> None:
        self.query_one("#identity", Static).update(
            identity_text(self.wizard.conn, sandbox=self.wizard.sandbox, error=error, region=self.wizard.region)
        )

    # -- connecting and listing -----------------------------------------------------------
    @work(thread=True, exclusive=True, group="connect")
    def connect(self, region: str | None, profile: str | None) -> None:
        app = self.wizard
        worker = get_current_worker()

        def starting(seconds: float) -> None:
            if worker.is_cancelled:  # the wizard is quitting: stop waiting for the sandbox
                raise SandboxError("cancelled: the wizard quit while the sandbox was starting")
            self.app.call_from_thread(self._starting, seconds)

        try:
            app.prepare_connection(starting)
            conn = Connection.open(region, profile, sandbox=app.sandbox, factory=app.aws_factory)
        except Exception as exc:
            from assistant.errors import StoreError

            if worker.is_cancelled:  # quitting: nobody is left to tell
                return
            # Another region or profile cannot help a store that is damaged, locked or not writable.
            hint = (
                "Fix the state store as it says above, then start the wizard again (Ctrl+Q quits)."
                if isinstance(exc, StoreError)
                else "Press r to choose a region or profile, then try again."
            )
            self.app.call_from_thread(self._connect_failed, plain_error(exc), hint)
            return
        self.app.call_from_thread(self._connected, conn)

    def _starting(self, seconds: float) -> None:
        self.query_one("#clusters-note", Static).update(
            f"Starting a sandbox for this wizard in the background… {seconds:.0f} s "
            "(kubectl and other terminals can reach it; Ctrl+Q asks whether to keep it)"
        )

    def _connect_failed(self, error: str, hint: str) -> None:
        self._show_identity(error)
        self.query_one("#clusters-note", Static).update(hint)

    def _connected(self, conn: Connection) -> None:
        self.wizard.connected(conn)
        self._show_identity()
        self.refresh_clusters()

    def refresh_clusters(self) -> None:
        if self.wizard.conn is not None:
            self.query_one("#clusters-note", Static).update("Loading clusters…")
            self._list(self.wizard.conn)

    @work(thread=True, exclusive=True, group="clusters")
    def _list(self, conn: Connection) -> None:
        try:
            clusters = list_clusters(conn.aws)
        except Exception as exc:
            self.app.call_from_thread(self._listed, [], plain_error(exc))
            return
        self.app.call_from_thread(self._listed, clusters, "")

    def _listed(self, clusters: list[ClusterSummary], error: str) -> None:
        self.query_one("#clusters", FitTable).set_rows(
            (
                c.name,
                [
                    c.name,
                    Text(c.status, style="green" if c.status == "ACTIVE" else "yellow"),
                    c.version,
                    str(c.nodegroups),
                    self.wizard.redact(c.endpoint or "-"),
                ],
            )
            for c in clusters
        )
        self.wizard.cluster_names = [c.name for c in clusters]
        note = self.query_one("#clusters-note", Static)
        if error:
            note.update(Text(f"Could not list clusters: {error}", style="red"))
        elif not clusters:
            note.update("No EKS clusters in this region yet. Press n to create one.")
        else:
            note.update(f"{len(clusters)} cluster(s). Enter opens details; d destroys (after review and confirmation).")

    # -- actions --------------------------------------------------------------------------
    def _selected(self) -> str | None:
        table = self.query_one("#clusters", DataTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        return str(key.value) if key.value is not None else None

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        {"new": self.action_new, "open": self.action_open, "destroy": self.action_destroy, "switch": self.action_switch}[
            str(event.button.id)
        ]()

    @on(DataTable.RowSelected, "#clusters")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open()

    def action_new(self) -> None:
        self.wizard.start_wizard()

    def action_open(self) -> None:
        from .cluster import ClusterScreen

        name = self._selected()
        if name is None:
            self.notify("No cluster selected.", severity="warning")
            return
        self.app.push_screen(ClusterScreen(name))

    def action_destroy(self) -> None:
        from .destroy import start_destroy

        name = self._selected()
        if name is None:
            self.notify("No cluster selected.", severity="warning")
            return
        start_destroy(self.wizard, name)

    def action_refresh(self) -> None:
        self.refresh_clusters()

    def action_switch(self) -> None:
        from .switch_context import SwitchContextScreen

        def switched(choice: tuple[str, str | None] | None) -> None:
            if choice is None:
                return
            region, profile = choice
            self.wizard.region, self.wizard.profile = region, profile
            self.wizard.conn = None
            self._show_identity()
            self.query_one("#clusters", FitTable).set_rows([])
            self.connect(region, profile)

        self.app.push_screen(SwitchContextScreen(), switched)


__all__ = ["ContextScreen", "identity_text"]
