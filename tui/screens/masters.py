"""Screen 2, Masters: cluster name (validated as you type), Kubernetes version from what EKS
offers, the VPC (a new one, or an existing VPC and its subnets with AZ and free IPs), endpoint
access, control-plane logs and the authentication mode.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import ContentSwitcher, Input, RadioButton, RadioSet, Select, SelectionList, Static, Switch
from textual.widgets.selection_list import Selection

from assistant.inventory import KubernetesVersion, SubnetInfo, VpcInfo, kubernetes_versions, subnets, vpcs
from assistant.spec import LOG_TYPES

from ..bridge import plain_error
from ..connection import Connection
from ..state import get_path, set_path, split_list
from ..widgets.form import Row, TextField, error_line
from .base import WizardScreen

AUTH_MODES = ("API_AND_CONFIG_MAP", "API", "CONFIG_MAP")


class MastersScreen(WizardScreen):
    """The control plane: masters.* and metadata.name."""

    STEP = "Masters"
    SECTION = "masters"
    HEADING = "Masters: the EKS control plane"
    FIELD_PATHS = {
        "name": "metadata.name",
        "region": "metadata.region",
        "tags": "metadata.tags",
        "version": "masters.version",
        "vpc-mode": "masters.vpc",
        "cidr": "masters.vpc.create.cidr",
        "az-count": "masters.vpc.create.azCount",
        "subnets": "masters.vpc.existing.subnetIds",
        "security-groups": "masters.vpc.existing.securityGroupIds",
        "service-cidr": "masters.serviceCidr",
        "public": "masters.endpoint",
        "public-cidrs": "masters.endpoint.publicCidrs",
        "logging": "masters.logging",
        "auth-mode": "masters.authenticationMode",
        "kms": "masters.secretsEncryption",
    }

    def __init__(self) -> None:
        super().__init__()
        vpc = get_path(self.state.spec, "masters", "vpc", default={}) or {}
        # Both VPC choices are remembered, so flipping between them loses nothing.
        self.create: dict[str, Any] = dict(vpc.get("create") or {"cidr": "10.0.0.0/16", "azCount": 2})
        self.existing: dict[str, Any] = dict(vpc.get("existing") or {"subnetIds": []})
        self.mode = "existing" if "existing" in vpc else "create"
        self.subnet_info: dict[str, SubnetInfo] = {}
        self.vpc_id: str | None = None

    def compose_form(self) -> ComposeResult:
        spec = self.state.spec
        m = lambda *k, default=None: get_path(spec, "masters", *k, default=default)  # noqa: E731
        yield Row(
            "Cluster name",
            TextField(self.state.name, placeholder="e.g. platform-prod", id="name", validators=[self.rule("name")]),
            error_id="name-error",
            hint="1-100 characters: letters, digits, '-' and '_', starting with a letter or digit",
        )
        yield Row(
            "Region",
            Static(self.state.region or "-", id="region"),
            error_id="region-error",
            hint="switch it on the Context screen (r)",
        )
        version = str(m("version", default=""))
        yield Row(
            "Kubernetes version",
            Select([(version, version)], value=version, allow_blank=False, id="version", compact=True),
            error_id="version-error",
        )
        yield Static(id="version-note", classes="hint", markup=False)
        with RadioSet(id="vpc-mode"):
            yield RadioButton("Create a new VPC", value=self.mode == "create", id="mode-create")
            yield RadioButton("Use an existing VPC", value=self.mode == "existing", id="mode-existing")
        yield error_line("vpc-mode-error")
        with ContentSwitcher(initial=f"vpc-{self.mode}", id="vpc-switcher"):
            with Horizontal(id="vpc-create", classes="pair"):
                yield Row(
                    "VPC CIDR",
                    TextField(str(self.create.get("cidr", "")), id="cidr", validators=[self.rule("cidr")]),
                    error_id="cidr-error",
                )
                yield Row(
                    "Availability Zones",
                    TextField(str(self.create.get("azCount", "")), id="az-count", validators=[self.rule("az-count")]),
                    error_id="az-count-error",
                )
            with Horizontal(id="vpc-existing", classes="pair"):
                yield Row("VPC", Select([], prompt="loading VPCs…", id="vpc-id", compact=True), error_id="vpc-id-error")
                yield Row(
                    "Subnets (AZ, free IPs): pick two or more AZs",
                    SelectionList[str](id="subnets"),
                    error_id="subnets-error",
                )
                yield Row(
                    "Extra security groups",
                    TextField(
                        ", ".join(self.existing.get("securityGroupIds") or []),
                        placeholder="sg-… (optional)",
                        id="security-groups",
                    ),
                    error_id="security-groups-error",
                )
        yield Row(
            "Service CIDR",
            TextField(
                str(m("serviceCidr", default="") or ""),
                placeholder="default: chosen by EKS",
                id="service-cidr",
                validators=[self.rule("service-cidr")],
            ),
            error_id="service-cidr-error",
        )
        with Horizontal(classes="switches"):
            yield Switch(bool(m("endpoint", "publicAccess", default=True)), id="public")
            yield Static("public endpoint", classes="switch-label")
            yield Switch(bool(m("endpoint", "privateAccess", default=False)), id="private")
            yield Static("private endpoint", classes="switch-label")
        yield error_line("public-error")
        yield Row(
            "Public endpoint CIDRs",
            TextField(
                ", ".join(m("endpoint", "publicCidrs", default=[]) or []),
                placeholder="default: 0.0.0.0/0",
                id="public-cidrs",
                validators=[self.rule("public-cidrs")],
            ),
            error_id="public-cidrs-error",
        )
        logging = set(m("logging", default=[]) or [])
        yield Row(
            "Control-plane logs (CloudWatch, billed)",
            SelectionList[str](*[Selection(t, t, t in logging) for t in LOG_TYPES], id="logging"),
            error_id="logging-error",
        )
        mode = str(m("authenticationMode", default="API_AND_CONFIG_MAP"))
        yield Row(
            "Authentication mode (moves one way: CONFIG_MAP → API_AND_CONFIG_MAP → API)",
            Select(
                [(a, a) for a in AUTH_MODES],
                value=mode if mode in AUTH_MODES else Select.NULL,
                allow_blank=mode not in AUTH_MODES,
                id="auth-mode",
                compact=True,
            ),
            error_id="auth-mode-error",
        )
        yield Row(
            "Secrets encryption KMS key ARN",
            TextField(
                str(m("secretsEncryption", "kmsKeyArn", default="") or ""),
                placeholder="optional",
                id="kms",
                validators=[self.rule("kms")],
            ),
            error_id="kms-error",
        )

    def on_mount(self) -> None:
        super().on_mount()
        conn = self.wizard.conn
        if conn is not None:
            self._load_versions(conn)
            self._load_vpcs(conn)
        self.query_one("#name", TextField).focus()

    # -- writing fields into the spec -----------------------------------------------------
    def apply(self, spec: dict[str, Any], field_id: str, value: Any) -> None:
        if field_id == "name":
            set_path(spec, "metadata", "name", value=value)
        elif field_id == "version":
            set_path(spec, "masters", "version", value=value)
        elif field_id in ("cidr", "az-count", "subnets", "security-groups", "vpc-mode"):
            create, existing = dict(self.create), dict(self.existing)
            if field_id == "cidr":
                create["cidr"] = value
            elif field_id == "az-count":
                from ..state import number_or_text

                n = number_or_text(value)
                if n is None:
                    create.pop("azCount", None)
                else:
                    create["azCount"] = n
            elif field_id == "subnets":
                existing["subnetIds"] = list(value)
            elif field_id == "security-groups":
                groups = split_list(value)
                if groups:
                    existing["securityGroupIds"] = groups
                else:
                    existing.pop("securityGroupIds", None)
            mode = value if field_id == "vpc-mode" else self.mode
            if spec is self.state.spec:
                self.create, self.existing, self.mode = create, existing, mode
            set_path(spec, "masters", "vpc", value={mode: create if mode == "create" else existing})
        elif field_id == "service-cidr":
            set_path(spec, "masters", "serviceCidr", value=value.strip() or None)
        elif field_id == "public":
            endpoint = dict(get_path(spec, "masters", "endpoint", default={}) or {})
            endpoint["publicAccess"], endpoint["privateAccess"] = value
            set_path(spec, "masters", "endpoint", value=endpoint)
        elif field_id == "public-cidrs":
            cidrs = split_list(value)
            endpoint = dict(get_path(spec, "masters", "endpoint", default={}) or {})
            if cidrs:
                endpoint["publicCidrs"] = cidrs
            else:
                endpoint.pop("publicCidrs", None)
            set_path(spec, "masters", "endpoint", value=endpoint)
        elif field_id == "logging":
            set_path(spec, "masters", "logging", value=list(value))
        elif field_id == "auth-mode":
            set_path(spec, "masters", "authenticationMode", value=value)
        elif field_id == "kms":
            set_path(spec, "masters", "secretsEncryption", value={"kmsKeyArn": value.strip()} if value.strip() else None)

    @on(Input.Changed)
    def _input(self, event: Input.Changed) -> None:
        self.changed(event.input.id, event.value)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self.focus_next()

    @on(Select.Changed)
    def _select(self, event: Select.Changed) -> None:
        if event.select.id == "vpc-id":
            if isinstance(event.value, str) and event.value != self.vpc_id and self.wizard.conn is not None:
                self.vpc_id = event.value
                self._load_subnets(self.wizard.conn, event.value)
            return
        if event.value is not Select.NULL:
            self.changed(event.select.id, event.value)

    @on(SelectionList.SelectedChanged)
    def _selection(self, event: SelectionList.SelectedChanged[str]) -> None:
        self.changed(event.selection_list.id, list(event.selection_list.selected))

    @on(Switch.Changed)
    def _switch(self, event: Switch.Changed) -> None:
        public = self.query_one("#public", Switch).value
        private = self.query_one("#private", Switch).value
        self.changed("public", (public, private))

    @on(RadioSet.Changed, "#vpc-mode")
    def _mode(self, event: RadioSet.Changed) -> None:
        mode = "existing" if event.pressed.id == "mode-existing" else "create"
        self.query_one("#vpc-switcher", ContentSwitcher).current = f"vpc-{mode}"
        self.changed("vpc-mode", mode)

    # -- data from AWS --------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="versions")
    def _load_versions(self, conn: Connection) -> None:
        try:
            versions, source = kubernetes_versions(conn.aws)
        except Exception as exc:
            self.app.call_from_thread(self.notify, f"Kubernetes versions: {plain_error(exc)}", severity="warning", markup=False)
            return
        self.app.call_from_thread(self._versions, versions, source)

    def _versions(self, versions: list[KubernetesVersion], source: str) -> None:
        select = self.query_one("#version", Select)
        current = select.value
        options = []
        for v in versions:
            support = f"{v.status} until {v.until}" if v.until else v.status
            label = v.version + (f"  ({support})" if support else "") + ("  default" if v.default else "")
            options.append((label, v.version))
        if isinstance(current, str) and current not in {v.version for v in versions}:
            options.insert(0, (f"{current}  (from the spec; not offered here)", current))
        with self.prevent(Select.Changed):
            select.set_options(options)
            select.value = current
        if source == "fallback":
            self.query_one("#version-note", Static).update(
                Text("EKS did not list its versions here; this is the documented list")
            )

    @work(thread=True, exclusive=True, group="vpcs")
    def _load_vpcs(self, conn: Connection) -> None:
        try:
            found = vpcs(conn.aws)
            all_subnets = subnets(conn.aws)
        except Exception as exc:
            self.app.call_from_thread(self.notify, f"VPCs: {plain_error(exc)}", severity="warning", markup=False)
            return
        self.app.call_from_thread(self._vpcs, found, all_subnets)

    def _vpcs(self, found: list[VpcInfo], all_subnets: list[SubnetInfo]) -> None:
        self.subnet_info = {s.id: s for s in all_subnets}
        chosen = set(self.existing.get("subnetIds") or [])
        # An existing spec names subnets, not a VPC: pick the VPC they are in.
        vpc_id = next((self.subnet_info[s].vpc_id for s in chosen if s in self.subnet_info), None)
        select = self.query_one("#vpc-id", Select)
        options = [(f"{v.id}  {v.cidr}  {v.name or ('default' if v.is_default else '')}".rstrip(), v.id) for v in found]
        with self.prevent(Select.Changed):
            select.set_options(options)
        if vpc_id or found:
            select.value = vpc_id or found[0].id

    @work(thread=True, exclusive=True, group="subnets")
    def _load_subnets(self, conn: Connection, vpc_id: str) -> None:
        try:
            found = subnets(conn.aws, vpc_id)
        except Exception as exc:
            self.app.call_from_thread(self.notify, f"Subnets: {plain_error(exc)}", severity="warning", markup=False)
            return
        self.app.call_from_thread(self._subnets, found)

    def _subnets(self, found: list[SubnetInfo]) -> None:
        chosen = set(self.existing.get("subnetIds") or [])
        picker = self.query_one("#subnets", SelectionList)
        with self.prevent(SelectionList.SelectedChanged):
            picker.clear_options()
            picker.add_options(
                [
                    Selection(f"{s.id}  {s.availability_zone}  {s.cidr}  {s.free_ips} free IPs", s.id, s.id in chosen)
                    for s in found
                ]
            )


__all__ = ["MastersScreen"]
