"""Quitting while this wizard's own sandbox runs: keep it running in the background, or stop it.

The sandbox holds every cluster made in this session, and kubectl reaches them through the
kubeconfig contexts the wizard wrote. The dialog says what each choice does to both before the
user picks; the wizard carries out the choice after the screen is gone (``tui.cli_hook``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from assistant.inventory import list_clusters
from assistant.sandbox import statefile

if TYPE_CHECKING:
    from ..app import EksAssistApp

KEEP, STOP = "keep", "stop"


class QuitScreen(ModalScreen[str | None]):
    """Keep the sandbox running (``"keep"``), stop it (``"stop"``), or stay in the wizard (None)."""

    BINDINGS = [
        Binding("escape", "stay", "Stay"),
        Binding("k", "choose('keep')", "Keep running"),
        Binding("s", "choose('stop')", "Stop sandbox"),
    ]

    def __init__(self, info: statefile.SandboxInfo) -> None:
        super().__init__()
        self.info = info
        self.clusters: list[str] | None = None  # None until listed

    @property
    def wizard(self) -> EksAssistApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="wide"):
            yield Static(self.explanation(), id="quit-text")
            with Horizontal(classes="buttons"):
                yield Button("Stay", id="stay", compact=True)
                yield Button("Stop sandbox", id="stop", variant="error", compact=True)
                yield Button("Keep running", id="keep", variant="primary", compact=True)

    def on_mount(self) -> None:
        self.query_one("#keep", Button).focus()
        if self.wizard.conn is not None:
            self._list_clusters()

    @work(thread=True, exclusive=True, group="quit-clusters")
    def _list_clusters(self) -> None:
        conn = self.wizard.conn
        try:
            names = [c.name for c in list_clusters(conn.aws)] if conn is not None else []
        except Exception:  # the dialog must work even if the sandbox no longer answers
            names = list(self.wizard.cluster_names)
        self.app.call_from_thread(self._listed, names)

    def _listed(self, names: list[str]) -> None:
        self.clusters = names
        self.query_one("#quit-text", Static).update(self.explanation())

    def explanation(self) -> Text:
        """What keeping and stopping mean, for these clusters and these kubeconfig contexts."""
        redact = self.wizard.redact
        region = self.wizard.region or self.info.region
        text = Text()
        text.append("Quit eks-assist?\n\n", style="bold")
        text.append(redact(f"This wizard started the sandbox (pid {self.info.pid}, {self.info.aws_url}). "))
        if self.clusters is None:
            text.append("Its clusters: listing…\n")
        elif self.clusters:
            text.append(f"Its clusters in {region}: {', '.join(self.clusters)}.\n")
        else:
            text.append(f"It has no clusters in {region}.\n")
        records = statefile.kubeconfig_records()
        if records:
            text.append("Kubeconfig contexts written for them:\n")
            for r in records:
                text.append(f"  {r.context}", style="bold")
                text.append(f" in {redact(r.path)}\n")
        else:
            text.append("No kubeconfig context was written for them.\n")
        text.append("\nKeep running", style="bold green")
        text.append(
            "  it stays in the background: the clusters, kubectl and every 'eks-assist ... --sandbox' command "
            "keep working from any terminal. Stop it later with: eks-assist sandbox stop\n"
        )
        text.append("Stop sandbox", style="bold red")
        text.append("  its clusters are gone, and the contexts above are removed from your kubeconfig (nothing else in it).")
        return text

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None if event.button.id == "stay" else str(event.button.id))

    def action_choose(self, choice: str) -> None:
        self.dismiss(choice)

    def action_stay(self) -> None:
        self.dismiss(None)


__all__ = ["KEEP", "STOP", "QuitScreen"]
