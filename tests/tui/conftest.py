"""Wizard test fixtures: an in-process sandbox, a shared instance-type cache, and Pilot helpers."""

from __future__ import annotations

import asyncio
import re
import sys
import time
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from assistant.aws import AwsContext
from assistant.sandbox import Sandbox
from tui.app import EksAssistApp, make_app

from ..cli.conftest import cli  # noqa: F401 - the in-process CLI fixture, for comparing messages


@pytest.fixture(scope="session")
def catalogue_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One XDG cache for the session: the sandbox's instance-type catalogue is fetched once (seconds)."""
    return tmp_path_factory.mktemp("xdg-cache")


@pytest.fixture(autouse=True)
def _shared_cache(catalogue_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(catalogue_cache))


def settle_sandbox(sb: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point boto3 at ``sb`` and let moto build the account's default resources now."""
    import boto3

    for k, v in sb.env().items():
        monkeypatch.setenv(k, v)
    boto3.client("ec2", region_name="us-east-1").describe_vpcs()
    boto3.client("iam", region_name="us-east-1").list_roles()


@pytest.fixture
def sandbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    """A fresh in-process sandbox (fast EKS lifecycles), reached through the standard AWS_* environment."""
    with Sandbox(latency="fast", port=0, k8s_port=0) as sb:
        settle_sandbox(sb, monkeypatch)
        yield sb


def quick_aws(region: str | None, profile: str | None) -> AwsContext:
    """An AWS context that gives up after two attempts: an injected 5xx fails a step in seconds, not minutes."""
    return AwsContext(region=region, profile=profile, max_attempts=2)


def run(coro: Coroutine[Any, Any, None]) -> None:
    """Run an async Pilot scenario (the suite has no asyncio plugin)."""
    asyncio.run(coro)


async def settle(pilot: Pilot[Any]) -> None:
    """Let workers finish and the screen repaint."""
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def wait_for(pilot: Pilot[Any], predicate: Callable[[], bool], timeout: float = 60.0, what: str = "condition") -> None:
    """Poll the app until ``predicate()`` holds (workers run on threads)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}; screen is {type(pilot.app.screen).__name__}")
        await pilot.pause(0.05)


async def wait_screen(pilot: Pilot[Any], name: str, timeout: float = 60.0) -> None:
    await wait_for(pilot, lambda: type(pilot.app.screen).__name__ == name, timeout, f"screen {name}")
    await settle(pilot)


def test_app(**options: Any) -> EksAssistApp:
    """The CLI's app factory with the sandbox on and the cursor still (for stable screens)."""
    options.setdefault("sandbox", True)
    options.setdefault("cursor_blink", False)
    # Only the picker needs the whole catalogue (seconds of sandbox CPU); it loads it on demand.
    options.setdefault("prefetch_catalogue", False)
    return make_app(**options)


test_app.__test__ = False  # type: ignore[attr-defined]  # a factory, not a test


_VENV_BIN = str(Path(sys.executable).parent)


_REPO = str(Path(__file__).resolve().parents[2])


def redact(text: str) -> str:
    """Mask what changes between runs and machines: ports, generated ids, hashes, paths."""
    text = text.replace(_VENV_BIN, "<bin>")
    # The checkout lives anywhere (CI clones under /tmp): the same screen must read the same.
    text = text.replace(_REPO, "<repo>")
    text = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", text)
    text = re.sub(r"/k8s/[\w.-]+", "/k8s/ID", text)
    text = re.sub(r"\b([a-z]+)-[0-9a-f]{17}\b", r"\1-ID", text)
    text = re.sub(r"\b[0-9a-f]{64}\b", "HASH", text)
    text = re.sub(r"\b(plan|Plan) [0-9a-f]{16}\b", r"\1 HASH", text)
    return re.sub(r"/tmp/[^\s\"',)]+", "<tmp>", text)
