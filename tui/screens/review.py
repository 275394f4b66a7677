"""Screen 7, Review: the plan grouped by playbook with its warnings and hash; save the spec;
apply after typing the cluster name. :class:`PlanScreen` is shared with the destroy review.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, LoadingIndicator, Static

from assistant.errors import InputError
from assistant.planning.planner import Planning
from assistant.spec import LoadedSpec

from ..bridge import Bridge, plain_error
from ..state import section_of
from ..widgets.plan_view import PlanView
from ..widgets.step_bar import StepBar

if TYPE_CHECKING:
    from ..app import EksAssistApp

SCREEN_TITLES = {"masters": "Masters", "workers": "Workers", "cni": "CNI", "iam": "IAM", "kubeconfig": "Kubeconfig"}


class PlanScreen(Screen[None]):
    """Plans in a worker, shows the plan, and approves it by the typed cluster name."""

    KIND: ClassVar[str] = "apply"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("ctrl+r", "replan", "Re-plan"),
        Binding("ctrl+a", "approve", "Apply", priority=True),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.planning: Planning | None = None
        self.loaded: LoadedSpec | None = None

    @property
    def wizard(self) -> EksAssistApp:
        return self.app  # type: ignore[return-value]

    @property
    def cluster(self) -> str:
        return self.loaded.spec.metadata.name if self.loaded else ""

    def heading(self) -> str:
        return "Review the plan"

    def compose(self) -> ComposeResult:
        yield Header()
        yield StepBar("Review")
        yield Static(self.heading(), classes="heading", id="heading")
        yield LoadingIndicator(id="planning")
        with VerticalScroll(id="plan-scroll"):
            yield Static(id="plan-problems", markup=False)
            yield PlanView(id="plan")
        with Horizontal(id="nav"):
            yield Button("← Back", id="back", compact=True)
            yield from self.extra_buttons()
            yield Static(classes="spacer")
            yield Button(
                "Destroy…" if self.KIND == "destroy" else "Apply…",
                id="approve",
                variant="error" if self.KIND == "destroy" else "primary",
                disabled=True,
                compact=True,
            )
        yield Footer()

    def extra_buttons(self) -> ComposeResult:
        yield Button("Re-plan", id="replan", compact=True)

    def on_mount(self) -> None:
        self.action_replan()

    # -- planning -------------------------------------------------------------------------
    def action_replan(self) -> None:
        bridge = self.wizard.bridge
        if bridge is None:
            return
        self.query_one("#planning").display = True
        self.query_one("#approve", Button).disabled = True
        self.query_one("#plan-problems", Static).update("")
        self.query_one("#plan", PlanView).update("")
        self._plan(bridge)

    def make_plan(self, bridge: Bridge) -> tuple[LoadedSpec, Planning]:
        """What to plan: the wizard's spec (ReviewScreen) or a cluster's teardown (DestroyScreen)."""
        raise NotImplementedError

    @work(thread=True, exclusive=True, group="plan")
    def _plan(self, bridge: Bridge) -> None:
        try:
            loaded, planning = self.make_plan(bridge)
        except InputError as exc:
            self.app.call_from_thread(self._problems, exc)
            return
        except Exception as exc:
            self.app.call_from_thread(self._failed, plain_error(exc))
            return
        self.app.call_from_thread(self._planned, loaded, planning)

    def _problems(self, exc: InputError) -> None:
        self.query_one("#planning").display = False
        text = Text("The spec cannot be planned yet. Fix these, then re-plan (Ctrl+R):\n\n", style="bold red")
        for p in exc.problems:
            screen = SCREEN_TITLES.get(section_of(p), "") if p.path else ""
            text.append(f"  ✗ [{screen or 'spec'}] ", style="red")
            text.append(f"{p.path + ': ' if p.path else ''}{p.message}\n")
        self.query_one("#plan-problems", Static).update(text)
        self.query_one("#plan-scroll").focus()

    def _failed(self, error: str) -> None:
        self.query_one("#planning").display = False
        self.query_one("#plan-problems", Static).update(Text(f"Planning failed: {error}", style="bold red"))

    def _planned(self, loaded: LoadedSpec, planning: Planning) -> None:
        self.loaded, self.planning = loaded, planning
        self.query_one("#planning").display = False
        self.query_one("#plan", PlanView).show(planning)
        self.query_one("#approve", Button).disabled = not planning.plan.has_changes
        # The plan has the focus, so the arrow and page keys scroll it at once; Ctrl+A applies.
        self.query_one("#plan-scroll").focus()
        if not planning.plan.has_changes:
            self.query_one("#plan-problems", Static).update(Text("Nothing to do: the cluster already matches.", style="green"))

    # -- approval -------------------------------------------------------------------------
    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        action = {"back": self.action_back, "replan": self.action_replan, "approve": self.action_approve}.get(
            str(event.button.id)
        )
        if action is not None:
            action()
        elif event.button.id == "save":
            self.wizard.action_save_spec()

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_approve(self) -> None:
        from .apply import ApplyScreen
        from .confirm import TypeNameScreen

        planning, loaded = self.planning, self.loaded
        if planning is None or loaded is None or not planning.plan.has_changes:
            self.notify("Nothing to approve yet.", severity="warning")
            return

        def confirmed(ok: bool | None) -> None:
            if ok:
                self.app.push_screen(ApplyScreen(self.KIND, loaded=loaded, plan_hash=planning.plan.hash, planning=planning))

        self.app.push_screen(
            TypeNameScreen(loaded.spec.metadata.name, self.KIND, planning.plan.hash, planning.plan.counts), confirmed
        )


class ReviewScreen(PlanScreen):
    """The plan for the spec built in the wizard."""

    BINDINGS = [*PlanScreen.BINDINGS, Binding("ctrl+s", "app.save_spec", "Save YAML")]

    def heading(self) -> str:
        if self.wizard.approval_route is not None:
            return "Review the plan, then Apply: it is posted to Slack, and applies once another person approves it"
        return "Review the plan, then Apply (you will type the cluster name to approve it)"

    def extra_buttons(self) -> ComposeResult:
        yield Button("Save YAML", id="save", compact=True)
        yield Button("Re-plan", id="replan", compact=True)

    def make_plan(self, bridge: Bridge) -> tuple[LoadedSpec, Planning]:
        assert self.wizard.state is not None
        loaded = self.wizard.state.loaded()
        return loaded, bridge.plan(loaded, "cluster")


__all__ = ["PlanScreen", "ReviewScreen"]
