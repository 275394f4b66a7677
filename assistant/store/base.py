"""The store protocol and its records; backends implement :class:`Store`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass
class StepRecord:
    """The journal entry of one step in one run."""

    run_id: str
    step: str
    status: str  # pending | applying | waiting | done | failed | skipped
    op: str = ""
    started_at: float | None = None
    finished_at: float | None = None
    outputs: dict[str, Any] = field(default_factory=dict)
    error: str = ""


@dataclass
class RunRecord:
    """One apply or destroy run: what was approved and how far it got."""

    id: str
    kind: str  # apply | destroy
    status: str  # applying | succeeded | failed | interrupted | refused
    playbook: str
    spec_file: str
    spec_source: str
    plan: dict[str, Any]
    plan_hash: str
    account: str
    region: str
    profile: str | None
    created_at: float
    updated_at: float
    pid: int | None = None
    error: str = ""
    outputs: dict[str, Any] = field(default_factory=dict)
    approver: str = ""


class Store(Protocol):
    """What the engine needs from persistence. All methods are safe across threads."""

    def create_run(self, run: RunRecord) -> None: ...
    def update_run(self, run_id: str, **fields: Any) -> None: ...
    def get_run(self, run_id: str) -> RunRecord | None: ...
    def find_runs(self, prefix: str) -> list[RunRecord]: ...
    def list_runs(self, limit: int = 50) -> list[RunRecord]: ...
    def record_step(self, rec: StepRecord) -> None: ...
    def steps(self, run_id: str) -> list[StepRecord]: ...
    def add_event(self, run_id: str, kind: str, step: str, message: str, data: dict[str, Any] | None = None) -> None: ...
    def events(self, run_id: str) -> list[dict[str, Any]]: ...
    def record_approval(self, plan_hash: str, run_id: str, approver: str, method: str) -> None: ...
    def audit(self, event: str, run_id: str, actor: str, plan_hash: str, data: dict[str, Any] | None = None) -> None: ...
    def audit_log(self, limit: int = 200) -> list[dict[str, Any]]: ...
    def close(self) -> None: ...
