"""Planning: expand a playbook against a spec into step instances, read each resource and
ask its action what would change. Read-only by construction (the guard enforces it).

Step expansion rules:

- ``foreach: "{{ spec.workers }}"`` makes one instance per item, with id ``step[key]``
  (``key`` defaults to the item's ``name``, else its index); the item is bound to ``as``
  (default ``item``).
- ``when`` is evaluated per instance; a false/empty value drops the instance, and later
  references to it are undefined (so ``a || b`` falls back to ``b``).
- A foreach step that references another foreach step *over the same list* sees the
  instance for the same item ("paired" instances), and depends on that instance only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from assistant.actions import registry
from assistant.actions.base import Action, ActionContext, Planned
from assistant.clients.local_sandbox import LocalSandbox
from assistant.clients.reads import caching_reads
from assistant.errors import InputError, Problem
from assistant.planning.plan import Change, Op, Plan, Unknown
from assistant.playbook import templating
from assistant.playbook.model import Playbook, Step
from assistant.spec.problems import problems_from


@dataclass
class Instance:
    """One concrete step: a playbook step, possibly bound to one foreach item."""

    id: str
    step: Step
    key: str | None = None
    item: Any = None
    deps: list[str] = field(default_factory=list)
    # Why this step does not run on this host (it writes a local file and the front end said
    # not to); empty when it runs. Planned as a no-op saying so; the runner skips it.
    not_here: str = ""

    @property
    def action_name(self) -> str:
        return self.step.action


@dataclass
class Planning:
    """A plan plus what the runner needs to apply it."""

    plan: Plan
    playbook: Playbook
    instances: list[Instance]
    base_context: dict[str, Any]


def base_context(spec_canonical: dict[str, Any]) -> dict[str, Any]:
    """The template variables every step sees: ``spec``, ``tags`` and ``names`` (of global resources)."""
    from assistant.tags import global_names

    meta = spec_canonical.get("metadata", {})
    names = global_names(str(meta.get("name", "")), str(meta.get("region", "")))
    return {"spec": spec_canonical, "tags": dict(meta.get("tags") or {}), "names": names}


def _truthy(value: Any) -> bool:
    if isinstance(value, Unknown):
        return True
    return bool(value)


def _render(step: Step, sub: tuple[str | int, ...], value: Any, ctx: dict[str, Any]) -> Any:
    try:
        return templating.render(value, ctx)
    except templating.TemplateError as exc:
        raise InputError(step.problem(sub, exc.message)) from None


def expand(pb: Playbook, ctx: dict[str, Any]) -> list[Instance]:
    """Expand foreach/when into instances and wire their dependencies; topologically sorted."""
    by_step: dict[str, list[Instance]] = {}
    foreach_expr: dict[str, str] = {}
    instances: list[Instance] = []
    for step in pb.steps:
        s = step.schema
        made: list[Instance] = []
        if s.foreach:
            items = _render(step, ("foreach",), s.foreach, ctx)
            if items is None:
                items = []
            if not isinstance(items, list):
                raise InputError(step.problem(("foreach",), f"foreach must yield a list, got {type(items).__name__}"))
            foreach_expr[step.id] = s.foreach.strip()
            seen: set[str] = set()
            for i, item in enumerate(items):
                ictx = {**ctx, s.as_: item}
                if s.key:
                    key = str(_render(step, ("key",), s.key, ictx))
                elif isinstance(item, dict) and isinstance(item.get("name"), str):
                    key = item["name"]
                else:
                    key = str(i)
                if key in seen:
                    raise InputError(step.problem(("foreach",), f"foreach items give duplicate key '{key}'"))
                seen.add(key)
                if s.when is not None and not _truthy(_render(step, ("when",), s.when, ictx)):
                    continue
                made.append(Instance(f"{step.id}[{key}]", step, key, item))
        else:
            if s.when is not None and not _truthy(_render(step, ("when",), s.when, ctx)):
                by_step[step.id] = []
                continue
            made.append(Instance(step.id, step))
        by_step[step.id] = made
        instances.extend(made)
    for inst in instances:
        deps: list[str] = []
        for dep_id in sorted(pb.ordering(inst.step)):
            targets = by_step.get(dep_id, [])
            paired = (
                inst.key is not None
                and foreach_expr.get(dep_id) is not None
                and foreach_expr.get(dep_id) == foreach_expr.get(inst.step.id)
            )
            if paired:
                targets = [t for t in targets if t.key == inst.key]
            deps.extend(t.id for t in targets)
        inst.deps = deps
    return _toposort(instances)


def _toposort(instances: list[Instance]) -> list[Instance]:
    by_id = {i.id: i for i in instances}
    done: set[str] = set()
    out: list[Instance] = []
    pending = list(instances)
    while pending:
        progressed = False
        for inst in list(pending):
            if all(d in done for d in inst.deps):
                out.append(inst)
                done.add(inst.id)
                pending.remove(inst)
                progressed = True
        if not progressed:  # the loader rejects cycles; this is a safety net
            raise InputError(f"cycle among steps: {', '.join(i.id for i in pending)}")
    assert len(out) == len(by_id)
    return out


def waves(instances: list[Instance]) -> list[list[str]]:
    """Group instances into waves that can run concurrently (for display)."""
    level: dict[str, int] = {}
    for inst in instances:
        level[inst.id] = 1 + max((level[d] for d in inst.deps), default=-1)
    out: list[list[str]] = []
    for inst in instances:
        while len(out) <= level[inst.id]:
            out.append([])
        out[level[inst.id]].append(inst.id)
    return out


def step_context(
    inst: Instance, instances: list[Instance], outputs: dict[str, dict[str, Any]], base: dict[str, Any]
) -> dict[str, Any]:
    """Template variables for one instance: base + ``steps`` outputs (+ its foreach item)."""
    steps: dict[str, Any] = {}
    for other in instances:
        if other.id not in outputs:
            continue
        sid = other.step.id
        if other.key is None or (
            inst.key is not None and other.key == inst.key and other.step.schema.foreach == inst.step.schema.foreach
        ):
            steps[sid] = outputs[other.id]
        else:
            bucket = steps.setdefault(sid, {})
            if isinstance(bucket, dict):
                bucket[other.key] = outputs[other.id]
    ctx = {**base, "steps": steps}
    if inst.key is not None:
        ctx[inst.step.schema.as_] = inst.item
    return ctx


def render_args(inst: Instance, action: type[Action], ctx: dict[str, Any]) -> Any:
    """Render and validate an instance's arguments, locating problems in the playbook."""
    # Render key by key so that a template error points at its own argument.
    raw = {k: _render(inst.step, ("with", k), v, ctx) for k, v in inst.step.schema.with_.items()}
    try:
        return action.Args.model_validate(raw)
    except ValidationError as exc:
        problems = problems_from(exc, inst.step.locator, action.Args, (*inst.step.path, "with"))
        prefixed = [Problem(f"step {inst.id} ({inst.action_name}): {p.message}", p.file, p.line, p.col, p.path) for p in problems]
        raise InputError(prefixed) from None


