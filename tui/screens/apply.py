"""Screen 8, Apply: live progress per step (waiting, running, done, failed, skipped) with elapsed
time, a progress bar for long waits, and a log. The run itself happens in a thread worker;
the engine's events arrive as :class:`~tui.bridge.RunEvent` messages. Cancel asks first, then
sets the run's cancel event: the runner starts no more steps, ends its waits, and the run is
left "interrupted", resumable from the failure screen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, Header, ProgressBar, RichLog, Static

from assistant.errors import PlanChangedError, RunFailed
from assistant.planning.planner import Planning
from assistant.spec import LoadedSpec

from ..bridge import Bridge, RunEvent, RunHandle, plain_error
from ..widgets.run_status import STATUS_STYLE
from ..widgets.step_bar import StepBar

if TYPE_CHECKING:
    from ..app import EksAssistApp

_EVENT_STATUS = {"step_started": "running", "step_done": "done", "step_failed": "failed", "step_skipped": "skipped"}


class RunFinished(Message):
    """The worker's engine call returned or raised."""

    def __init__(self, ok: bool, outputs: dict[str, Any] | None = None, error: str = "", plan_changed: bool = False) -> None:
        super().__init__()
        self.ok = ok
        self.outputs = outputs or {}
        self.error = error
        self.plan_changed = plan_changed


