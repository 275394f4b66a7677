"""Form building blocks: inputs validated by the CLI's own spec rules, and their error lines.

A :class:`SpecRule` is a Textual :class:`~textual.validation.Validator` whose verdict comes
from the screen: it applies the typed value to a copy of the spec and runs the spec model,
so the message under a field is word for word what ``eks-assist validate`` would print.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.validation import ValidationResult, Validator
from textual.widget import Widget
from textual.widgets import Input, Label, Static


class SpecRule(Validator):
    """Validates one field with ``check(value) -> messages`` (empty: valid)."""

    def __init__(self, check: Callable[[str], list[str]]) -> None:
        super().__init__()
        self.check = check

    def validate(self, value: str) -> ValidationResult:
        messages = self.check(value)
        return self.failure("; ".join(messages)) if messages else self.success()


class TextField(Input):
    """A compact single-line input; its cursor stops blinking when the app says so (snapshots)."""

    def __init__(self, value: str = "", *, placeholder: str = "", id: str | None = None, **kwargs: object) -> None:
        super().__init__(value, placeholder=placeholder, id=id, compact=True, **kwargs)  # type: ignore[arg-type]

    def on_mount(self) -> None:
        if not getattr(self.app, "cursor_blink", True):
            self.cursor_blink = False


class FieldError(Static):
    """The problem line under a field: empty and hidden when the field is fine."""

    DEFAULT_CLASSES = "field-error"
    _shown: list[str] | None = None

    def __init__(self, *, id: str | None = None) -> None:
        # The messages quote what was typed: never read them as markup ("a[b]" stays "a[b]").
        super().__init__(id=id, markup=False)

    def show(self, messages: list[str]) -> None:
        if messages == self._shown:
            return  # unchanged: no repaint, no relayout (this runs on every keystroke)
        self._shown = list(messages)
        self.update("\n".join(f"✗ {m}" for m in messages))
        self.display = bool(messages)


def error_line(error_id: str) -> FieldError:
    """A hidden error line for a field that has no :class:`Row` of its own."""
    err = FieldError(id=error_id)
    err.display = False
    return err


class Row(Vertical):
    """A labelled field: label, the widget, an optional hint, and its error line."""

    DEFAULT_CLASSES = "row"

    def __init__(self, label: str, widget: Widget, *, error_id: str, hint: str = "") -> None:
        super().__init__()
        self._label = label
        self._widget = widget
        self._error_id = error_id
        self._hint = hint

    def compose(self) -> ComposeResult:
        yield Label(self._label, classes="row-label")
        yield self._widget
        if self._hint:
            yield Static(self._hint, classes="hint")
        yield error_line(self._error_id)


__all__ = ["FieldError", "Row", "SpecRule", "TextField", "error_line"]
