"""Integration fixtures: a real sandbox over HTTP, and helpers to count AWS calls."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

from assistant.clients.aws import AwsContext
from assistant.run.guard import is_read_only
from assistant.sandbox import Sandbox, statefile

from ..cli.conftest import cli  # noqa: F401 - re-exported fixture
from ..conftest import EXAMPLES

DEMO = str(EXAMPLES / "demo.yaml")


@pytest.fixture
def sandbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    """A fresh in-process sandbox; boto3 reaches it through the standard AWS_* environment."""
    with Sandbox(latency="fast", port=0, k8s_port=0) as sb:
        for k, v in sb.env().items():
            monkeypatch.setenv(k, v)
        # moto builds an account's backends (default VPC and so on) on first use; do that now
        # so that "unchanged" comparisons start from a settled state.
        import boto3

        boto3.client("ec2", region_name="us-east-1").describe_vpcs()
        boto3.client("iam", region_name="us-east-1").list_roles()
        boto3.client("eks", region_name="us-east-1").list_clusters()
        yield sb


class CallLog:
    """Every AWS operation a session attempts, recorded before the guard can refuse it."""

    def __init__(self, aws: AwsContext) -> None:
        self.calls: list[tuple[str, str]] = []
        aws.session._session.get_component("event_emitter").register_first("before-call", self._record, unique_id="test-call-log")

    def _record(self, model: Any, **_: Any) -> None:
        self.calls.append((model.service_model.endpoint_prefix, model.name))

    @property
    def mutating(self) -> list[tuple[str, str]]:
        return [c for c in self.calls if not is_read_only(*c)]


def owned(inventory: dict[str, Any]) -> str:
    """A stable text rendering of an inventory, for equality checks with a readable diff."""
    import json

    return json.dumps(inventory, sort_keys=True, indent=1, default=str)


@contextlib.contextmanager
def sandbox_subprocess(*flags: str) -> Iterator[statefile.SandboxInfo]:
    """A real `eks-assist sandbox` process on free ports, found through its state file."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant.cli", "sandbox", "--port", "0", "--k8s-port", "0", *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        info = None
        deadline = time.monotonic() + 60
        while info is None and time.monotonic() < deadline:
            if proc.poll() is not None:
                raise AssertionError(f"sandbox exited: {proc.stdout.read() if proc.stdout else ''}")
            info = statefile.find_running()
            time.sleep(0.2)
        assert info is not None, "sandbox did not come up"
        yield info
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout:
            proc.stdout.close()


@pytest.fixture
def sandbox_process(isolated_env: Any) -> Iterator[dict[str, str]]:
    """A real `eks-assist sandbox` process with realistic latency at 1%: a cluster takes 6 s to turn ACTIVE."""
    with sandbox_subprocess("--latency", "realistic", "--time-scale", "0.01") as info:
        yield info.env()
