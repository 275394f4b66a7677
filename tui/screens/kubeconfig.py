"""Screen 6, Kubeconfig: whether to write one, where, the context name (alias) and the token exec
plugin (``eks-assist token`` built in, or ``aws eks get-token``). No credential is ever written.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Input, Select, Static, Switch

from assistant.identity.kubeconfig import default_path

from ..state import set_path
from ..widgets.form import Row, TextField, error_line
from .base import WizardScreen


class KubeconfigScreen(WizardScreen):
    """The spec's ``kubeconfig`` section, with a preview of the context it will write."""

    STEP = "Kubeconfig"
    SECTION = "kubeconfig"
    HEADING = "Kubeconfig: kubectl access to the new cluster"
    FIELD_PATHS = {
        "kc-write": "kubeconfig.write",
        "kc-path": "kubeconfig.path",
        "kc-alias": "kubeconfig.alias",
        "kc-exec": "kubeconfig.exec",
    }

    def compose_form(self) -> ComposeResult:
        kc = self.state.spec.get("kubeconfig") or {}
        with Horizontal(classes="switches"):
            yield Switch(bool(kc.get("write", True)), id="kc-write")
            yield Static("write a kubeconfig context when the cluster is ready", classes="switch-label")
        yield error_line("kc-write-error")
        yield Row(
            "File",
            TextField(str(kc.get("path") or ""), placeholder=f"default: {self.app.redact(str(default_path()))}", id="kc-path"),  # type: ignore[attr-defined]
            error_id="kc-path-error",
            hint="merged atomically, mode 0600; other contexts in the file stay byte-for-byte",
        )
        yield Row(
            "Context name (alias)",
            TextField(str(kc.get("alias") or ""), placeholder="default: the cluster ARN", id="kc-alias"),
            error_id="kc-alias-error",
        )
        exec_ = str(kc.get("exec", "builtin"))
        yield Row(
            "Token command (exec plugin)",
            Select(
                [("eks-assist token (built in)", "builtin"), ("aws eks get-token (AWS CLI)", "aws")],
                value=exec_ if exec_ in ("builtin", "aws") else Select.NULL,
                allow_blank=exec_ not in ("builtin", "aws"),
                id="kc-exec",
                compact=True,
            ),
            error_id="kc-exec-error",
        )
        yield Static(id="kc-preview", classes="preview")

    def on_mount(self) -> None:
        super().on_mount()
        self.preview()
        self.query_one("#kc-write").focus()

    def apply(self, spec: dict[str, Any], field_id: str, value: Any) -> None:
        key = self.FIELD_PATHS[field_id].removeprefix("kubeconfig.")
        if field_id == "kc-write":
            set_path(spec, "kubeconfig", key, value=bool(value))
        elif field_id == "kc-exec":
            set_path(spec, "kubeconfig", key, value=value)
        else:
            set_path(spec, "kubeconfig", key, value=str(value).strip() or None)

    def preview(self) -> None:
        kc = self.state.spec.get("kubeconfig") or {}
        conn = self.wizard.conn
        account = conn.account if conn else "ACCOUNT"
        region = self.state.region or "REGION"
        arn = f"arn:aws:eks:{region}:{account}:cluster/{self.state.name or '<name>'}"
        text = Text()
        if not kc.get("write", True):
            text.append("No kubeconfig will be written.", style="italic")
        else:
            command = (
                f"eks-assist token --cluster-name {self.state.name}"
                if kc.get("exec", "builtin") == "builtin"
                else f"aws --region {region} eks get-token --cluster-name {self.state.name} --output json"
            )
            text.append("Context  ", style="dim")
            text.append(f"{kc.get('alias') or arn}\n")
            text.append("File     ", style="dim")
            text.append(f"{self.wizard.redact(str(kc.get('path') or default_path()))}\n")
            text.append("Token    ", style="dim")
            text.append(command)
        self.query_one("#kc-preview", Static).update(text)

    @on(Input.Changed)
    def _input(self, event: Input.Changed) -> None:
        self.changed(event.input.id, event.value)
        self.preview()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self.focus_next()

    @on(Switch.Changed)
    def _switch(self, event: Switch.Changed) -> None:
        self.changed(event.switch.id, event.value)
        self.preview()

    @on(Select.Changed)
    def _select(self, event: Select.Changed) -> None:
        if event.value is not Select.NULL:
            self.changed(event.select.id, event.value)
            self.preview()


__all__ = ["KubeconfigScreen"]
