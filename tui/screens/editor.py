"""What the wizard's modal editors share: one entry of a spec list (a node group, an IAM mapping)
edited in a dialog, each field checked by the spec model with the entry in place.

A problem goes beside the field whose path is the longest prefix of the problem's path, once
the field was touched or Save was tried; what matches no field is listed above the buttons.
Save (Ctrl+S) is refused while there are problems; Esc cancels. The screen dismisses with the
edited entry, or ``None`` when cancelled.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Select, SelectionList, Static

from ..state import WizardState, path_within
from ..widgets.form import FieldError, SpecRule

if TYPE_CHECKING:
    from ..app import EksAssistApp


class EditorScreen(ModalScreen[dict[str, Any] | None]):
    """Edit entry ``index`` of the spec list ``SECTION`` (``None``: a new one, added at the end)."""

    #: the spec list an entry of which is edited, and the wizard section whose problems apply
    SECTION: ClassVar[str] = ""
    PAGE: ClassVar[str] = ""
    #: the heading is "Add …" or "Edit …" and TITLE; a refused Save names the NOUN
    TITLE: ClassVar[str] = ""
    NOUN: ClassVar[str] = ""
    #: field id → its path in the entry (error line id: ``<field>-error``); the first has focus on opening
    FIELDS: ClassVar[dict[str, str]] = {}

    BINDINGS = [Binding("escape", "cancel", "Cancel"), Binding("ctrl+s", "save", "Save", priority=True)]

    def __init__(self, index: int | None, entry: dict[str, Any]) -> None:
        super().__init__()
        self.index = index
        self.entry = entry
        #: field id → the parts of its value that could not even be parsed
        self.local: dict[str, list[str]] = {}
        self.touched: set[str] = set()
        self.attempted = False
        self.errors: dict[str, FieldError] = {}

    @property
    def wizard(self) -> EksAssistApp:
        return self.app  # type: ignore[return-value]

    @property
    def where(self) -> str:
        assert self.wizard.state is not None
        n = len(self.wizard.state.spec.get(self.SECTION) or [])
        return f"{self.SECTION}[{n if self.index is None else self.index}]"

    # -- layout ---------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="wide tall"):
            yield Static(("Add" if self.index is None else "Edit") + f" {self.TITLE}", classes="heading")
            with VerticalScroll(id="editor"):
                yield from self.compose_fields()
            yield Static(id="editor-problems", classes="field-error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel", compact=True)
                yield Button("Save", id="save", variant="primary", compact=True)
        yield Footer()

    def compose_fields(self) -> ComposeResult:
        """The editor's fields, each a :class:`Row` with the error line ``<field>-error``."""
        yield from ()

    def on_mount(self) -> None:
        # Looked up once: this runs on every keystroke.
        self.errors = {f: e for f in self.FIELDS for e in self.query(f"#{f}-error").results(FieldError)}
        self.query_one("#editor-problems").display = False
        self.query_one(f"#{next(iter(self.FIELDS))}").focus()

    # -- fields → entry -------------------------------------------------------------------
    def apply(self, entry: dict[str, Any], field_id: str, value: Any) -> list[str]:
        """Write a field into ``entry``; returns the parts of ``value`` that could not even be parsed."""
        raise NotImplementedError

    def match_path(self, rel: str) -> str:
        """The path, within the entry, that a problem at ``rel`` is matched against the fields with."""
        return rel

    def add_problem(self, messages: list[str], field_id: str, rel: str, message: str) -> None:
        """Add a problem at ``rel`` to the messages of ``field_id`` ('': of no field)."""
        messages.append(message if field_id else f"{rel}: {message}" if rel else message)

    def problems(self, entry: dict[str, Any]) -> dict[str, list[str]]:
        """Field id → messages for ``entry`` placed in the spec (plus parse problems), '' → the rest."""
        assert self.wizard.state is not None
        spec = copy.deepcopy(self.wizard.state.spec)
        entries = spec.setdefault(self.SECTION, [])
        if self.index is None:
            entries.append(entry)
        else:
            entries[self.index] = entry
        out: dict[str, list[str]] = {f: list(self.local.get(f, [])) for f in self.FIELDS}
        out[""] = []
        where = self.where
        for p in WizardState(spec).problems(self.PAGE):
            if not path_within(p.path, where):
                continue
            rel = (p.path or "")[len(where) :].lstrip(".")
            matched = self.match_path(rel)
            best = max(
                (f for f, path in self.FIELDS.items() if path_within(matched, path)),
                key=lambda f: len(self.FIELDS[f]),
                default="",
            )
            self.add_problem(out[best], best, rel, p.message)
        return out

    def rule(self, field_id: str) -> SpecRule:
        """An Input validator: the spec model's verdict on the entry with the typed value."""

        def check(value: str) -> list[str]:
            entry = copy.deepcopy(self.entry)
            bad = self.apply(entry, field_id, value)
            return bad or self.problems(entry).get(field_id, [])

        return SpecRule(check)

    def refresh_problems(self) -> int:
        """Show the problems beside their fields (and the rest after a Save); returns how many."""
        found = self.problems(self.entry)
        total = 0
        for field_id in self.FIELDS:
            messages = found.get(field_id, [])
            total += len(messages)
            err = self.errors.get(field_id)
            if err is not None:
                err.show(messages if self.attempted or field_id in self.touched else [])
        loose = found[""]
        total += len(loose)
        box = self.query_one("#editor-problems", Static)
        box.update("\n".join(f"✗ {m}" for m in loose))
        box.display = bool(loose) and self.attempted
        return total

    def changed(self, field_id: str | None, value: Any) -> None:
        """A field changed: write it into the entry and re-validate."""
        if field_id not in self.FIELDS:
            return
        bad = self.apply(self.entry, field_id, value)
        if bad:
            self.local[field_id] = bad
        else:
            self.local.pop(field_id, None)
        self.touched.add(field_id)
        self.refresh_problems()

    # -- events ---------------------------------------------------------------------------
    @on(Input.Changed)
    def _input(self, event: Input.Changed) -> None:
        self.changed(event.input.id, event.value)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self.focus_next()

    @on(Select.Changed)
    def _select(self, event: Select.Changed) -> None:
        if event.value is not Select.NULL:
            self.changed(event.select.id, event.value)

    @on(SelectionList.SelectedChanged)
    def _selection(self, event: SelectionList.SelectedChanged[str]) -> None:
        self.changed(event.selection_list.id, list(event.selection_list.selected))

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.pressed(event.button.id)

    def pressed(self, button_id: str | None) -> None:
        """Save, or else Cancel. An editor with buttons of its own overrides this, not ``_pressed``:
        Textual runs the ``@on`` handlers of every class in the MRO, so both would run.
        """
        if button_id == "save":
            self.action_save()
        else:
            self.action_cancel()

    # -- actions --------------------------------------------------------------------------
    def action_save(self) -> None:
        self.attempted = True
        if self.refresh_problems():
            self.notify(f"Fix the problems shown before saving this {self.NOUN}.", severity="error", title="Cannot save")
            return
        self.dismiss(self.entry)

    def action_cancel(self) -> None:
        self.dismiss(None)


__all__ = ["EditorScreen"]
