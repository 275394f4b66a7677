"""Quitting the wizard: with its own background sandbox it asks keep/stop, and does what it said.

The app connects the way ``eks-assist --sandbox`` does (``tui.cli_hook``): a missing sandbox is
started as a real background process (``eks-assist sandbox start``) that publishes sandbox.json.
After the app exits, :func:`tui.cli_hook.sandbox_farewell` carries out the choice, as the CLI does.
Every sandbox process a test starts is stopped and waited for, whatever the test did.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from textual.widgets import Static

from assistant.cli import common as cli
from assistant.sandbox import Sandbox, statefile
from tui.cli_hook import sandbox_farewell

from ..sandbox.helpers import cluster_with_context, stop_sandbox_processes
from .conftest import run, settle, test_app, wait_for, wait_screen

pytestmark = pytest.mark.slow

SANDBOX_ENV = ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION", "AWS_REGION")


_alive = statefile.pid_alive


@pytest.fixture
def wizard_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """The environment the connect hook rewrites is restored afterwards; sandboxes started here are stopped."""
    for key in SANDBOX_ENV:
        monkeypatch.setenv(key, "")  # recorded, so that what the hook sets is undone after the test
        monkeypatch.delenv(key)
    pids: list[int] = []
    try:
        yield pids
    finally:
        stop_sandbox_processes(pids)


def _wizard(ctx: dict[str, Any], progress: list[float]) -> Any:
    """The app as cli_hook builds it for --sandbox."""
    app = test_app()

    def hook(report: Any) -> Any:
        def seen(seconds: float) -> None:
            progress.append(seconds)
            report(seconds)

        return cli.sandbox_env(ctx, quiet=True, background=seen)

    app.before_connect = hook
    return app


async def _connected(pilot: Any, pids: list[int]) -> Any:
    """Wait for the background sandbox and the connection; the sandbox the wizard owns."""
    app = pilot.app
    await wait_for(pilot, lambda: app.conn is not None, timeout=120, what="the background sandbox")
    await settle(pilot)
    assert app.owned_sandbox is not None
    pids.append(app.owned_sandbox.pid)
    return app.owned_sandbox


def test_quit_asks_then_keeps_the_sandbox_running(wizard_env: list[int], tmp_path: Path) -> None:
    progress: list[float] = []
    app = _wizard({}, progress)

    async def scenario() -> None:
        async with app.run_test(size=(100, 30)) as pilot:
            await _connected(pilot, wizard_env)
            # A separate process, published for other terminals, owned by this wizard.
            assert app.owned_sandbox.pid != os.getpid() and app.owned_sandbox.owner_pid == os.getpid()
            assert statefile.find_running() == app.owned_sandbox
            await pilot.press("ctrl+q")
            await wait_screen(pilot, "QuitScreen")
            text = str(app.screen.query_one("#quit-text", Static).render())
            assert f"This wizard started the sandbox (pid {app.owned_sandbox.pid}" in text
            assert "It has no clusters in us-east-1" in text
            assert "eks-assist sandbox stop" in text and "removed from your kubeconfig" in text
            await pilot.press("escape")  # stay
            await wait_screen(pilot, "ContextScreen")
            assert app.sandbox_choice is None and app.is_running
            await pilot.press("ctrl+q")
            await wait_screen(pilot, "QuitScreen")
            await pilot.press("k")
            await pilot.pause()

    run(scenario())
    assert progress, "the wizard showed the sandbox starting"
    assert app.sandbox_choice == "keep"
    owned = app.owned_sandbox
    assert owned is not None
    said = sandbox_farewell(owned, app.sandbox_choice)
    assert "the sandbox keeps running in the background" in said and "eks-assist sandbox stop" in said
    info = statefile.read()
    assert info is not None and info.pid == owned.pid and info.owner_pid is None  # no longer tied to the wizard
    assert _alive(owned.pid) and statefile.find_running() is not None


def test_stop_removes_the_contexts_written_for_its_clusters(wizard_env: list[int], tmp_path: Path) -> None:
    """Stop: the sandbox exits, and the context written for its cluster goes; the user's own stays."""
    path = Path(os.environ["KUBECONFIG"])
    path.write_text("apiVersion: v1\nkind: Config\ncontexts:\n- context: {cluster: c, user: u}\n  name: mine\n")
    app = _wizard({}, [])

    async def scenario() -> None:
        async with app.run_test(size=(100, 30)) as pilot:
            owned = await _connected(pilot, wizard_env)
            # A cluster in it, and its context written with `eks-assist kubeconfig --sandbox` (which records it).
            cluster_with_context(owned, path)
            await pilot.press("ctrl+q")
            await wait_screen(pilot, "QuitScreen")
            text = str(app.screen.query_one("#quit-text", Static).render())
            assert f"demo in {path}" in text
            await pilot.click("#stop")
            await pilot.pause()

    run(scenario())
    assert app.sandbox_choice == "stop"
    owned = app.owned_sandbox
    assert owned is not None
    said = sandbox_farewell(owned, app.sandbox_choice)
    assert f"stopped the sandbox this wizard started (pid {owned.pid})" in said
    assert f"Removed kubeconfig context(s) demo from {path}" in said
    assert not _alive(owned.pid) and statefile.read() is None
    assert yaml.safe_load(path.read_text())["contexts"] == [{"context": {"cluster": "c", "user": "u"}, "name": "mine"}]


def test_a_sandbox_the_user_runs_is_used_and_never_stopped(wizard_env: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    """Someone else's (published) sandbox: the wizard quits at once and leaves it running."""
    with Sandbox(latency="none", port=0, k8s_port=0) as sb:
        statefile.write_ca(sb.ca_pem)
        env = sb.env()
        statefile.write(
            statefile.SandboxInfo(
                sb.aws_url, sb.k8s_url, os.getpid(), sb.region, env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"],
                str(statefile.state_dir() / statefile.CA_FILE),
            )
        )  # fmt: skip
        app = _wizard({}, [])

        async def scenario() -> None:
            async with app.run_test(size=(100, 30)) as pilot:
                await wait_for(pilot, lambda: app.conn is not None, timeout=60, what="the connection")
                await settle(pilot)
                assert app.owned_sandbox is None and os.environ["AWS_ENDPOINT_URL"] == sb.aws_url
                await pilot.press("ctrl+q")
                await pilot.pause()
                assert not app.is_running  # no question: it is not the wizard's to stop

        run(scenario())
        said = sandbox_farewell(app.owned_sandbox, app.sandbox_choice)
        assert f"the sandbox you run (pid {os.getpid()}) keeps running" in said
        assert statefile.find_running() is not None
        statefile.remove()


def test_quitting_while_the_sandbox_starts_leaves_none_behind(wizard_env: list[int]) -> None:
    """Ctrl+Q before the background sandbox answers: the wizard exits, and the starting sandbox goes with it."""
    progress: list[float] = []
    app = _wizard({}, progress)

    async def scenario() -> None:
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_for(pilot, lambda: bool(progress), timeout=60, what="the sandbox to start starting")
            await pilot.press("ctrl+q")  # not the wizard's yet: nothing to ask about
            await pilot.pause()

    started = time.monotonic()
    run(scenario())
    assert time.monotonic() - started < 60
    assert app.owned_sandbox is None

    def gone() -> bool:
        info = statefile.read()
        return not statefile.lock_held() and (info is None or not _alive(info.pid))

    deadline = time.monotonic() + 30
    while not gone():
        assert time.monotonic() < deadline, "a sandbox outlived the wizard that was starting it"
        time.sleep(0.1)