class ApplyScreen(Screen[None]):
    """Runs an approved apply or destroy, or resumes a run, and shows it live.

    Rows are keyed and named by step *instance* (``nodegroup[spot]``), as the engine's events
    and journal are; the op column shows what the runner is doing, from its events.
    """

    # One key, two meanings: Esc cancels a run in progress, and continues once it has ended
    # (check_action enables exactly one of them, so the footer never offers "Cancel run" for a
    # run that is over).
    BINDINGS = [
        Binding("escape", "cancel", "Cancel run"),
        Binding("escape", "continue", "Continue"),
        Binding("ctrl+l", "focus_log", "Log", show=False),
    ]

    def __init__(
        self,
        kind: str,
        *,
        loaded: LoadedSpec | None = None,
        plan_hash: str = "",
        planning: Planning | None = None,
        run_id: str | None = None,
        cluster: str = "",
    ) -> None:
        super().__init__()
        self.kind = kind  # apply | destroy | resume
        self.loaded = loaded
        self.plan_hash = plan_hash
        self.planning = planning
        self.resume_id = run_id
        self.cluster = cluster or (loaded.spec.metadata.name if loaded else "")
        self.handle: RunHandle | None = None
        self.started: dict[str, float] = {}
        self.finished_at: dict[str, float] = {}
        self.status: dict[str, str] = {}
        self.t0 = 0.0
        self.result: RunFinished | None = None
        self.waiting_step = ""

    @property
    def wizard(self) -> EksAssistApp:
        return self.app  # type: ignore[return-value]

    @property
    def run_id(self) -> str:
        return self.handle.run_id if self.handle else (self.resume_id or "")

    def compose(self) -> ComposeResult:
        yield Header()
        yield StepBar("Apply")
        yield Static(id="apply-heading", classes="heading", markup=False)
        table: DataTable[Any] = DataTable(id="steps", cursor_type="row", zebra_stripes=True)
        table.add_column("step", key="step")
        table.add_column("op", key="op")
        table.add_column("status", key="status")
        table.add_column("elapsed", key="elapsed")
        yield table
        with Horizontal(id="wait-row"):
            yield Static(id="wait-label")
            yield ProgressBar(total=100, show_eta=False, id="wait-bar")
        yield RichLog(id="log", wrap=True, markup=False, max_lines=2000)
        yield Static(id="outcome")
        with Horizontal(id="nav"):
            yield Button("Cancel run…", id="cancel", variant="warning", compact=True)
            yield Static(classes="spacer")
            yield Button("Continue →", id="continue", variant="primary", disabled=True, compact=True)
        yield Footer()

    def on_mount(self) -> None:
        bridge = self.wizard.bridge
        assert bridge is not None
        self.query_one("#wait-row").display = False
        self.t0 = self.wizard.clock()
        table = self.query_one("#steps", DataTable)
        if self.kind == "resume" and self.resume_id:
            self.handle = RunHandle(self.resume_id, bridge.new_handle().cancel)
            for rec in bridge.conn.store.steps(self.resume_id):
                status = "waiting" if rec.status in ("pending", "applying", "waiting", "failed", "skipped") else rec.status
                self._add_row(table, rec.step, rec.op, status)
            verb = "Resuming"
        else:
            self.handle = bridge.new_handle()
            for change in self.planning.plan.changes if self.planning else []:
                self._add_row(table, change.step, change.op.value, "waiting")
            verb = "Destroying" if self.kind == "destroy" else "Applying"
        heading = f"{verb} {self.cluster or 'run'} · run {self.run_id}"
        if self.plan_hash:
            heading += f" · plan {self.plan_hash[:16]}"
        self.query_one("#apply-heading", Static).update(self.wizard.redact(heading))
        self.set_interval(0.5, self._tick)
        self._run(bridge, self.handle)

    def _add_row(self, table: DataTable[Any], step: str, op: str, status: str) -> None:
        self.status[step] = status
        # Text, not str: a str cell is read as markup, and "nodegroup[spot]" would lose "[spot]".
        table.add_row(Text(step), Text(op or ""), Text(status, style=STATUS_STYLE.get(status, "")), "", key=step)

    # -- the run --------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="run")
    def _run(self, bridge: Bridge, handle: RunHandle) -> None:
        try:
            route = self.wizard.approval_route
            if self.kind == "resume":
                _, outputs = bridge.resume(self, handle)
            elif route is not None:
                assert self.loaded is not None
                _, outputs = bridge.apply_via_slack(self, handle, self.loaded, route, self._say, kind=self.kind)
            else:
                assert self.loaded is not None
                _, outputs = bridge.apply(self, handle, self.loaded, self.plan_hash, kind=self.kind)
        except PlanChangedError as exc:
            self.post_message(RunFinished(False, error=str(exc), plan_changed=True))
        except RunFailed as exc:
            self.post_message(RunFinished(False, error=str(exc)))
        except Exception as exc:
            self.post_message(RunFinished(False, error=plain_error(exc)))
        else:
            self.post_message(RunFinished(True, outputs=outputs))

    def _say(self, line: str) -> None:
        """From the run worker: a line for the log (the Slack request's progress), and the run id it got."""

        def show() -> None:
            self._log(line, "cyan")
            heading = f"Applying {self.cluster or 'run'} · request {self.run_id} (approval in Slack)"
            self.query_one("#apply-heading", Static).update(self.wizard.redact(heading))

        self.app.call_from_thread(show)

    def _elapsed(self, step: str) -> str:
        if step not in self.started:
            return ""
        end = self.finished_at.get(step, self.wizard.clock())
        return f"{max(0.0, end - self.started[step]):.1f}s"

    def _set(self, step: str, status: str, op: str = "") -> None:
        table = self.query_one("#steps", DataTable)
        if step not in self.status:
            self._add_row(table, step, op, status)
        self.status[step] = status
        if op:
            # What the runner is doing now, from its event (the plan's op until the step starts).
            table.update_cell(step, "op", Text(op))
        table.update_cell(step, "status", Text(status, style=STATUS_STYLE.get(status, "")))
        table.update_cell(step, "elapsed", self._elapsed(step))

    def _tick(self) -> None:
        for step, status in self.status.items():
            if status == "running":
                self.query_one("#steps", DataTable).update_cell(step, "elapsed", self._elapsed(step))

    def _log(self, line: str, style: str = "") -> None:
        elapsed = self.wizard.clock() - self.t0
        self.query_one("#log", RichLog).write(Text(f"[{elapsed:6.1f}s] {line}", style=style))

    @on(RunEvent)
    def _event(self, message: RunEvent) -> None:
        ev = message.event
        now = self.wizard.clock()
        if ev.kind == "step_progress":
            self.query_one("#wait-row").display = True
            self.waiting_step = ev.step
            self.query_one("#wait-label", Static).update(Text(f"{ev.step}: {ev.message}"))
            bar = self.query_one("#wait-bar", ProgressBar)
            bar.update(progress=100 * (ev.fraction or 0.0))
            return
        status = _EVENT_STATUS.get(ev.kind)
        if status is not None:
            if status == "running":
                self.started[ev.step] = now
            else:
                self.started.setdefault(ev.step, now)
                self.finished_at[ev.step] = now
            self._set(ev.step, status, ev.op)
            if status in ("done", "failed") and self.waiting_step == ev.step:
                self.query_one("#wait-row").display = False
        mark = {"step_started": "…", "step_done": "✓", "step_failed": "✗", "step_skipped": "-", "run_started": "▶"}.get(ev.kind)
        style = {"step_failed": "red", "step_done": "green", "step_skipped": "magenta"}.get(ev.kind, "")
        if mark:
            self._log(f"{mark} {ev.step + ': ' if ev.step else ''}{ev.message}", style)
        elif ev.kind == "run_done":
            self._log("■ converged", "bold green")
        elif ev.kind == "run_failed":
            self._log(f"✗ {ev.message}", "bold red")

    @on(RunFinished)
    def _finished(self, message: RunFinished) -> None:
        self.result = message
        self.query_one("#wait-row").display = False
        # The run is over: nothing is left to cancel, and Esc now continues.
        self.query_one("#cancel", Button).display = False
        self.refresh_bindings()
        outcome = self.query_one("#outcome", Static)
        if message.ok:
            done = "destroyed" if self.kind == "destroy" else "applied"
            outcome.update(Text(f"✓ {self.cluster or 'run'} {done}. Continue for the summary.", style="bold green"))
        elif message.plan_changed:
            outcome.update(Text("✗ The plan changed since you approved it. Nothing was changed.", style="bold red"))
            self._log(message.error, "red")
            self._offer_replan()
        else:
            first = message.error.splitlines()[0] if message.error else "the run failed"
            outcome.update(Text(f"✗ {first}", style="bold red"))
        button = self.query_one("#continue", Button)
        button.disabled = False
        button.focus()

    def _offer_replan(self) -> None:
        from .confirm import YesNoScreen

        def chosen(yes: bool | None) -> None:
            if yes:
                self.app.pop_screen()
                screen = self.app.screen
                replan = getattr(screen, "action_replan", None)
                if replan is not None:
                    replan()

        self.app.push_screen(
            YesNoScreen(
                "The world or the spec changed between your review and the apply, so the engine refused it "
                "(nothing was changed).\n\nGo back and re-plan, then review the new plan?",
                yes="Re-plan",
                no="Stay",
            ),
            chosen,
        )

    # -- buttons and keys -----------------------------------------------------------------
    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "cancel":
            self.action_cancel()
        elif event.button.id == "continue":
            self.action_continue()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel":
            return self.result is None
        if action == "continue":
            return self.result is not None
        return True

    def action_cancel(self) -> None:
        from .confirm import YesNoScreen

        if self.result is not None:
            return  # the run ended while the key was on its way

        def chosen(yes: bool | None) -> None:
            if yes and self.handle is not None and self.result is None:
                self.handle.cancel.set()
                self._log("cancelling: no new steps start; running waits end; the run stays resumable", "yellow")
                self.query_one("#cancel", Button).disabled = True

        self.app.push_screen(
            YesNoScreen(
                "Cancel this run?\n\nSteps already calling AWS finish that call; no new step starts. "
                "The run ends 'interrupted' and can be resumed later.",
                yes="Cancel run",
                no="Keep running",
            ),
            chosen,
        )

    def action_continue(self) -> None:
        from .done import DoneScreen, FailureScreen

        result = self.result
        if result is None:
            return
        if result.ok:
            self.app.switch_screen(DoneScreen(self.kind, self.run_id, result.outputs, self.cluster))
        elif result.plan_changed:
            self._offer_replan()
        else:
            self.app.switch_screen(FailureScreen(self.kind, self.run_id, result.error, self.cluster))

    def action_focus_log(self) -> None:
        self.query_one("#log").focus()


__all__ = ["ApplyScreen", "RunFinished"]
