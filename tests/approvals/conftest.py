"""Fixtures for change requests: a sandbox, an engine on it, and a policy with two environments."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.clients.aws import AwsContext
from assistant.engine import Engine
from assistant.governance.policy import Policy, load_policy
from assistant.governance.requests import Requests
from assistant.run.runner import RunOptions
from assistant.sandbox import Sandbox
from assistant.sandbox.link import SandboxLink
from assistant.spec import LoadedSpec, load_spec
from assistant.store import Store, open_store

from ..cli.conftest import cli  # noqa: F401 - re-exported fixture
from ..conftest import EXAMPLES
from ..integration.conftest import sandbox  # noqa: F401 - re-exported fixture

POLICY = """\
channels: [C0PLATFORM]
admins: [U0ADMIN]
approvalTtl: 30m
environments:
  prod:
    clusters: ["prod-*"]
    approvers: {users: [U0ALICE, U0BOB], groups: [S0SRE]}
    requiredApprovals: 2
  dev:
    clusters: ["*"]
    approvers: {users: [U0ALICE, U0BOB, U0CAROL], groups: [S0SRE]}
"""


class Clock:
    """A clock the test moves by hand, for TTLs."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def policy(tmp_path: Path) -> Policy:
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY, encoding="utf-8")
    return load_policy(path)


@pytest.fixture
def store() -> Iterator[Store]:
    s = open_store()
    yield s
    s.close()


@pytest.fixture
def engine(sandbox: Sandbox, store: Store) -> Engine:  # noqa: F811 - the fixture above
    return Engine(AwsContext(region="us-east-1", sandbox=SandboxLink()), store, options=RunOptions(poll_min=0.02, poll_max=0.1))


@pytest.fixture
def clock() -> Clock:
    import time

    return Clock(time.time())


@pytest.fixture
def requests(store: Store, policy: Policy, clock: Clock) -> Requests:
    return Requests(store, policy, clock=clock)


def spec_named(tmp_path: Path, name: str) -> LoadedSpec:
    """The demo spec with another cluster name."""
    text = (EXAMPLES / "demo.yaml").read_text(encoding="utf-8").replace("name: demo", f"name: {name}", 1)
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return load_spec(path)