def plan_instance(inst: Instance, ctx: dict[str, Any], actx: ActionContext) -> tuple[Any, dict[str, Any] | None, Planned]:
    """Render args, read current state and plan one instance."""
    action = registry.get(inst.action_name)()
    args = render_args(inst, type(action), ctx)
    current = action.read(args, actx)
    planned = action.plan(args, current, actx)
    return args, current, planned


def build_plan(
    pb: Playbook,
    spec_canonical: dict[str, Any],
    client: Callable[[str], Any],
    account: str,
    region: str,
    warnings: list[str] | None = None,
    session: Any = None,
    no_local_files: str = "",
    sandbox: LocalSandbox | None = None,
) -> Planning:
    """Plan a playbook against a spec. Makes read-only calls only.

    ``no_local_files`` (a reason) plans every step whose action writes a file on this host as a
    no-op that says why, and marks it for the runner to skip.
    """
    base = base_context(spec_canonical)
    instances = expand(pb, base)
    outputs: dict[str, dict[str, Any]] = {}
    changes: list[Change] = []
    # Steps ask AWS the same questions (every node group describes the cluster): once per plan.
    with caching_reads():
        for inst in instances:
            if no_local_files and registry.get(inst.action_name).writes_local_file:
                inst.not_here = no_local_files
                outputs[inst.id] = {}
                changes.append(Change(inst.id, inst.action_name, Op.NOOP, "not applicable here", notes=[no_local_files]))
                continue
            ctx = step_context(inst, instances, outputs, base)
            actx = ActionContext(client=client, account=account, region=region, step=inst.id, session=session, sandbox=sandbox)
            _, _, planned = plan_instance(inst, ctx, actx)
            outputs[inst.id] = planned.outputs
            changes.append(
                Change(
                    step=inst.id,
                    action=inst.action_name,
                    op=planned.op,
                    resource=planned.resource,
                    before=planned.before,
                    after=planned.after,
                    reason=planned.reason,
                    notes=list(planned.notes),
                )
            )
    warnings = list(warnings or [])
    for c in changes:
        if c.op is Op.REPLACE:
            warnings.append(
                f"{c.resource} needs replacement ({c.reason}); apply will refuse this step: "
                "revert the change, or destroy and recreate the resource"
            )
    plan = Plan(
        playbook=pb.name,
        playbook_digest=pb.digest,
        account=account,
        region=region,
        inputs=spec_canonical,
        changes=changes,
        warnings=warnings,
        order=waves(instances),
    )
    return Planning(plan=plan, playbook=pb, instances=instances, base_context=base)
