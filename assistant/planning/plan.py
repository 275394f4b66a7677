"""Typed changes and plans, their canonical form and stable hash, and text/JSON rendering.

A :class:`Plan` is what a reviewer approves. Its :attr:`Plan.hash` is a SHA-256 over the
canonical JSON of everything that decides what apply would do: the changes (with before
and after values), the inputs (the canonical spec), the playbook digest, the account and
the region. Anything volatile (timestamps, resource status) is kept out of it, so the same
world and the same input always give the same hash.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Unknown:
    """A value that exists only after apply ("known after apply"), e.g. a new role's ARN."""

    __slots__ = ("ref",)

    def __init__(self, ref: str) -> None:
        self.ref = ref

    def __repr__(self) -> str:
        return f"Unknown({self.ref!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Unknown) and other.ref == self.ref

    def __hash__(self) -> int:
        return hash(("Unknown", self.ref))


def is_unknown(value: Any) -> bool:
    """True if ``value`` is, or contains, a value known only after apply."""
    if isinstance(value, Unknown):
        return True
    if isinstance(value, dict):
        return any(is_unknown(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(is_unknown(v) for v in value)
    return False


def to_jsonable(value: Any) -> Any:
    """Plain JSON data; unknowns become ``{"$unknown": ref}``."""
    if isinstance(value, Unknown):
        return {"$unknown": value.ref}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    return value


def from_jsonable(value: Any) -> Any:
    """Inverse of :func:`to_jsonable`."""
    if isinstance(value, dict):
        if set(value) == {"$unknown"}:
            return Unknown(value["$unknown"])
        return {k: from_jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_jsonable(v) for v in value]
    return value


def canonical_json(value: Any) -> str:
    """Deterministic JSON: sorted keys, no whitespace, unknowns spelled out."""
    return json.dumps(to_jsonable(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class Op(StrEnum):
    """What apply would do to one resource."""

    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"
    NOOP = "no-op"


SYMBOLS = {Op.CREATE: "+", Op.UPDATE: "~", Op.REPLACE: "-/+", Op.DELETE: "-", Op.NOOP: " "}


@dataclass
class Change:
    """The planned change for one step: which resource, what op, and the before/after values."""

    step: str
    action: str
    op: Op
    resource: str
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    reason: str = ""
    notes: list[str] = field(default_factory=list)

    def canonical(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "action": self.action,
            "op": self.op.value,
            "resource": self.resource,
            "before": to_jsonable(self.before),
            "after": to_jsonable(self.after),
            "reason": self.reason,
            "notes": list(self.notes),
        }

    @classmethod
    def from_canonical(cls, data: dict[str, Any]) -> Change:
        return cls(
            step=data["step"],
            action=data["action"],
            op=Op(data["op"]),
            resource=data["resource"],
            before=from_jsonable(data.get("before")),
            after=from_jsonable(data.get("after")),
            reason=data.get("reason", ""),
            notes=list(data.get("notes", [])),
        )

    def field_diff(self) -> list[tuple[str, Any, Any]]:
        """(field, before, after) for every top-level field that differs."""
        before = self.before or {}
        after = self.after or {}
        keys = sorted(set(before) | set(after))
        return [(k, before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)]


@dataclass
class Plan:
    """Everything apply would do, bound to its inputs; approvals bind to :attr:`hash`."""

    playbook: str
    playbook_digest: str
    account: str
    region: str
    inputs: dict[str, Any]
    changes: list[Change]
    warnings: list[str] = field(default_factory=list)
    order: list[list[str]] = field(default_factory=list)  # apply waves, for display only
    # What the checks looked at (quota usage and where each quota's value came from), for
    # display only: counts in the account move for reasons no approval is about.
    info: list[str] = field(default_factory=list)

    def canonical(self) -> dict[str, Any]:
        return {
            "format": "eks-assist/plan/v1",
            "playbook": self.playbook,
            "playbookDigest": self.playbook_digest,
            "account": self.account,
            "region": self.region,
            "inputs": self.inputs,
            "changes": [c.canonical() for c in self.changes],
            "warnings": list(self.warnings),
        }

    @property
    def hash(self) -> str:
        return hashlib.sha256(canonical_json(self.canonical()).encode()).hexdigest()

    @classmethod
    def from_canonical(cls, data: dict[str, Any]) -> Plan:
        return cls(
            playbook=data["playbook"],
            playbook_digest=data["playbookDigest"],
            account=data["account"],
            region=data["region"],
            inputs=data["inputs"],
            changes=[Change.from_canonical(c) for c in data["changes"]],
            warnings=list(data.get("warnings", [])),
        )

    def change(self, step: str) -> Change | None:
        return next((c for c in self.changes if c.step == step), None)

    @property
    def counts(self) -> dict[str, int]:
        out = {op.value: 0 for op in Op}
        for c in self.changes:
            out[c.op.value] += 1
        return out

    @property
    def has_changes(self) -> bool:
        return any(c.op is not Op.NOOP for c in self.changes)

    def to_json(self) -> dict[str, Any]:
        data = self.canonical()
        data["hash"] = self.hash
        data["summary"] = self.counts
        data["order"] = self.order
        data["info"] = self.info
        return data


def _mask_unknown(value: Any) -> Any:
    if isinstance(value, Unknown):
        return "\u0000(known after apply)"
    if isinstance(value, dict):
        return {k: _mask_unknown(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_mask_unknown(v) for v in value]
    return value


def format_value(value: Any) -> str:
    """One value as a plan shows it: JSON-like, with unknowns as "(known after apply)"."""
    if isinstance(value, Unknown):
        return "(known after apply)"
    if value is None:
        return "null"
    if is_unknown(value):
        # json.dumps escapes the NUL marker as \u0000, so match the escaped form.
        return json.dumps(_mask_unknown(value), sort_keys=True).replace('"\\u0000(known after apply)"', "(known after apply)")
    if isinstance(value, str):
        return json.dumps(value)
    return json.dumps(value, sort_keys=True)


def render_text(plan: Plan, *, show_noop: bool = False) -> str:
    """A reviewer-friendly diff: one block per changed resource, then a summary and the hash."""
    lines = [f"Plan for playbook '{plan.playbook}' in account {plan.account}, region {plan.region}", ""]
    for c in plan.changes:
        if c.op is Op.NOOP and not show_noop:
            continue
        sym = SYMBOLS[c.op]
        head = f"{sym} {c.resource}  [{c.action}, step {c.step}]"
        if c.reason:
            head += f"  ({c.reason})"
        lines.append(head)
        if c.op is Op.CREATE:
            for k, v in sorted((c.after or {}).items()):
                lines.append(f"      + {k}: {format_value(v)}")
        elif c.op is Op.DELETE:
            for k, v in sorted((c.before or {}).items()):
                lines.append(f"      - {k}: {format_value(v)}")
        elif c.op in (Op.UPDATE, Op.REPLACE):
            for k, b, a in c.field_diff():
                lines.append(f"      ~ {k}: {format_value(b)} -> {format_value(a)}")
        for note in c.notes:
            lines.append(f"      ! {note}")
        lines.append("")
    noted = [c for c in plan.changes if c.op is Op.NOOP and c.notes and not show_noop]
    for c in noted:
        for note in c.notes:
            lines.append(f"  {c.resource}: {note}")
    if noted:
        lines.append("")
    if plan.warnings:
        lines.append("Warnings:")
        lines.extend(f"  ! {w}" for w in plan.warnings)
        lines.append("")
    if plan.info:
        lines.append("Checked (not part of the plan hash):")
        lines.extend(f"  {i}" for i in plan.info)
        lines.append("")
    n = plan.counts
    if plan.has_changes:
        lines.append(
            f"Plan: {n['create']} to create, {n['update']} to update, {n['replace']} to replace, "
            f"{n['delete']} to delete, {n['no-op']} unchanged."
        )
    else:
        lines.append(f"No changes. {n['no-op']} resources are up to date.")
    lines.append(f"Plan hash: {plan.hash}")
    return "\n".join(lines)
