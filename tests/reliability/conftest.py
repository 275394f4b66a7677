"""Shared fixtures of the reliability drills: a sandbox on the drills' fake credentials, an engine on it.

Helpers here are small on purpose; what the drills check the world against lives in ``world.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.clients.aws import AwsContext
from assistant.engine import Engine
from assistant.run.events import Event
from assistant.run.runner import RunOptions
from assistant.sandbox import Sandbox
from assistant.sandbox.link import SandboxLink
from assistant.spec import LoadedSpec
from assistant.store import Store, open_store

from ..secrets_scan import AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, Finding, files_scanned, scan_texts, scan_tree

REGION = "us-east-1"


@pytest.fixture
def drill_sandbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    """A fast sandbox (time scale 0.1) reached with the drills' fake keys through the AWS_* environment."""
    with Sandbox(latency="fast", time_scale=0.1, credentials=(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)) as sb:
        for key, value in sb.env().items():
            monkeypatch.setenv(key, value)
        yield sb


class EventLog:
    """An engine sink that keeps every event's text, for the secrets scan."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, event: Event) -> None:
        # list.append is atomic: several engines may share one log.
        self.lines.append(f"{event.kind} {event.step} {event.message} {event.data}")

    def text(self) -> str:
        return "\n".join(self.lines)


def drill_engine(sink: EventLog | None = None, store: Store | None = None, region: str = REGION) -> Engine:
    """An engine on the sandbox in the environment, polling fast (the sandbox runs at 0.1 time scale).

    Each engine has its own AWS session (sessions are not thread-safe); a store can be shared.
    """
    options = RunOptions(poll_min=0.05, poll_max=0.1)
    return Engine(
        AwsContext(region=region, sandbox=SandboxLink()), store or open_store(), sink=sink or EventLog(), options=options
    )


def plan_and_apply(engine: Engine, loaded: LoadedSpec, playbook: str = "cluster") -> tuple[str, dict[str, Any]]:
    """Plan, approve that exact plan, and apply it (as ``apply --approve <hash>`` does)."""
    kind = "destroy" if playbook == "teardown" else "apply"
    plan = engine.plan(loaded, playbook, preflight=kind == "apply").plan
    return engine.apply(loaded, plan.hash, "drill", "flag", playbook=playbook, kind=kind)


def secrets_in(roots: list[Path], texts: dict[str, str]) -> tuple[list[Finding], int]:
    """Findings of the fake credentials in files under ``roots`` and in ``texts``; and how many files were read."""
    return scan_tree(*roots) + scan_texts(texts), files_scanned(*roots)
