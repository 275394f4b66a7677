"""Shared fixtures: every test gets its own state directory and no ambient AWS settings."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"

# Kubernetes version support follows the calendar (assistant/clock.py): the suite lives on one
# fixed day, so no answer changes as real days pass. On it 1.29-1.31 are in extended support and
# 1.32-1.34 in standard support, none within 90 days of its end. Set before any sandbox starts,
# and inherited by every subprocess; a test that needs another day sets its own.
SUITE_TODAY = "2025-12-01"
os.environ["EKS_ASSIST_TODAY"] = SUITE_TODAY

_AMBIENT = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "KUBECONFIG",
    "EKS_ASSIST_STORE",
    "KUBERNETES_EXEC_INFO",
)


@pytest.fixture(scope="session")
def sandbox_catalogue_cache(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One sandbox catalogue cache for the session, shared by the xdist workers (their base temps share a parent).

    Each test has a home of its own, so without this every worker would build moto's instance-type
    listing again (seconds) in any process that has not built it yet.
    """
    base = tmp_path_factory.getbasetemp()
    return (base.parent if hasattr(request.config, "workerinput") else base) / "sandbox-catalogue"


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sandbox_catalogue_cache: Path) -> Iterator[Path]:
    """A private state dir and home; AWS config files that do not exist; the session's sandbox catalogue cache."""
    for k in _AMBIENT:
        monkeypatch.delenv(k, raising=False)
    state = tmp_path / "state"
    monkeypatch.setenv("EKS_ASSIST_STATE_DIR", str(state))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    # Applies write a kubeconfig: never the developer's own.
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "kubeconfig"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("EKS_ASSIST_SANDBOX_CACHE", str(sandbox_catalogue_cache))
    yield state
    os.environ.pop("EKS_ASSIST_TEST_MARKER", None)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The soaks first: xdist's loadgroup scheduler hands tests out in this order (see pyproject's addopts).

    A soak started last would run alone at the end; started first, it overlaps the short tests.
    The sort is stable, so every worker collects the same order, as xdist requires.
    """
    items.sort(key=lambda item: item.get_closest_marker("soak") is None)


def pytest_sessionstart(session: pytest.Session) -> None:
    """The controlling process starts the drill report afresh (xdist workers have ``workerinput``)."""
    from . import drill_report

    if not hasattr(session.config, "workerinput"):
        drill_report.clear()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the figures every drill recorded this session, as in docs/reliability.md."""
    from . import drill_report

    if hasattr(terminalreporter.config, "workerinput"):
        return
    rows = drill_report.entries()
    if rows:
        terminalreporter.section("drill figures")
        for line in drill_report.table(rows):
            terminalreporter.write_line(line)
