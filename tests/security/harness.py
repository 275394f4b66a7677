"""Shared setup for the security drills: one sandbox world per module, snapshots, the bot, the tally.

A :class:`World` is a real sandbox (fake, recognisable credentials from :mod:`tests.secrets_scan`)
with one applied cluster, a state directory whose store already holds a run, a pending change
request and its cluster lock, and an approval policy with a spec catalogue. Drills snapshot it
(the sandbox inventory plus every store table but the audit log) before and after hostile input
and require the two to be equal.

:class:`Tally` gathers one observation per parametrized case, across pytest-xdist workers,
and records the drill's figures once every case of the drill has reported.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from assistant.sandbox import Sandbox

from .. import drill_report
from .. import secrets_scan as fake
from ..slack.conftest import SMALL_SPEC as SPEC

CLUSTER = "corpus"
PENDING = "corpus-pending"
REGION = "us-east-1"
CHANNEL = "C0PLATFORM"
REQUESTER = "U0CAROL"
ALICE = "U0ALICE"
ADMIN = "U0ADMIN"


POLICY = """\
channels: [C0PLATFORM]
admins: [U0ADMIN]
specs: ./specs
approvalTtl: 1h
environments:
  dev:
    clusters: ["*"]
    approvers: {users: [U0ALICE, U0BOB], groups: [S0DEVS]}
"""

# What a Python traceback or a bare exception repr looks like when it leaks to a user.
LEAK = re.compile(
    r"Traceback \(most recent call last\)|\b(?:Key|Attribute|Type|Value|Index|Name|Unicode\w*|Recursion|Overflow|"
    r"Lookup|Runtime|Assertion|OS|JSONDecode|ZeroDivision|Import|ModuleNotFound)Error\(|"
    r'File "[^"]+\.py", line \d+'
)


def diff(before: str, after: str, limit: int = 80) -> str:
    """A short unified diff of two snapshots, for assertion messages."""
    import difflib

    lines = list(difflib.unified_diff(before.splitlines(), after.splitlines(), "before", "after", lineterm="", n=2))
    return "\n".join(lines[:limit])


def leaks(text: str) -> list[str]:
    """Tracebacks and exception reprs in ``text`` (empty when it is clean)."""
    return [m.group(0) for m in LEAK.finditer(text)]


def spec_text(name: str) -> str:
    """The small drill spec for cluster ``name`` (no kubeconfig written)."""
    return SPEC.format(name=name)


def store_rows(state_dir: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every store table except the audit log (which may record refusals), in a stable order."""
    path = state_dir / "state.db"
    if not path.exists():
        return {}
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
        # sqlite_sequence only counts the audit log's rows; every other table is compared whole.
        skip = ("audit", "sqlite_sequence")
        return {t: sorted(db.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr) for t in tables if t not in skip}
    finally:
        db.close()


@dataclass
class World:
    """One sandbox with an applied cluster, and a state directory with a run, a request and a lock."""

    sandbox: Sandbox
    root: Path
    state: Path
    policy: Path
    cluster: dict[str, Any]  # DescribeCluster of CLUSTER
    run_id: str
    request_id: str

    @property
    def env(self) -> dict[str, str]:
        """Environment for anything that should reach this world (boto3, the CLI, the bot's store)."""
        return {**self.sandbox.env(), "EKS_ASSIST_STATE_DIR": str(self.state)}

    def snapshot(self) -> str:
        """The sandbox inventory and the store, as one comparable text."""
        return json.dumps(
            {"inventory": self.sandbox.inventory(), "store": store_rows(self.state)}, sort_keys=True, indent=1, default=repr
        )

    def use(self, monkeypatch: pytest.MonkeyPatch) -> None:
        for k, v in self.env.items():
            monkeypatch.setenv(k, v)


