"""Screen 5, IAM mappings: who may use the cluster and as whom. Add roles, users or accounts with
a username, groups, or access policies and their scope; the node role's mapping is shown as
managed automatically; and an access check tells which Kubernetes identity any principal
gets, against this spec's mappings or a live cluster's (``eks-assist access check``).

Where each mapping goes (aws-auth or an access entry) is :func:`assistant.identity.access.route`, the
function the engine's aws-auth and access-entry steps route by, so ``via: auto`` shows what
the apply will do under the spec's authentication mode.
"""

from __future__ import annotations

import copy
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, DataTable, Input, Select, Static

from assistant.errors import InputError, Problem
from assistant.identity import access
from assistant.identity.access import Mapping
from assistant.tags import role_name

from ..bridge import plain_error
from ..connection import Connection
from ..state import describe_problem, get_path
from ..widgets.fit_table import FitTable
from ..widgets.form import Row, TextField
from .base import WizardScreen

PLANNED = "__planned__"
NODE_USERNAME = "system:node:{{EC2PrivateDNSName}}"
NODE_GROUPS = ["system:bootstrappers", "system:nodes"]
_SECTION = {"role": "mapRoles", "user": "mapUsers", "account": "mapAccounts"}


def default_username(m: dict[str, Any]) -> str | None:
    """The username aws-auth gets when the spec names none (what the aws-auth step writes)."""
    arn = str(m.get("arn", ""))
    if m.get("kind") == "role" and arn.count(":") >= 5:
        return f"arn:aws:sts::{arn.split(':')[4]}:assumed-role/{arn.rsplit('/', 1)[-1]}/{{{{SessionName}}}}"
    if m.get("kind") == "user":
        return arn
    return None


def spec_mode(spec: dict[str, Any]) -> str:
    """The authentication mode the engine maps under for this spec.

    The engine routes with ``later_mode(spec, cluster)``; a plan that would move a live cluster
    back is refused, so whenever there is a plan, that is the spec's mode.
    """
    return access.later_mode(str(get_path(spec, "masters", "authenticationMode", default="API_AND_CONFIG_MAP")))


def goes_to(source: str, section: str = "") -> str:
    """Where a mapping lands, for people: ``aws-auth mapRoles`` or ``access entry``."""
    return f"aws-auth {section}".strip() if source == "aws-auth" else "access entry"


def auto_note(mode: str) -> str:
    """What ``via: auto`` means under ``mode``, from the same routing the engine uses."""

    def where(kind: str) -> str:
        return "aws-auth" if access.route(kind, "auto", mode) == "aws-auth" else "access entries"

    return (
        f"via auto follows the authentication mode ({mode}): roles and users go to {where('role')}, "
        f"accounts to {where('account')}. The node role's mapping is made for you."
    )


def planned_mappings(spec: dict[str, Any], account: str) -> tuple[str, list[Mapping]]:
    """(authentication mode, the mappings this spec would make, node role included)."""
    mode = spec_mode(spec)
    name = str(get_path(spec, "metadata", "name", default=""))
    region = str(get_path(spec, "metadata", "region", default=""))
    out: list[Mapping] = []
    if mode != "API":
        node_role = f"arn:aws:iam::{account}:role/{role_name(name, region, 'node')}"
        out.append(Mapping("aws-auth", node_role, NODE_USERNAME, NODE_GROUPS, section="mapRoles"))
    for m in spec.get("iamMappings") or []:
        source = access.route(str(m.get("kind")), str(m.get("via", "auto")), mode)
        policies = [
            {
                "policy": str(p.get("policy", "")).rsplit("/", 1)[-1],
                "scope": p.get("scope", "cluster"),
                "namespaces": list(p.get("namespaces") or []),
            }
            for p in m.get("accessPolicies") or []
        ]
        username = m.get("username") or (default_username(m) if source == "aws-auth" else None)
        out.append(
            Mapping(
                source,
                str(m.get("arn", "")),
                username,
                list(m.get("groups") or []),
                section=_SECTION.get(str(m.get("kind")), "") if source == "aws-auth" else "",
                policies=policies,
                type="STANDARD",
            )
        )
    return mode, out


