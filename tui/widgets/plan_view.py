"""The plan as a reviewer reads it: changes grouped by playbook, warnings, counts and the hash.

The lines are the CLI's (:func:`assistant.planning.plan.render_text`): the same symbols and the same
"known after apply" wording, with colour, and a heading per playbook (masters, cni, ...).
A key under the title says what each symbol means, ``!`` included: a line the planner
adds under a change (a note on what it will do, or on what it found) or among the
warnings at the end.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.widgets import Static

from assistant.planning.plan import SYMBOLS, Change, Op, format_value
from assistant.planning.planner import Planning

_STYLE = {Op.CREATE: "green", Op.UPDATE: "yellow", Op.REPLACE: "magenta", Op.DELETE: "red", Op.NOOP: "dim"}


def playbook_of(planning: Planning, change: Change) -> str:
    """The playbook a change's step comes from (``nodegroup[general]`` → ``workers``)."""
    step_id = change.step.split("[", 1)[0]
    try:
        return planning.playbook.step(step_id).playbook
    except StopIteration:
        return planning.playbook.name


def grouped(planning: Planning) -> list[tuple[str, list[Change]]]:
    """Changes by playbook, in the order the playbooks first appear in the plan."""
    groups: dict[str, list[Change]] = {}
    for change in planning.plan.changes:
        groups.setdefault(playbook_of(planning, change), []).append(change)
    return list(groups.items())


def _change_lines(change: Change, text: Text, r: Callable[[str], str]) -> None:
    style = _STYLE[change.op]
    head = f"{SYMBOLS[change.op]} {change.resource}"
    text.append(r(f"  {head}"), style=f"bold {style}")
    text.append(f"  [{change.action}, step {change.step}]", style="dim")
    if change.reason:
        text.append(r(f"  ({change.reason})"), style="italic")
    text.append("\n")
    if change.op is Op.CREATE:
        rows = [("+", k, format_value(v)) for k, v in sorted((change.after or {}).items())]
    elif change.op is Op.DELETE:
        rows = [("-", k, format_value(v)) for k, v in sorted((change.before or {}).items())]
    else:
        rows = [("~", k, f"{format_value(b)} -> {format_value(a)}") for k, b, a in change.field_diff()]
    for sym, key, value in rows:
        text.append(f"      {sym} {key}: ", style=style)
        text.append(r(f"{value}\n"))
    for note in change.notes:
        text.append(r(f"      ! {note}\n"), style="yellow")


def legend(planning: Planning) -> Text:
    """What the symbols in this plan mean: the ops it has, and ``!`` when it has notes or warnings."""
    plan = planning.plan
    ops = [op for op in (Op.CREATE, Op.UPDATE, Op.REPLACE, Op.DELETE) if any(c.op is op for c in plan.changes)]
    text = Text("Key: ", style="dim")
    for op in ops:
        text.append(SYMBOLS[op], style=f"bold {_STYLE[op]}")
        text.append(f" {op.value}  ", style="dim")
    notes = any(c.notes for c in plan.changes if c.op is not Op.NOOP)
    if notes or plan.warnings:
        text.append("!", style="bold yellow")
        meaning = [
            *(["the planner's note on the change above it"] if notes else []),
            *(["under Warnings, a warning to read before applying"] if plan.warnings else []),
        ]
        text.append(" " + "; ".join(meaning), style="dim")
    return text


def plan_text(planning: Planning, redact: Callable[[str], str] = str) -> Text:
    """The whole plan as styled text; ``redact`` masks volatile values (ids, ports) for snapshots."""
    r = redact
    plan = planning.plan
    text = Text()
    text.append(f"Plan for playbook '{plan.playbook}' in account {plan.account}, region {plan.region}\n", style="bold")
    text.append_text(legend(planning))
    text.append("\n\n")
    for playbook, changes in grouped(planning):
        changed = [c for c in changes if c.op is not Op.NOOP]
        unchanged = len(changes) - len(changed)
        summary = f"{len(changed)} change(s)" + (f", {unchanged} unchanged" if unchanged else "")
        text.append(f"── {playbook} ", style="bold reverse")
        text.append(f" {summary}\n", style="dim")
        for change in changed:
            _change_lines(change, text, r)
        for change in changes:
            if change.op is Op.NOOP:
                for note in change.notes:
                    text.append(r(f"  {change.resource}: {note}\n"), style="yellow")
        text.append("\n")
    if plan.warnings:
        text.append("! Warnings: capacity and configuration\n", style="bold yellow")
        for warning in plan.warnings:
            text.append(r(f"  ! {warning}\n"), style="yellow")
        text.append("\n")
    n = plan.counts
    if plan.has_changes:
        text.append(
            f"Plan: {n['create']} to create, {n['update']} to update, {n['replace']} to replace, "
            f"{n['delete']} to delete, {n['no-op']} unchanged.\n",
            style="bold",
        )
    else:
        text.append(f"No changes. {n['no-op']} resources are up to date.\n", style="bold")
    text.append("Plan hash: ", style="bold")
    text.append(r(plan.hash), style="bold cyan")
    return text


class PlanView(Static):
    """A read-only rendering of one plan (put it in a scrolling container)."""

    DEFAULT_CLASSES = "plan-view"

    def show(self, planning: Planning) -> None:
        self.update(plan_text(planning, getattr(self.app, "redact", str)))


__all__ = ["PlanView", "grouped", "legend", "plan_text", "playbook_of"]
