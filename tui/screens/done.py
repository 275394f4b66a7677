"""Screen 9, Done: the endpoint, the kubeconfig context written, and the next commands. On
failure: the error in plain words, what was and was not created (the run's journal), and
Resume, which continues the run under its original approval on the same progress screen.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Static

from assistant.store import StepRecord

from ..widgets.fit_table import FitTable
from ..widgets.run_status import STATUS_STYLE
from ..widgets.step_bar import StepBar

if TYPE_CHECKING:
    from ..app import EksAssistApp

_WHAT = {
    "done": "created or already in place",
    "failed": "failed: not created",
    "skipped": "not attempted",
    "pending": "not attempted",
    "applying": "interrupted mid-call",
    "waiting": "created, not yet ready",
}


def _principal(caller: str) -> str:
    """The caller as ``access check`` takes it: IAM users by their IAM ARN.

    AWS's GetCallerIdentity already reports an IAM user that way; moto (the sandbox) reports
    ``arn:aws:sts::A:user/N``, and EKS records that user as ``arn:aws:iam::A:user/N``.
    """
    return re.sub(r"^arn:([^:]+):sts::(\d{12}):user/", r"arn:\1:iam::\2:user/", caller)


class _Outcome(Screen[None]):
    """Shared frame: header, step bar, a scrolling body, and the buttons."""

    BINDINGS = [Binding("escape", "dashboard", "Clusters"), Binding("ctrl+q", "app.quit", "Quit")]

    def __init__(self, kind: str, run_id: str, cluster: str) -> None:
        super().__init__()
        self.kind = kind
        self.run_id = run_id
        self.cluster = cluster

    @property
    def wizard(self) -> EksAssistApp:
        return self.app  # type: ignore[return-value]

    def steps(self) -> list[StepRecord]:
        bridge = self.wizard.bridge
        return bridge.conn.store.steps(self.run_id) if bridge and self.run_id else []

    def flag(self, command: str) -> str:
        conn = self.wizard.conn
        if conn is None or conn.sandbox:
            return f"{command} --sandbox"
        extra = f" --profile {conn.profile}" if conn.profile else ""
        return f"{command} --region {conn.region}{extra}"

    async def action_dashboard(self) -> None:
        await self.wizard.back_to_dashboard()

    @on(Button.Pressed, "#dashboard")
    async def _dashboard(self, event: Button.Pressed) -> None:
        event.stop()
        await self.wizard.back_to_dashboard()

    @on(Button.Pressed, "#quit")
    async def _quit(self, event: Button.Pressed) -> None:
        event.stop()
        await self.wizard.action_quit()  # asks about the wizard's own sandbox first


class DoneScreen(_Outcome):
    """Success: what was built and how to use it."""

    def __init__(self, kind: str, run_id: str, outputs: dict[str, Any], cluster: str) -> None:
        super().__init__(kind, run_id, cluster)
        self.outputs = outputs

    def compose(self) -> ComposeResult:
        yield Header()
        yield StepBar("Apply")
        title = f"Cluster {self.cluster} destroyed" if self.kind == "destroy" else f"Cluster {self.cluster} is ready"
        yield Static(title, classes="heading success")
        with VerticalScroll(id="body"):
            yield Static(self.summary(), id="summary")
        with Horizontal(id="nav"):
            yield Button("Back to clusters", id="dashboard", variant="primary", compact=True)
            yield Static(classes="spacer")
            yield Button("Quit", id="quit", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#dashboard", Button).focus()

    def summary(self) -> Text:
        r = self.wizard.redact
        text = Text()
        text.append(f"Run {r(self.run_id)} succeeded.\n\n", style="green")
        if self.kind == "destroy":
            deleted = sum(1 for s in self.steps() if s.op == "delete")
            text.append(f"{deleted} resource(s) deleted; everything eks-assist created for {self.cluster} is gone.\n\n")
            text.append("Next\n", style="bold")
            text.append("  eks-assist runs      # the journal of this and earlier runs\n")
            return text
        kube = next((s.outputs for s in self.steps() if s.step == "kubeconfig" and s.status == "done"), {})
        for label, value in (
            ("Endpoint", self.outputs.get("endpoint")),
            ("ARN", self.outputs.get("arn")),
            ("Version", self.outputs.get("version")),
            ("Kubeconfig", kube.get("path") or "(not written: kubeconfig.write is off)"),
            ("Context", kube.get("context") or "-"),
        ):
            text.append(f"{label:<11}", style="dim")
            text.append(f"{r(str(value or '-'))}\n")
        text.append("\nNext\n", style="bold")
        if kube.get("context"):
            text.append(f"  kubectl --kubeconfig {r(kube['path'])} --context {kube['context']} get nodes\n")
        text.append(f"  {self.flag(f'eks-assist status {self.cluster}')}\n")
        text.append(f"  {self.flag(f'eks-assist access list --cluster {self.cluster}')}\n")
        caller = _principal(self.wizard.conn.caller) if self.wizard.conn else ""
        if caller:
            text.append(f"  {self.flag(f'eks-assist access check --cluster {self.cluster} --principal {caller}')}\n")
        saved = self.wizard.state.saved_to if self.wizard.state else None
        if saved:
            text.append(f"  {self.flag(f'eks-assist plan -f {r(saved)}')}   # later changes: edit, plan, apply\n")
        else:
            text.append("  Save the spec (Ctrl+S on any wizard screen) to plan later changes with eks-assist -f FILE\n")
        owned = self.wizard.owned_sandbox
        if owned is not None:
            text.append(
                f"\nThe sandbox (pid {owned.pid}) runs in the background, so these work from any terminal while the "
                "wizard runs. Quitting asks whether to keep it running or stop it.\n",
                style="dim",
            )
        return text


class FailureScreen(_Outcome):
    """Failure: the error, the journal (what exists, what does not), and Resume."""

    BINDINGS = [*_Outcome.BINDINGS, Binding("r", "resume", "Resume")]

    def __init__(self, kind: str, run_id: str, error: str, cluster: str) -> None:
        super().__init__(kind, run_id, cluster)
        self.error = error

    def compose(self) -> ComposeResult:
        steps = self.steps()
        yield Header()
        yield StepBar("Apply")
        yield Static(
            f"The {'destroy' if self.kind == 'destroy' else 'apply'} of {self.cluster} did not finish", classes="heading failure"
        )
        with VerticalScroll(id="body"):
            yield Static(self.explanation(steps), id="error")
            # A FitTable: step names like nodegroup[spot] are not markup, and long errors wrap.
            table = FitTable("step", "op", "status", "what it means", "error", id="journal")
            table.set_rows(
                (None, [s.step, s.op, Text(s.status, style=STATUS_STYLE.get(s.status, "")), _WHAT.get(s.status, ""), s.error])
                for s in steps
            )
            yield table
        with Horizontal(id="nav"):
            yield Button("Resume", id="resume", variant="primary", compact=True, disabled=not steps)
            yield Button("Back to clusters", id="dashboard", compact=True)
            yield Static(classes="spacer")
            yield Button("Quit", id="quit", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        button = self.query_one("#resume", Button)
        (button if not button.disabled else self.query_one("#dashboard", Button)).focus()

    def explanation(self, steps: list[StepRecord]) -> Text:
        r = self.wizard.redact
        text = Text()
        if not steps:
            text.append("Nothing was changed: the run did not start.\n\n", style="bold")
            text.append(self.error)
            return text
        failed = [s for s in steps if s.status == "failed"]
        done = [s for s in steps if s.status == "done"]
        cancelled = "cancelled" in self.error and not failed
        if cancelled:
            text.append("You cancelled the run. ", style="bold")
        for s in failed:
            text.append(f"{s.step} failed: ", style="bold red")
            text.append(f"{s.error}\n")
        text.append(
            f"\n{len(done)} of {len(steps)} step(s) are done; the rest were not attempted. Nothing is created twice: "
            "Resume continues this run under the plan you approved.\n"
        )
        text.append(f"Run {r(self.run_id)} · also: {self.flag(f'eks-assist resume {r(self.run_id)}')}\n", style="dim")
        return text

    @on(Button.Pressed, "#resume")
    def _resume(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_resume()

    def action_resume(self) -> None:
        if not self.steps():
            self.notify("There is no run to resume.", severity="warning")
            return
        self.wizard.resume_run(self.run_id, self.cluster)


__all__ = ["DoneScreen", "FailureScreen"]
