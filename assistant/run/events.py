"""Progress events: what the runner reports, and what the CLI, TUI and Slack bot render."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Event:
    """One thing that happened in a run.

    ``kind`` is one of: run_started, step_started, step_progress, step_done, step_failed,
    step_skipped, run_done, run_failed.
    """

    kind: str
    run_id: str
    step: str = ""
    message: str = ""
    elapsed: float = 0.0
    fraction: float | None = None
    op: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    ts: float = field(default_factory=time.time)


EventSink = Callable[[Event], None]


def discard(_: Event) -> None:
    """An event sink that ignores everything."""
