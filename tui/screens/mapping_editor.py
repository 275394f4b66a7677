"""The IAM-mapping editor (a modal over IAM): principal, kind, username, groups, where it goes
(auto, aws-auth, access entry) and access policies with their scope, validated by the spec model.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Select, SelectionList, Static
from textual.widgets.selection_list import Selection

from assistant.identity.access import KNOWN_POLICIES

from ..state import WizardState, path_within, split_list
from ..widgets.form import FieldError, Row, SpecRule, TextField

if TYPE_CHECKING:
    from ..app import EksAssistApp

FIELDS = {
    "m-arn": "arn",
    "m-kind": "kind",
    "m-username": "username",
    "m-groups": "groups",
    "m-via": "via",
    "m-policies": "accessPolicies",
    "m-scope": "accessPolicies.scope",
    "m-namespaces": "accessPolicies.namespaces",
}


def _policy_name(policy: str) -> str:
    return policy.rsplit("/", 1)[-1]


class MappingEditor(ModalScreen[dict[str, Any] | None]):
    """Edit one ``iamMappings`` entry; one scope applies to all its access policies."""

    BINDINGS = [Binding("escape", "cancel", "Cancel"), Binding("ctrl+s", "save", "Save", priority=True)]

    def __init__(self, index: int | None, mapping: dict[str, Any] | None) -> None:
        super().__init__()
        self.index = index
        self.mapping: dict[str, Any] = mapping or {"arn": "", "kind": "role", "via": "auto"}
        policies = self.mapping.get("accessPolicies") or []
        self.policies = [_policy_name(str(p.get("policy", ""))) for p in policies]
        self.scope = str(policies[0].get("scope", "cluster")) if policies else "cluster"
        self.namespaces: list[str] = list(policies[0].get("namespaces") or []) if policies else []
        self.touched: set[str] = set()
        self.attempted = False
        self.errors: dict[str, FieldError] = {}

    @property
    def wizard(self) -> EksAssistApp:
        return self.app  # type: ignore[return-value]

    @property
    def where(self) -> str:
        assert self.wizard.state is not None
        n = len(self.wizard.state.spec.get("iamMappings") or [])
        return f"iamMappings[{n if self.index is None else self.index}]"

    def compose(self) -> ComposeResult:
        m = self.mapping
        kind, via = str(m.get("kind", "role")), str(m.get("via", "auto"))
        with Vertical(id="dialog", classes="wide tall"):
            yield Static(("Add" if self.index is None else "Edit") + " IAM mapping", classes="heading")
            with VerticalScroll(id="editor"):
                yield Row(
                    "Principal: IAM role or user ARN, or a 12-digit account ID",
                    TextField(
                        str(m.get("arn", "")),
                        placeholder="arn:aws:iam::111122223333:role/PlatformAdmins",
                        id="m-arn",
                        validators=[self.rule("m-arn")],
                    ),
                    error_id="m-arn-error",
                )
                with Horizontal(classes="pair"):
                    yield Row(
                        "Kind",
                        Select(
                            [("role", "role"), ("user", "user"), ("account", "account")],
                            value=kind,
                            allow_blank=False,
                            id="m-kind",
                            compact=True,
                        ),
                        error_id="m-kind-error",
                    )
                    yield Row(
                        "Goes to",
                        Select(
                            [
                                ("auto (follows the authentication mode)", "auto"),
                                ("aws-auth", "aws-auth"),
                                ("access entry", "access-entry"),
                            ],
                            value=via,
                            allow_blank=False,
                            id="m-via",
                            compact=True,
                        ),
                        error_id="m-via-error",
                    )
                yield Row(
                    "Kubernetes username",
                    TextField(
                        str(m.get("username") or ""),
                        placeholder="default: derived from the ARN",
                        id="m-username",
                        validators=[self.rule("m-username")],
                    ),
                    error_id="m-username-error",
                )
                yield Row(
                    "Groups",
                    TextField(
                        ", ".join(m.get("groups") or []),
                        placeholder="system:masters, platform-admins",
                        id="m-groups",
                        validators=[self.rule("m-groups")],
                    ),
                    error_id="m-groups-error",
                )
                yield Row(
                    "Access policies (access entries only)",
                    SelectionList[str](*[Selection(p, p, p in self.policies) for p in KNOWN_POLICIES], id="m-policies"),
                    error_id="m-policies-error",
                )
                with Horizontal(classes="pair"):
                    yield Row(
                        "Scope",
                        Select(
                            [("cluster", "cluster"), ("namespace", "namespace")],
                            value=self.scope if self.scope in ("cluster", "namespace") else "cluster",
                            allow_blank=False,
                            id="m-scope",
                            compact=True,
                        ),
                        error_id="m-scope-error",
                    )
                    yield Row(
                        "Namespaces (scope namespace)",
                        TextField(
                            ", ".join(self.namespaces),
                            placeholder="apps, batch",
                            id="m-namespaces",
                            validators=[self.rule("m-namespaces")],
                        ),
                        error_id="m-namespaces-error",
                    )
            yield Static(id="editor-problems", classes="field-error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel", compact=True)
                yield Button("Save", id="save", variant="primary", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        # Looked up once: this runs on every keystroke.
        self.errors = {f: e for f in FIELDS for e in self.query(f"#{f}-error").results(FieldError)}
        self.query_one("#editor-problems").display = False
        self.query_one("#m-arn").focus()

    def apply(self, mapping: dict[str, Any], field_id: str, value: Any) -> None:
        policies, scope, namespaces = list(self.policies), self.scope, list(self.namespaces)
        if field_id == "m-arn":
            mapping["arn"] = value.strip()
        elif field_id in ("m-kind", "m-via"):
            mapping[FIELDS[field_id]] = value
        elif field_id == "m-username":
            if value.strip():
                mapping["username"] = value.strip()
            else:
                mapping.pop("username", None)
        elif field_id == "m-groups":
            groups = split_list(value)
            if groups:
                mapping["groups"] = groups
            else:
                mapping.pop("groups", None)
        elif field_id == "m-policies":
            policies = list(value)
        elif field_id == "m-scope":
            scope = str(value)
        elif field_id == "m-namespaces":
            namespaces = split_list(value)
        if policies:
            entry: dict[str, Any] = {"scope": scope}
            if namespaces:
                entry["namespaces"] = namespaces
            mapping["accessPolicies"] = [{"policy": p, **entry} for p in policies]
        else:
            mapping.pop("accessPolicies", None)
        if mapping is self.mapping:
            self.policies, self.scope, self.namespaces = policies, scope, namespaces

    def problems(self, mapping: dict[str, Any]) -> dict[str, list[str]]:
        assert self.wizard.state is not None
        spec = copy.deepcopy(self.wizard.state.spec)
        mappings = spec.setdefault("iamMappings", [])
        if self.index is None:
            mappings.append(mapping)
        else:
            mappings[self.index] = mapping
        out: dict[str, list[str]] = {f: [] for f in FIELDS}
        out[""] = []
        where = self.where
        for p in WizardState(spec).problems("iam"):
            if not path_within(p.path, where):
                continue
            rel = (p.path or "")[len(where) :].lstrip(".")
            # accessPolicies[2].namespaces → accessPolicies.namespaces: one scope for all of them here
            generic = ".".join(part.split("[", 1)[0] for part in rel.split("."))
            best = max((f for f, path in FIELDS.items() if path_within(generic, path)), key=lambda f: len(FIELDS[f]), default="")
            if p.message not in out[best]:
                out[best].append(p.message if best else f"{rel}: {p.message}")
        return out

    def rule(self, field_id: str) -> SpecRule:
        def check(value: str) -> list[str]:
            saved = (list(self.policies), self.scope, list(self.namespaces))
            mapping = copy.deepcopy(self.mapping)
            self.apply(mapping, field_id, value)
            self.policies, self.scope, self.namespaces = saved
            return self.problems(mapping).get(field_id, [])

        return SpecRule(check)

    def refresh_problems(self) -> int:
        found = self.problems(self.mapping)
        total = 0
        for field_id in FIELDS:
            messages = found.get(field_id, [])
            total += len(messages)
            err = self.errors.get(field_id)
            if err is not None:
                err.show(messages if self.attempted or field_id in self.touched else [])
        total += len(found[""])
        box = self.query_one("#editor-problems", Static)
        box.update("\n".join(f"✗ {m}" for m in found[""]))
        box.display = bool(found[""]) and self.attempted
        return total

    def changed(self, field_id: str | None, value: Any) -> None:
        if field_id not in FIELDS:
            return
        self.apply(self.mapping, field_id, value)
        self.touched.add(field_id)
        self.refresh_problems()

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
    def _policies(self, event: SelectionList.SelectedChanged[str]) -> None:
        self.changed(event.selection_list.id, list(event.selection_list.selected))

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "save":
            self.action_save()
        else:
            self.action_cancel()

    def action_save(self) -> None:
        self.attempted = True
        if self.refresh_problems():
            self.notify("Fix the problems shown before saving this mapping.", severity="error", title="Cannot save")
            return
        self.dismiss(self.mapping)

    def action_cancel(self) -> None:
        self.dismiss(None)


__all__ = ["MappingEditor"]
