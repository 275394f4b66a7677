"""The instance-type picker: search the region's whole catalogue, see vCPUs, memory and max pods
(VPC CNI defaults and with prefix delegation), and pick one or more types.

Every space-separated term must match the type's name, architecture or "nitro"; filtering a
list of about 1,400 entries takes well under a millisecond, and :class:`TypeList` only
renders the visible lines, so typing never waits on the list.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, LoadingIndicator, Static

from assistant.inventory import InstanceTypeInfo

from ..widgets.form import TextField
from ..widgets.type_list import HEADER, TypeList

if TYPE_CHECKING:
    from ..app import EksAssistApp


def matches(t: InstanceTypeInfo, terms: list[str]) -> bool:
    hay = f"{t.name} {' '.join(t.architectures)} {'nitro' if t.nitro else ''}"
    return all(term in hay for term in terms)


def filter_types(types: list[InstanceTypeInfo], query: str) -> list[InstanceTypeInfo]:
    """The types matching every term of ``query`` (case-insensitive), in catalogue order."""
    terms = query.lower().split()
    return [t for t in types if matches(t, terms)] if terms else list(types)


class InstanceTypePicker(ModalScreen[list[str] | None]):
    """Search and pick instance types; Done (Ctrl+S) returns them in the order picked."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "done", "Done", priority=True),
        Binding("down", "to_list", "List", show=False),
    ]

    def __init__(self, selected: list[str]) -> None:
        super().__init__()
        self.initial = list(selected)

    @property
    def wizard(self) -> EksAssistApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="wide tall"):
            yield Static("Instance types (Enter or Space picks; Ctrl+S when done)", classes="heading")
            yield TextField(placeholder="search: m5 large · arm64 · 4xlarge", id="search")
            yield Static(HEADER, id="types-header")
            yield LoadingIndicator(id="types-loading")
            yield TypeList(id="types")
            yield Static(id="types-count", classes="hint", markup=False)
            yield Static(id="picked")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel", compact=True)
                yield Button("Done", id="done", variant="primary", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        types = self.query_one("#types", TypeList)
        types.selected = list(self.initial)
        self.query_one("#search").focus()
        self._show_picked()
        self.wizard.want_catalogue()
        self._catalogue_ready()

    def on_catalogue_ready(self) -> None:
        self._catalogue_ready()

    def _catalogue_ready(self) -> None:
        app = self.wizard
        loading = self.query_one("#types-loading")
        if app.catalogue is None:
            loading.display = not app.catalogue_error
            if app.catalogue_error:
                self.query_one("#types-count", Static).update(
                    Text(f"Could not load instance types: {app.catalogue_error}", style="red")
                )
            else:
                self.query_one("#types-count", Static).update("Loading the region's instance types…")
            return
        loading.display = False
        self._filter(self.query_one("#search", Input).value)

    def _filter(self, query: str) -> None:
        catalogue = self.wizard.catalogue
        if catalogue is None:
            return
        rows = filter_types(catalogue, query)
        self.query_one("#types", TypeList).set_rows(rows)
        self.query_one("#types-count", Static).update(f"{len(rows)} of {len(catalogue)} types")

    @on(Input.Changed, "#search")
    def _search(self, event: Input.Changed) -> None:
        self._filter(event.value)

    @on(Input.Submitted, "#search")
    def _submitted(self, event: Input.Submitted) -> None:
        self.action_to_list()

    @on(TypeList.Toggled)
    def _toggled(self, event: TypeList.Toggled) -> None:
        self._show_picked()

    def _show_picked(self) -> None:
        picked = self.query_one("#types", TypeList).selected
        self.query_one("#picked", Static).update(Text("Picked: ", style="bold") + Text(", ".join(picked) or "(none)"))

    def action_to_list(self) -> None:
        self.query_one("#types", TypeList).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "done":
            self.action_done()
        else:
            self.action_cancel()

    def action_done(self) -> None:
        self.dismiss(list(self.query_one("#types", TypeList).selected))

    def action_cancel(self) -> None:
        self.dismiss(None)


__all__ = ["InstanceTypePicker", "filter_types"]