@contextlib.contextmanager
def make_world(root: Path) -> Iterator[World]:
    """Start a sandbox with the fake credentials, apply CLUSTER, and open a pending request for PENDING."""
    from assistant.clients.aws import AwsContext
    from assistant.engine import Engine
    from assistant.governance.policy import load_policy
    from assistant.governance.requests import Requests
    from assistant.run.runner import RunOptions
    from assistant.sandbox.link import SandboxLink
    from assistant.spec import loads_spec
    from assistant.store import open_store

    state = root / "state"
    specs = root / "bot" / "specs"
    specs.mkdir(parents=True)
    for name in (CLUSTER, PENDING, "fresh"):
        (specs / f"{name}.yaml").write_text(spec_text(name), encoding="utf-8")
    policy = root / "bot" / "policy.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    mp = pytest.MonkeyPatch()
    try:
        for k in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "KUBERNETES_EXEC_INFO", "EKS_ASSIST_STORE"):
            mp.delenv(k, raising=False)
        mp.setenv("EKS_ASSIST_STATE_DIR", str(state))
        mp.setenv("HOME", str(root / "home"))
        mp.setenv("KUBECONFIG", str(root / "kubeconfig"))
        mp.setenv("AWS_CONFIG_FILE", str(root / "no-aws-config"))
        mp.setenv("AWS_SHARED_CREDENTIALS_FILE", str(root / "no-aws-credentials"))
        mp.setenv("AWS_EC2_METADATA_DISABLED", "true")
        with Sandbox(latency="fast", time_scale=0.1, credentials=(fake.AWS_ACCESS_KEY_ID, fake.AWS_SECRET_ACCESS_KEY)) as sb:
            for k, v in sb.env().items():
                mp.setenv(k, v)
            store = open_store()
            engine = Engine(
                AwsContext(region=REGION, sandbox=SandboxLink()), store, options=RunOptions(poll_min=0.05, poll_max=0.1)
            )
            loaded = loads_spec(spec_text(CLUSTER), str(specs / f"{CLUSTER}.yaml"))
            run_id, _ = engine.apply(loaded, engine.plan(loaded).plan.hash, "drill (seed)", "flag")
            pending = loads_spec(spec_text(PENDING), str(specs / f"{PENDING}.yaml"))
            request = Requests(store, load_policy(policy)).open(engine, pending, requester=REQUESTER, executor="bot")
            store.close()
            import boto3

            cluster = boto3.client("eks", region_name=REGION).describe_cluster(name=CLUSTER)["cluster"]
            yield World(sb, root, state, policy, cluster, run_id, request.id)
    finally:
        mp.undo()


# -- the bot -------------------------------------------------------------------------------------


@contextlib.contextmanager
def serve_bot(
    mock: Any, policy: Path, token: str = fake.SLACK_BOT_TOKEN, secret: str = fake.SLACK_SIGNING_SECRET
) -> Iterator[Any]:
    """The real Bolt app over HTTP on a free port, with the fake bot token and signing secret (a BotHarness)."""
    from assistant.run.runner import RunOptions
    from slackbot.app import create_bot
    from slackbot.config import load_config

    from ..slack.conftest import BotHarness, serving

    environ = {"SLACK_BOT_TOKEN": token, "SLACK_SIGNING_SECRET": secret, "SLACK_API_URL": mock.api_url, "AWS_REGION": REGION}
    config = load_config(policy_path=str(policy), socket_mode=False, environ=environ)
    bot = create_bot(config, options=RunOptions(poll_min=0.05, poll_max=0.1), pace_interval=0.02, expiry_interval=0)
    with serving(bot) as url:
        yield BotHarness(url, mock, bot, secret=secret)


# -- figures across xdist workers ----------------------------------------------------------------


class Tally:
    """One observation per case of a parametrized drill; the figures are recorded once all cases reported.

    Under pytest-xdist the cases of one module run on several workers, so each observation is
    appended to a file shared by the session (keyed by xdist's test-run id), and whichever
    worker completes the set records the figures. A partial run (``-k``) records nothing.
    """

    def __init__(self, drill: str, cases: list[str], summarize: Callable[[list[dict[str, Any]]], dict[str, Any]]) -> None:
        self.drill = drill
        self.cases = set(cases)
        self.summarize = summarize

    def _path(self) -> Path:
        run = os.environ.get("PYTEST_XDIST_TESTRUNUID") or f"pid{os.getppid()}-{os.getpid()}"
        slug = re.sub(r"[^a-z0-9]+", "-", self.drill.lower())
        return drill_report.REPORT_DIR / f"{slug}-{run}.parts"

    def add(self, case: str, **observation: Any) -> dict[str, Any] | None:
        """Add one case's observation; returns the recorded entry when this completed the drill."""
        drill_report.REPORT_DIR.mkdir(exist_ok=True)
        path = self._path()
        with path.open("a+", encoding="utf-8") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            fh.write(json.dumps({"case": case, **observation}, sort_keys=True, default=str) + "\n")
            fh.flush()
            fh.seek(0)
            seen: dict[str, dict[str, Any]] = {}
            for line in fh.read().splitlines():
                if line.strip():
                    row = json.loads(line)
                    seen[row["case"]] = row
            if not self.cases <= set(seen) or "recorded" in seen:
                return None
            fh.write(json.dumps({"case": "recorded"}) + "\n")
        rows = [seen[c] for c in sorted(self.cases)]
        figures = self.summarize(rows)
        entry = drill_report.record(self.drill, **figures)
        # Done with: this session's file, and any a killed session left behind.
        for stale in drill_report.REPORT_DIR.glob("*.parts"):
            if stale == path or time.time() - stale.stat().st_mtime > 6 * 3600:
                stale.unlink(missing_ok=True)
        return entry
