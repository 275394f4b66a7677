"""One exceptions module for the engine.

Hierarchy::

    EksAssistError                  base; ``exit_code`` is what the CLI exits with
    ├── InputError (2)              bad spec, playbook, template or CLI argument; carries Problems
    │   └── SpecFieldError (2)      found while planning, about one spec field (the engine locates it)
    ├── ApprovalError (3)           no approval, wrong hash, or the plan changed since approval
    ├── GuardViolation (3)          a mutating AWS call outside an approved apply
    ├── RunFailed (1)               an apply step failed; the run is journaled and resumable
    ├── SandboxError (1)            the local sandbox could not start or be reached
    └── StoreError (1)              the state store or state directory cannot be used (which file, why, what to do)
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, located as precisely as we can."""

    message: str
    file: str | None = None
    line: int | None = None  # 1-based
    col: int | None = None  # 1-based
    path: str | None = None  # dotted field path, e.g. "workers.nodeGroups[0].scaling"

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = self.file
            if self.line is not None:
                where += f":{self.line}"
                if self.col is not None:
                    where += f":{self.col}"
            where += ": "
        field = f"{self.path}: " if self.path else ""
        return f"{where}{field}{self.message}"


class EksAssistError(Exception):
    """Base of every error the engine raises on purpose."""

    exit_code = 1


class InputError(EksAssistError):
    """Input that is wrong; nothing was changed. Carries one or more located problems."""

    exit_code = 2

    def __init__(self, problems: list[Problem] | Problem | str) -> None:
        if isinstance(problems, str):
            problems = [Problem(problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class SpecFieldError(InputError):
    """A problem an action finds while planning that one spec field caused (e.g. ``metadata.name``).

    Actions see rendered arguments, not the spec file; the engine turns ``spec_path`` into
    ``file:line:col`` with the spec's locator before the user sees it.
    """

    def __init__(self, spec_path: tuple[str | int, ...], message: str) -> None:
        self.spec_path = spec_path
        self.message = message
        super().__init__(Problem(message, path=".".join(str(p) for p in spec_path)))


class ApprovalError(EksAssistError):
    """Apply refused: not approved, approved for a different plan, or expired."""

    exit_code = 3


class PlanChangedError(ApprovalError):
    """The fresh plan's hash differs from the approved one: the world or the input drifted."""

    def __init__(self, approved: str, fresh: str, detail: str = "") -> None:
        self.approved = approved
        self.fresh = fresh
        msg = (
            f"plan changed since approval: approved {approved[:16]}, fresh plan is {fresh[:16]}; "
            "nothing was changed. Review the new plan and approve its hash."
        )
        if detail:
            msg += f"\n{detail}"
        super().__init__(msg)


class GuardViolation(EksAssistError):
    """A mutating AWS call was attempted outside an approved apply."""

    exit_code = 3


class RunFailed(EksAssistError):
    """An apply did not converge. The journal holds what was done; ``resume`` continues it."""

    exit_code = 1

    def __init__(self, message: str, run_id: str | None = None) -> None:
        self.run_id = run_id
        super().__init__(message)


class SandboxError(EksAssistError):
    """The local sandbox could not be started or reached."""

    exit_code = 1


class StoreError(EksAssistError):
    """The state store or the state directory cannot be used: corrupt, locked, not a database, no permission.

    The message names the file, says what is wrong and what to do; nothing was deleted or rewritten.
    """

    exit_code = 1
