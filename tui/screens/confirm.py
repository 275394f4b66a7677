"""Confirmation dialogs: type the cluster name to apply or destroy; yes/no for cancelling a run."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Static

from ..widgets.form import TextField


class TypeNameScreen(ModalScreen[bool]):
    """Explicit approval: the action is enabled only once the cluster name is typed exactly."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, name: str, action: str, plan_hash: str, counts: dict[str, int]) -> None:
        super().__init__()
        self.cluster = name
        self.verb = action
        self.plan_hash = plan_hash
        self.counts = counts

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="danger" if self.verb == "destroy" else ""):
            text = Text()
            text.append(f"{self.verb.capitalize()} cluster '{self.cluster}'?\n", style="bold")
            n = self.counts
            text.append(
                f"{n.get('create', 0)} to create, {n.get('update', 0)} to update, {n.get('delete', 0)} to delete. "
                + self.app.redact(f"Plan {self.plan_hash[:16]}.")  # type: ignore[attr-defined]
                + "\n"
            )
            text.append("The engine plans again first and refuses if anything changed since this review.\n\n", style="dim")
            text.append("Type the cluster name to approve:")
            yield Static(text)
            yield TextField(placeholder=self.cluster, id="typed")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel", compact=True)
                yield Button(
                    self.verb.capitalize(),
                    id="confirm",
                    variant="error" if self.verb == "destroy" else "primary",
                    disabled=True,
                    compact=True,
                )
        yield Footer()

    @on(Input.Changed, "#typed")
    def _typed(self, event: Input.Changed) -> None:
        self.query_one("#confirm", Button).disabled = event.value != self.cluster

    @on(Input.Submitted, "#typed")
    def _submitted(self, event: Input.Submitted) -> None:
        if event.value == self.cluster:
            self.dismiss(True)
        else:
            self.notify(f"Type '{self.cluster}' exactly to {self.verb}.", severity="warning", markup=False)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "confirm")

    def action_cancel(self) -> None:
        self.dismiss(False)


class YesNoScreen(ModalScreen[bool]):
    """A question with Yes and No; Esc is No."""

    BINDINGS = [Binding("escape", "no", "No"), Binding("y", "yes", "Yes")]

    def __init__(self, question: str, yes: str = "Yes", no: str = "No") -> None:
        super().__init__()
        self.question = question
        self.yes_label = yes
        self.no_label = no

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(self.question, markup=False)
            with Horizontal(classes="buttons"):
                yield Button(self.no_label, id="no", compact=True)
                yield Button(self.yes_label, id="yes", variant="warning", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "yes")

    def action_yes(self) -> None:
        self.dismiss(True)

    def action_no(self) -> None:
        self.dismiss(False)


__all__ = ["TypeNameScreen", "YesNoScreen"]
