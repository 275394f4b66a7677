"""The playbook schema (pydantic) and the loaded, checked :class:`Playbook`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from assistant.errors import Problem
from assistant.spec.source import Locator, PathT

STEP_ID = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


class StepSchema(BaseModel):
    """One step as written in YAML."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    id: str
    action: str
    description: str = ""
    with_: dict[str, Any] = Field(default_factory=dict, alias="with")
    needs: list[str] = Field(default_factory=list)
    after: list[str] = Field(default_factory=list)
    when: Any = None
    foreach: str | None = None
    as_: str = Field(default="item", alias="as")
    key: str | None = None

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not STEP_ID.match(v):
            raise ValueError(f"step id {v!r} must be lowercase letters, digits and '_', starting with a letter (max 63)")
        return v

    @field_validator("as_")
    @classmethod
    def _as(cls, v: str) -> str:
        if v in ("spec", "steps", "tags", "names") or not re.match(r"^[a-z][a-z0-9_]*$", v):
            raise ValueError(f"'as' must be a lowercase name other than spec/steps/tags/names, got {v!r}")
        return v


class PlaybookSchema(BaseModel):
    """A playbook file as written in YAML."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str
    description: str = ""
    include: list[str] = Field(default_factory=list)
    steps: list[StepSchema] = Field(default_factory=list)
    outputs: dict[str, Any] = Field(default_factory=dict)


@dataclass
class Step:
    """A checked step, with the file and path it came from for error messages."""

    schema: StepSchema
    locator: Locator
    path: PathT
    playbook: str

    @property
    def id(self) -> str:
        return self.schema.id

    @property
    def action(self) -> str:
        return self.schema.action

    def problem(self, sub: PathT, message: str, *, key: bool = False) -> Problem:
        return self.locator.problem((*self.path, *sub), message, key=key)


@dataclass
class Playbook:
    """A loaded playbook with its includes flattened; steps in file order."""

    name: str
    description: str
    file: str
    steps: list[Step]
    outputs: dict[str, Any]
    digest: str
    sources: list[str] = field(default_factory=list)

    def step(self, step_id: str) -> Step:
        return next(s for s in self.steps if s.id == step_id)

    def dependencies(self, step: Step) -> set[str]:
        """Hard dependencies: ``needs`` plus every step referenced through ``steps.<id>``."""
        from assistant.playbook.templating import references

        deps = set(step.schema.needs)
        deps |= references(step.schema.with_)
        if isinstance(step.schema.when, str):
            deps |= references(step.schema.when)
        if step.schema.foreach:
            deps |= references(step.schema.foreach)
        ids = {s.id for s in self.steps}
        return {d for d in deps if d in ids}

    def ordering(self, step: Step) -> set[str]:
        """Hard dependencies plus soft ``after`` ones that exist in this playbook."""
        ids = {s.id for s in self.steps}
        return self.dependencies(step) | {a for a in step.schema.after if a in ids}
