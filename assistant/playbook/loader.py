"""Find, parse and check playbooks: schema, includes, actions, references and cycles.

Every problem is reported as ``file:line:col: path: message``, and all of them at once.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Callable
from pathlib import Path

from pydantic import ValidationError

from assistant.playbook import templating
from assistant.spec.problems import problems_from, unknown_field_message
from assistant.spec.source import Locator, load_file

from ..actions import registry
from ..errors import InputError, Problem
from .model import Playbook, PlaybookSchema, Step

ROOT_NAMES = {"spec", "steps", "tags", "names"}


def playbooks_dir() -> Path:
    """Built-in playbooks: packaged in the wheel, or ``playbooks/`` in a checkout."""
    here = Path(__file__).resolve().parent.parent
    packaged = here / "_playbooks"
    if packaged.is_dir():
        return packaged
    checkout = here.parent / "playbooks"
    if checkout.is_dir():
        return checkout
    raise InputError("cannot find the built-in playbooks (neither assistant/_playbooks nor ./playbooks)")


def available() -> list[str]:
    """Names of the built-in playbooks."""
    return sorted(p.stem for p in playbooks_dir().glob("*.yaml"))


def resolve(name_or_path: str) -> Path:
    """A playbook name ("masters") or a path to a YAML file."""
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml") and (p.exists() or "/" in name_or_path):
        return p
    builtin = playbooks_dir() / f"{name_or_path.removesuffix('.yaml')}.yaml"
    if builtin.exists():
        return builtin
    names = available()
    close = difflib.get_close_matches(name_or_path, names, n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    raise InputError(f"unknown playbook '{name_or_path}'{hint} Built-in playbooks: {', '.join(names)}")


def _parse(
    path: Path, seen: tuple[Path, ...], problems: list[Problem]
) -> tuple[list[Step], PlaybookSchema | None, list[str], Locator]:
    data, loc = load_file(path)
    if not isinstance(data, dict):
        raise InputError(Problem(f"playbook must be a mapping (name, steps, ...), got {type(data).__name__}", str(path), 1, 1))
    try:
        schema = PlaybookSchema.model_validate(data)
    except ValidationError as exc:
        problems.extend(problems_from(exc, loc, PlaybookSchema))
        return [], None, [], loc
    steps: list[Step] = []
    sources = [path.read_text(encoding="utf-8")]
    for i, inc in enumerate(schema.include):
        inc_path = (path.parent / inc).resolve()
        if inc_path in seen or inc_path == path.resolve():
            problems.append(loc.problem(("include", i), f"include cycle: {inc} is already being loaded"))
            continue
        if not inc_path.exists():
            problems.append(loc.problem(("include", i), f"included playbook {inc} not found next to {path.name}"))
            continue
        sub_steps, _, sub_sources, _ = _parse(inc_path, (*seen, path.resolve()), problems)
        steps.extend(sub_steps)
        sources.extend(sub_sources)
    for i, st in enumerate(schema.steps):
        steps.append(Step(st, loc, ("steps", i), schema.name))
    return steps, schema, sources, loc


def _check_templates(step: Step, value: object, sub: tuple[str | int, ...], ids: set[str], problems: list[Problem]) -> None:
    allowed = ROOT_NAMES | ({step.schema.as_} if step.schema.foreach else set())
    _check_value(step.problem, allowed, value, sub, ids, problems)


def _check_value(
    at: Callable[[tuple[str | int, ...], str], Problem],
    allowed: set[str],
    value: object,
    sub: tuple[str | int, ...],
    ids: set[str],
    problems: list[Problem],
) -> None:
    """Every template in ``value`` must be a plain lookup from ``allowed`` roots (``at`` locates a problem)."""
    if isinstance(value, dict):
        for k, v in value.items():
            _check_value(at, allowed, v, (*sub, k), ids, problems)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _check_value(at, allowed, v, (*sub, i), ids, problems)
    elif isinstance(value, str) and "{{" in value:
        import re

        for m in re.finditer(r"\{\{(.*?)\}\}", value, re.S):
            alternatives = m.group(1).split("||")
            for n, alt in enumerate(alternatives):
                if alt.strip() in templating.LITERALS:
                    continue
                try:
                    parts = templating.parse_lookup(alt)
                except templating.TemplateError as exc:
                    problems.append(at(sub, exc.message))
                    continue
                root = parts[0]
                if root not in allowed:
                    close = difflib.get_close_matches(str(root), sorted(allowed), n=1)
                    hint = f"; did you mean '{close[0]}'?" if close else f"; known: {', '.join(sorted(allowed))}"
                    problems.append(at(sub, f"undefined template variable '{alt.strip()}'{hint}"))
                elif root == "steps" and (len(parts) < 2 or parts[1] not in ids):
                    ref = parts[1] if len(parts) > 1 else ""
                    close = difflib.get_close_matches(str(ref), sorted(ids), n=1)
                    # A step of another playbook, with a fallback after it, is how a playbook
                    # runs both alone and included (iam-mappings uses the workers' node role):
                    # undefined alone, so the fallback wins. A near miss is still a typo.
                    if n < len(alternatives) - 1 and len(parts) > 2 and not close:
                        continue
                    hint = f"; did you mean '{close[0]}'?" if close else ""
                    problems.append(at(sub, f"template refers to unknown step '{ref}'{hint}"))
        if value.count("{{") != value.count("}}"):
            problems.append(at(sub, "unbalanced '{{' / '}}' in template"))


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n: str) -> list[str] | None:
        state[n] = 1
        stack.append(n)
        for m in sorted(graph.get(n, ())):
            if state.get(m) == 1:
                return [*stack[stack.index(m) :], m]
            if state.get(m) is None:
                found = visit(m)
                if found:
                    return found
        stack.pop()
        state[n] = 2
        return None

    for n in graph:
        if state.get(n) is None:
            found = visit(n)
            if found:
                return found
    return None


def load_playbook(name_or_path: str) -> Playbook:
    """Load and fully check a playbook; raise InputError listing every problem."""
    path = resolve(name_or_path)
    problems: list[Problem] = []
    steps, schema, sources, loc = _parse(path, (), problems)
    if schema is None:
        raise InputError(problems)
    ids: set[str] = set()
    for st in steps:
        if st.id in ids:
            problems.append(st.problem(("id",), f"duplicate step id '{st.id}'"))
        ids.add(st.id)
    for st in steps:
        try:
            action = registry.get(st.action)
        except KeyError as exc:
            problems.append(st.problem(("action",), str(exc.args[0])))
            continue
        fields = {(f.alias or n) for n, f in action.Args.model_fields.items()}
        for k in st.schema.with_:
            if k not in fields:
                problems.append(
                    st.problem(("with", k), f"action {st.action}: " + unknown_field_message(k, sorted(fields)), key=True)
                )
        for kind in ("needs", "after"):
            for j, dep in enumerate(getattr(st.schema, kind)):
                if dep not in ids and kind == "needs":
                    close = difflib.get_close_matches(dep, sorted(ids), n=1)
                    hint = f"; did you mean '{close[0]}'?" if close else ""
                    problems.append(st.problem((kind, j), f"needs unknown step '{dep}'{hint}"))
                if dep == st.id:
                    problems.append(st.problem((kind, j), f"step '{st.id}' cannot depend on itself"))
        _check_templates(st, st.schema.with_, ("with",), ids, problems)
        if st.schema.when is not None:
            _check_templates(st, st.schema.when, ("when",), ids, problems)
        if st.schema.foreach is not None:
            _check_templates(st, st.schema.foreach, ("foreach",), ids, problems)
            if "{{" not in st.schema.foreach:
                problems.append(
                    st.problem(("foreach",), "foreach must be a template that yields a list, e.g. '{{ spec.workers }}'")
                )
        if st.schema.key is not None:
            _check_templates(st, st.schema.key, ("key",), ids, problems)
    # Outputs are rendered after the run like step arguments, so they are held to the same rules
    # at load: before, '{{ steps.x.__class__ }}' there passed every check and became null at the end.
    _check_value(lambda sub, message: loc.problem(sub, message), ROOT_NAMES, schema.outputs, ("outputs",), ids, problems)
    pb = Playbook(
        name=schema.name,
        description=schema.description,
        file=str(path),
        steps=steps,
        outputs=schema.outputs,
        digest=hashlib.sha256("\0".join(sources).encode()).hexdigest(),
        sources=sources,
    )
    if not problems:
        graph = {s.id: pb.ordering(s) for s in steps}
        cycle = _find_cycle(graph)
        if cycle:
            first = pb.step(cycle[0])
            problems.append(first.problem(("needs",), f"cycle in needs: {' -> '.join(cycle)}"))
    if problems:
        raise InputError(problems)
    return pb
