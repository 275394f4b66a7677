"""Screen 4, CNI: prefix delegation and the warm-pool targets, with a live capacity panel (pods
per node, IPs needed at max scale against each subnet's free IPs, and the planner's warnings).
"""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Static, Switch

from assistant.errors import InputError

from ..bridge import plain_error
from ..connection import Connection
from ..state import number_or_text, set_path
from ..widgets.capacity_panel import CapacityPanel, CapacityReport, measure
from ..widgets.form import Row, TextField, error_line
from .base import WizardScreen

TARGETS = (
    ("warm-eni", "warmEniTarget", "WARM_ENI_TARGET: spare ENIs per node (default 1)"),
    ("warm-ip", "warmIpTarget", "WARM_IP_TARGET: spare IPs per node"),
    ("min-ip", "minimumIpTarget", "MINIMUM_IP_TARGET: IPs held from boot"),
    ("warm-prefix", "warmPrefixTarget", "WARM_PREFIX_TARGET: spare /28 prefixes (prefix delegation)"),
)


class CniScreen(WizardScreen):
    """The spec's ``cni`` section and what it means for capacity."""

    STEP = "CNI"
    SECTION = "cni"
    HEADING = "CNI: pod networking (Amazon VPC CNI)"
    FIELD_PATHS = {
        "prefix": "cni.prefixDelegation",
        **{field_id: f"cni.{key}" for field_id, key, _ in TARGETS},
        "snat": "cni.externalSnat",
        "addon-version": "cni.addonVersion",
    }

    def compose_form(self) -> ComposeResult:
        cni = self.state.spec.get("cni") or {}
        with Horizontal(id="cni-columns"):
            with Vertical(id="cni-settings"):
                with Horizontal(classes="switches"):
                    yield Switch(bool(cni.get("prefixDelegation")), id="prefix")
                    yield Static("prefix delegation (/28 per slot: many more pods per node)", classes="switch-label")
                yield error_line("prefix-error")
                for field_id, key, label in TARGETS:
                    value = cni.get(key)
                    yield Row(
                        label,
                        TextField(
                            "" if value is None else str(value),
                            placeholder="unset",
                            id=field_id,
                            validators=[self.rule(field_id)],
                        ),
                        error_id=f"{field_id}-error",
                    )
                with Horizontal(classes="switches"):
                    yield Switch(bool(cni.get("externalSnat")), id="snat")
                    yield Static("external SNAT (pods reach the internet through a NAT you run)", classes="switch-label")
                yield error_line("snat-error")
                yield Row(
                    "vpc-cni add-on version",
                    TextField(
                        str(cni.get("addonVersion") or ""),
                        placeholder="default: EKS's default for the cluster version",
                        id="addon-version",
                        validators=[self.rule("addon-version")],
                    ),
                    error_id="addon-version-error",
                )
                if (cni.get("customNetworking") or {}).get("enabled"):
                    configs = len((cni.get("customNetworking") or {}).get("eniConfigs") or [])
                    yield Static(
                        f"Custom networking: on, {configs} ENIConfig(s) from the spec file (edit them in the YAML).",
                        classes="hint",
                    )
            with Vertical(id="cni-capacity"):
                yield Static("Capacity at max scale", classes="subheading")
                yield CapacityPanel("Measuring…", id="capacity")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#prefix").focus()
        self.remeasure()

    def apply(self, spec: dict[str, Any], field_id: str, value: Any) -> None:
        key = self.FIELD_PATHS[field_id].removeprefix("cni.")
        if field_id in ("prefix", "snat"):
            set_path(spec, "cni", key, value=bool(value))
        elif field_id == "addon-version":
            set_path(spec, "cni", key, value=value.strip() or None)
        else:
            set_path(spec, "cni", key, value=number_or_text(value))

    @on(Input.Changed)
    def _input(self, event: Input.Changed) -> None:
        self.changed(event.input.id, event.value)
        self.remeasure()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self.focus_next()

    @on(Switch.Changed)
    def _switch(self, event: Switch.Changed) -> None:
        self.changed(event.switch.id, event.value)
        self.remeasure()

    # -- the capacity panel ---------------------------------------------------------------
    def remeasure(self) -> None:
        conn = self.wizard.conn
        if conn is None:
            return
        try:
            spec = self.state.loaded().spec.canonical()
        except InputError:
            panel = self.query_one("#capacity", CapacityPanel)
            panel.show(CapacityReport(error="Fix the problems in the spec (see below and on earlier screens) to see capacity."))
            return
        self._measure(conn, spec)

    @work(thread=True, exclusive=True, group="capacity")
    def _measure(self, conn: Connection, spec: dict[str, Any]) -> None:
        try:
            report = measure(spec, conn.aws)
        except Exception as exc:
            report = CapacityReport(error=f"Capacity could not be measured: {plain_error(exc)}")
        self.app.call_from_thread(self.query_one("#capacity", CapacityPanel).show, report)


__all__ = ["CniScreen"]
