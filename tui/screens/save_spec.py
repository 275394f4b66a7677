"""Save the spec as YAML (Ctrl+S): the file ``eks-assist -f FILE`` or the CLI verbs read."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Static

from ..widgets.form import TextField

if TYPE_CHECKING:
    from ..app import EksAssistApp


class SaveSpecScreen(ModalScreen[str | None]):
    """Asks for a path and writes the spec there."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    @property
    def wizard(self) -> EksAssistApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        state = self.wizard.state
        assert state is not None
        default = state.saved_to or f"{state.name or 'cluster'}.yaml"
        problems = state.problems()
        with Vertical(id="dialog"):
            yield Static("Save the spec as YAML", classes="heading")
            if problems:
                yield Static(
                    Text(f"It has {len(problems)} problem(s) still; you can save it and fix them later.", style="yellow")
                )
            yield TextField(default, id="path")
            yield Static(id="save-error", classes="field-error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel", compact=True)
                yield Button("Save", id="save", variant="primary", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#save-error").display = False
        self.query_one("#path").focus()

    @on(Input.Submitted, "#path")
    def _submitted(self, event: Input.Submitted) -> None:
        self.save()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "save":
            self.save()
        else:
            self.action_cancel()

    def save(self) -> None:
        state = self.wizard.state
        assert state is not None
        path = self.query_one("#path", Input).value.strip()
        error = self.query_one("#save-error", Static)
        if not path:
            error.update("✗ give a file name")
            error.display = True
            return
        try:
            written = state.save(path)
        except OSError as exc:
            error.update(f"✗ cannot write {path}: {exc.strerror}")
            error.display = True
            return
        self.notify(f"Saved {written}. Open it again with: eks-assist -f {written}", title="Spec saved", markup=False)
        self.dismiss(str(written))

    def action_cancel(self) -> None:
        self.dismiss(None)


__all__ = ["SaveSpecScreen"]
