"""What every wizard form screen shares: the step bar, Back/Next, and problems shown beside fields.

A screen writes each change straight into the app's spec dict, so leaving it by Esc or by
Next keeps everything. Validation is the CLI's spec model (:meth:`WizardState.problems`):
each problem goes to the field whose spec path is the longest prefix of the problem's
path; what matches no field is listed above the buttons. Next is refused while the
screen's section has problems, with the reason.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Static

from assistant.errors import Problem

from ..state import WizardState, describe_problem, path_within
from ..widgets.form import FieldError, SpecRule
from ..widgets.step_bar import StepBar

if TYPE_CHECKING:
    from ..app import EksAssistApp


class WizardScreen(Screen[None]):
    """A form over one section of the spec, between Back (Esc) and Next (Ctrl+N)."""

    STEP: ClassVar[str] = ""
    SECTION: ClassVar[str] = ""
    HEADING: ClassVar[str] = ""
    #: field id → the spec path its problems are shown under (error line id: ``<field>-error``)
    FIELD_PATHS: ClassVar[dict[str, str]] = {}

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("ctrl+n", "next", "Next", priority=True),
        Binding("ctrl+s", "app.save_spec", "Save YAML"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.touched: set[str] = set()
        self.attempted = False

    @property
    def wizard(self) -> EksAssistApp:
        return self.app  # type: ignore[return-value]

    @property
    def state(self) -> WizardState:
        assert self.wizard.state is not None
        return self.wizard.state

    # -- layout ---------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header()
        yield StepBar(self.STEP)
        yield Static(self.HEADING, classes="heading")
        with VerticalScroll(id="form"):
            yield from self.compose_form()
        problems = Static(id="problems", markup=False)
        problems.display = False
        yield problems
        with Horizontal(id="nav"):
            yield Button("← Back", id="back", compact=True)
            yield Static(classes="spacer")
            yield Button("Next →", id="next", variant="primary", compact=True)
        yield Footer()

    def compose_form(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        self.refresh_problems()

    # -- navigation -----------------------------------------------------------------------
    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "back":
            event.stop()
            self.action_back()
        elif event.button.id == "next":
            event.stop()
            self.action_next()

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_next(self) -> None:
        self.attempted = True
        problems = self.refresh_problems()
        if problems:
            self.notify(f"Fix {len(problems)} problem(s) on this screen before going on.", severity="error", title="Cannot go on")
            return
        self.wizard.next_section(self.SECTION)

    # -- validation -----------------------------------------------------------------------
    def touch(self, field_id: str | None) -> None:
        if field_id:
            self.touched.add(field_id)

    def field_for(self, problem: Problem) -> str | None:
        """The field whose path is the longest prefix of the problem's path."""
        best: tuple[int, str] | None = None
        for field_id, path in self.FIELD_PATHS.items():
            if path_within(problem.path, path) and (best is None or len(path) > best[0]):
                best = (len(path), field_id)
        return best[1] if best else None

    def section_problems(self) -> list[Problem]:
        return self.state.problems(self.SECTION)

    def refresh_problems(self) -> list[Problem]:
        """Show the section's problems beside their fields; returns them all."""
        problems = self.section_problems()
        per_field: dict[str, list[str]] = {f: [] for f in self.FIELD_PATHS}
        loose: list[str] = []
        for p in problems:
            field_id = self.field_for(p)
            if field_id is None:
                loose.append(describe_problem(p))
            elif self.attempted or field_id in self.touched:
                per_field[field_id].append(p.message)
        for field_id, messages in per_field.items():
            err = self.error_line(field_id)
            if err is not None:
                err.show(messages)
        summary = self.query_one("#problems", Static)
        shown = loose if self.attempted or self.touched else []
        if self.attempted and problems:
            shown = [f"{len(problems)} problem(s) to fix before Next:", *[describe_problem(p) for p in problems]]
        summary.update("\n".join(shown))
        summary.display = bool(shown)
        return problems

    def error_line(self, field_id: str) -> FieldError | None:
        """The error line of a field, looked up once (queries walk the whole screen)."""
        cache: dict[str, FieldError | None] = self.__dict__.setdefault("_error_lines", {})
        if field_id not in cache:
            found = list(self.query(f"#{field_id}-error").results(FieldError))
            cache[field_id] = found[0] if found else None
        return cache[field_id]

    def rule(self, field_id: str) -> SpecRule:
        """An Input validator: the spec model's verdict on this field with the typed value."""

        def check(value: str) -> list[str]:
            spec = copy.deepcopy(self.state.spec)
            self.apply(spec, field_id, value)
            candidate = WizardState(spec)
            path = self.FIELD_PATHS[field_id]
            return [p.message for p in candidate.problems(self.SECTION) if path_within(p.path, path)]

        return SpecRule(check)

    def apply(self, spec: dict[str, Any], field_id: str, value: Any) -> None:
        """Write one field's widget value into ``spec`` (each screen knows its fields)."""

    def changed(self, field_id: str | None, value: Any) -> None:
        """A field changed: write it into the state and re-validate."""
        if field_id is None or field_id not in self.FIELD_PATHS:
            return
        self.apply(self.state.spec, field_id, value)
        self.touch(field_id)
        self.refresh_problems()


__all__ = ["WizardScreen"]
