"""The IAM-mapping editor (a modal over IAM): principal, kind, username, groups, where it goes
(auto, aws-auth, access entry) and access policies with their scope, validated by the spec model.
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Select, SelectionList
from textual.widgets.selection_list import Selection

from assistant.identity.access import KNOWN_POLICIES

from ..state import split_list
from ..widgets.form import Row, TextField
from .editor import EditorScreen


def _policy_name(policy: str) -> str:
    return policy.rsplit("/", 1)[-1]


class MappingEditor(EditorScreen):
    """Edit one ``iamMappings`` entry; one scope applies to all its access policies."""

    SECTION = "iamMappings"
    PAGE = "iam"
    TITLE = "IAM mapping"
    NOUN = "mapping"
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

    def __init__(self, index: int | None, mapping: dict[str, Any] | None) -> None:
        super().__init__(index, mapping or {"arn": "", "kind": "role", "via": "auto"})
        # The policies, scope and namespaces are edited apart and written as one accessPolicies list.
        policies = self.entry.get("accessPolicies") or []
        self.policies = [_policy_name(str(p.get("policy", ""))) for p in policies]
        self.scope = str(policies[0].get("scope", "cluster")) if policies else "cluster"
        self.namespaces: list[str] = list(policies[0].get("namespaces") or []) if policies else []

    def compose_fields(self) -> ComposeResult:
        m = self.entry
        kind, via = str(m.get("kind", "role")), str(m.get("via", "auto"))
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

    def apply(self, mapping: dict[str, Any], field_id: str, value: Any) -> list[str]:
        """Write a field into ``mapping`` (every value parses: there is never a part to return)."""
        policies, scope, namespaces = list(self.policies), self.scope, list(self.namespaces)
        if field_id == "m-arn":
            mapping["arn"] = value.strip()
        elif field_id in ("m-kind", "m-via"):
            mapping[self.FIELDS[field_id]] = value
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
            grant: dict[str, Any] = {"scope": scope}
            if namespaces:
                grant["namespaces"] = namespaces
            mapping["accessPolicies"] = [{"policy": p, **grant} for p in policies]
        else:
            mapping.pop("accessPolicies", None)
        if mapping is self.entry:
            self.policies, self.scope, self.namespaces = policies, scope, namespaces
        return []

    def match_path(self, rel: str) -> str:
        # accessPolicies[2].namespaces → accessPolicies.namespaces: one scope for all of them here
        return ".".join(part.split("[", 1)[0] for part in rel.split("."))

    def add_problem(self, messages: list[str], field_id: str, rel: str, message: str) -> None:
        # Every access policy repeats the scope's problems: list each once.
        if message not in messages:
            messages.append(message if field_id else f"{rel}: {message}")


__all__ = ["MappingEditor"]
