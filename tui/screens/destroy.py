"""Destroy from the dashboard: the teardown plan of the cluster's last successful apply, gated like apply."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.binding import Binding

from assistant.planning.planner import Planning
from assistant.spec import LoadedSpec

from ..bridge import Bridge
from .review import PlanScreen

if TYPE_CHECKING:
    from ..app import EksAssistApp


class DestroyScreen(PlanScreen):
    """The teardown plan of a cluster, from the spec of its last successful apply here."""

    KIND = "destroy"
    # The footer names what Ctrl+A does here: it opens the destroy confirmation, not an apply.
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("ctrl+r", "replan", "Re-plan"),
        Binding("ctrl+a", "approve", "Destroy", priority=True),
    ]

    def __init__(self, name: str) -> None:
        super().__init__()
        self.target = name

    def heading(self) -> str:
        return f"Destroy cluster {self.target}: review the teardown plan"

    def make_plan(self, bridge: Bridge) -> tuple[LoadedSpec, Planning]:
        loaded = bridge.last_spec(self.target)
        return loaded, bridge.plan(loaded, "teardown", preflight=False)


def start_destroy(app: EksAssistApp, name: str) -> None:
    """Open the gated destroy flow for ``name``."""
    if app.bridge is None:
        app.notify("Not connected to AWS yet.", severity="error")
        return
    app.push_screen(DestroyScreen(name))


__all__ = ["DestroyScreen", "start_destroy"]
