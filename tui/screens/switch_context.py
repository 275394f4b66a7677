"""Switch region or AWS profile (r on the Context screen)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Select, Static

from ..connection import available_profiles
from ..widgets.form import TextField

if TYPE_CHECKING:
    from ..app import EksAssistApp

_REGION = re.compile(r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d+")
DEFAULT_CHAIN = "__default__"


class SwitchContextScreen(ModalScreen[tuple[str, str | None] | None]):
    """Region (validated like the spec's) and profile; the sandbox has no profiles."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    @property
    def wizard(self) -> EksAssistApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        app = self.wizard
        profiles = available_profiles()
        with Vertical(id="dialog"):
            yield Static("Region and profile", classes="heading")
            yield Static("Region")
            yield TextField(app.region or "", placeholder="us-east-1", id="region")
            yield Static(id="region-error", classes="field-error", markup=False)
            yield Static("Profile")
            options = [("default credential chain", DEFAULT_CHAIN)] + [(p, p) for p in profiles]
            current = app.profile if app.profile in profiles else DEFAULT_CHAIN
            yield Select(options, value=current, allow_blank=False, id="profile", disabled=app.sandbox, compact=True)
            if app.sandbox:
                yield Static("The sandbox has one set of credentials; profiles are for real AWS.", classes="hint")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel", compact=True)
                yield Button("Switch", id="switch", variant="primary", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#region-error").display = False
        self.query_one("#region").focus()

    @on(Input.Submitted, "#region")
    def _submitted(self, event: Input.Submitted) -> None:
        self.switch()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "switch":
            self.switch()
        else:
            self.action_cancel()

    def switch(self) -> None:
        region = self.query_one("#region", Input).value.strip()
        error = self.query_one("#region-error", Static)
        if not _REGION.fullmatch(region):
            error.update(f"✗ {region!r} is not an AWS region name (like us-east-1, eu-west-2 or us-gov-west-1)")
            error.display = True
            return
        profile = self.query_one("#profile", Select).value
        self.dismiss((region, None if profile in (DEFAULT_CHAIN, Select.NULL) else str(profile)))

    def action_cancel(self) -> None:
        self.dismiss(None)


__all__ = ["SwitchContextScreen"]