def check_text(result: dict[str, Any], target: str) -> Text:
    """An access-check result worded like ``eks-assist access check``."""
    text = Text()
    where = "this spec's planned mappings" if target == PLANNED else f"cluster {target}"
    if result["mapped"]:
        rule = result["rule"]
        granted = f"aws-auth {rule['section']}" if rule["source"] == "aws-auth" else "access entry"
        text.append(f"✓ mapped on {where} (authenticationMode {result['authenticationMode']})\n", style="bold green")
        text.append(f"  username: {result['username'] or '(EKS default)'}\n  groups:   {', '.join(result['groups']) or '-'}\n")
        text.append(f"  granted by: {granted} for {rule['arn']}\n")
        for p in result["accessPolicies"]:
            scope = "cluster" if p["scope"] == "cluster" else f"namespaces {', '.join(p['namespaces'])}"
            text.append(f"  access policy: {p['policy']} ({scope})\n")
    else:
        text.append(f"✗ NOT mapped on {where} (authenticationMode {result['authenticationMode']})\n", style="bold red")
        for n in result["notes"]:
            text.append(f"  {n}\n")
    for miss in result["nearMisses"]:
        text.append(f"  near miss: {miss}\n", style="yellow")
    return text


class IamScreen(WizardScreen):
    """The spec's ``iamMappings`` list and the access check."""

    STEP = "IAM"
    SECTION = "iam"
    HEADING = "IAM mappings: IAM principal → Kubernetes user and groups (a: add · e: edit · x: remove)"
    BINDINGS = [
        *WizardScreen.BINDINGS,
        Binding("a", "add", "Add"),
        Binding("e", "edit", "Edit"),
        Binding("x,delete", "remove", "Remove"),
    ]

    @property
    def mappings(self) -> list[dict[str, Any]]:
        return self.state.spec.setdefault("iamMappings", [])

    def compose_form(self) -> ComposeResult:
        yield FitTable("principal", "goes to", "username / groups", "access policies", id="mappings")
        yield Static(id="mappings-note", classes="hint", markup=False)
        with Horizontal(classes="buttons"):
            yield Button("Add mapping", id="add", compact=True)
            yield Button("Edit", id="edit", compact=True)
            yield Button("Remove", id="remove", compact=True)
        yield Static("Access check: which Kubernetes identity does a principal get?", classes="subheading")
        with Horizontal(classes="pair stack-narrow", id="check-pair"):
            yield Row(
                "Principal ARN (role, user or assumed-role session)",
                TextField(placeholder="arn:aws:iam::111122223333:role/name", id="principal"),
                error_id="principal-error",
            )
            yield Row(
                "Against",
                Select([("this spec (planned)", PLANNED)], value=PLANNED, allow_blank=False, id="check-target", compact=True),
                error_id="check-target-error",
            )
        yield Button("Check", id="check", compact=True)
        yield Static(id="check-result", markup=False)

    def on_mount(self) -> None:
        self.fill()
        super().on_mount()
        targets = [("this spec (planned)", PLANNED)] + [(f"cluster {n}", n) for n in self.wizard.cluster_names]
        self.query_one("#check-target", Select).set_options(targets)
        self.query_one("#check-target", Select).value = PLANNED
        self.query_one("#mappings").focus()

    def fill(self) -> None:
        account = self.wizard.conn.account if self.wizard.conn else "ACCOUNT"
        mode, planned = planned_mappings(self.state.spec, account)
        # EKS maps the node role itself in API mode (an access entry for the managed node groups).
        node_target = goes_to("aws-auth", "mapRoles") if mode != "API" else "access entry (EKS)"
        rows: list[tuple[str | None, list[str | Text]]] = [
            (
                "node-role",
                [
                    Text(
                        f"arn:aws:iam::{account}:role/{role_name(self.state.name or '<name>', self.state.region, 'node')}",
                        style="dim",
                    ),
                    Text(f"{node_target}\n(managed automatically)", style="dim italic"),
                    Text(f"{NODE_USERNAME}\n{', '.join(NODE_GROUPS)}", style="dim"),
                    Text("-", style="dim"),
                ],
            )
        ]
        user = [p for p in planned if p.username != NODE_USERNAME]
        for i, (m, p) in enumerate(zip(self.mappings, user, strict=False)):
            policies = ", ".join(
                pp["policy"] + ("" if pp["scope"] == "cluster" else f" ({', '.join(pp['namespaces'])})") for pp in p.policies
            )
            where = goes_to(p.source, p.section) + ("\n(auto)" if str(m.get("via", "auto")) == "auto" else "")
            username = m.get("username") or ("(default)" if p.source == "aws-auth" else "(EKS default)")
            groups = ", ".join(m.get("groups") or []) or "-"
            rows.append((str(i), [str(m.get("arn", "")), where, f"{username}\n{groups}", policies or "-"]))
        self.query_one("#mappings", FitTable).set_rows(rows)
        self.query_one("#mappings-note", Static).update(auto_note(mode))

    def field_for(self, problem: Problem) -> str | None:
        return None

    def refresh_problems(self) -> list[Problem]:
        problems = self.section_problems()
        lines = []
        for p in problems:
            index = (p.path or "").split("]", 1)[0].removeprefix("iamMappings[")
            arn = self.mappings[int(index)].get("arn") if index.isdigit() and int(index) < len(self.mappings) else None
            lines.append(f"✗ {arn or 'iamMappings'}: {describe_problem(p, f'iamMappings[{index}]' if index.isdigit() else '')}")
        summary = self.query_one("#problems", Static)
        summary.update("\n".join(lines))
        summary.display = bool(lines)
        return problems

    # -- editing --------------------------------------------------------------------------
    @on(Button.Pressed, "#add, #edit, #remove, #check")
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        {"add": self.action_add, "edit": self.action_edit, "remove": self.action_remove, "check": self.action_check}[
            str(event.button.id)
        ]()

    @on(DataTable.RowSelected, "#mappings")
    def _selected(self, event: DataTable.RowSelected) -> None:
        self.action_edit()

    def _index(self) -> int | None:
        table = self.query_one("#mappings", DataTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        if key == "node-role":
            self.notify("The node role's mapping is managed automatically: nodes need it to join.", severity="information")
            return None
        return int(str(key)) if key is not None else None

    def _edit(self, index: int | None) -> None:
        from .mapping_editor import MappingEditor

        def saved(mapping: dict[str, Any] | None) -> None:
            if mapping is None:
                return
            if index is None:
                self.mappings.append(mapping)
            else:
                self.mappings[index] = mapping
            self.fill()
            self.refresh_problems()

        self.app.push_screen(MappingEditor(index, copy.deepcopy(self.mappings[index]) if index is not None else None), saved)

    def action_add(self) -> None:
        self._edit(None)

    def action_edit(self) -> None:
        index = self._index()
        if index is not None:
            self._edit(index)

    def action_remove(self) -> None:
        index = self._index()
        if index is None:
            return
        removed = self.mappings.pop(index)
        self.fill()
        self.refresh_problems()
        self.notify(f"Removed the mapping for {removed.get('arn')}.", markup=False)

    # -- access check ---------------------------------------------------------------------
    @on(Input.Submitted, "#principal")
    def _principal(self, event: Input.Submitted) -> None:
        self.action_check()

    def action_check(self) -> None:
        principal = self.query_one("#principal", Input).value.strip()
        target = self.query_one("#check-target", Select).value
        result = self.query_one("#check-result", Static)
        try:
            access.parse_principal(principal)
        except InputError as exc:
            result.update(Text(str(exc).removeprefix("--principal: "), style="red"))
            return
        if target == PLANNED or not isinstance(target, str):
            account = self.wizard.conn.account if self.wizard.conn else "000000000000"
            mode, mappings = planned_mappings(self.state.spec, account)
            result.update(check_text(access.resolve(principal, mode, mappings), PLANNED))
        elif self.wizard.conn is not None:
            result.update("Reading the cluster's aws-auth and access entries…")
            self._check_live(self.wizard.conn, target, principal)

    @work(thread=True, exclusive=True, group="access-check")
    def _check_live(self, conn: Connection, cluster: str, principal: str) -> None:
        from assistant.identity.access import read_mappings

        try:
            mode, mappings, _notes = read_mappings(conn.aws, cluster)
            text = check_text(access.resolve(principal, mode, mappings), cluster)
        except Exception as exc:
            text = Text(f"Access check failed: {plain_error(exc)}", style="red")
        self.app.call_from_thread(self.query_one("#check-result", Static).update, text)


__all__ = ["IamScreen", "auto_note", "check_text", "goes_to", "planned_mappings", "spec_mode"]
