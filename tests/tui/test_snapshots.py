"""Snapshots of every wizard screen at 80x24 and 120x40 (pytest-textual-snapshot).

One sandbox for the module (no EKS delays) holds a cluster applied from ``specs/shop.yaml``
under the name ``live``; the wizard screens edit the same spec. Ports, generated ids, hashes
and paths are masked (``redact``), the cursor does not blink, and workers are awaited.
Regenerate with ``pytest tests/tui --snapshot-update`` and review the SVGs.
"""

from __future__ import annotations

import os
import re
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from textual.pilot import Pilot
from textual.widgets import TabbedContent

from assistant.clients.aws import AwsContext
from assistant.engine import Engine
from assistant.sandbox import Sandbox, statefile
from assistant.spec import loads_spec
from assistant.store import open_store

from .conftest import cut_off, redact, settle, settle_sandbox, test_app, wait_for, wait_screen

SPEC = Path(__file__).parent / "specs" / "shop.yaml"
SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]
Steps = Callable[[Pilot[Any]], Awaitable[None]]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Sandbox, Path]]:
    """The module's sandbox and state dir, with cluster ``live`` applied by the engine."""
    home = tmp_path_factory.mktemp("snap-world")
    with pytest.MonkeyPatch.context() as mp, Sandbox(latency="none", port=0, k8s_port=0) as sb:
        mp.setenv("EKS_ASSIST_STATE_DIR", str(home / "state"))
        mp.setenv("KUBECONFIG", str(home / "live-kubeconfig"))
        settle_sandbox(sb, mp)
        boto3.client("iam", region_name="us-east-1").create_role(RoleName="PlatformAdmins", AssumeRolePolicyDocument="{}")
        loaded = loads_spec(
            SPEC.read_text().replace("name: shop", "name: live").replace("alias: shop", "alias: live"), "live.yaml"
        )
        engine = Engine(AwsContext(region="us-east-1"), open_store())
        engine.apply(loaded, engine.plan(loaded).plan.hash, "snapshots", "test")
        yield sb, home


@pytest.fixture
def env(world: tuple[Sandbox, Path], monkeypatch: pytest.MonkeyPatch) -> Path:
    sb, home = world
    for k, v in sb.env().items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("EKS_ASSIST_STATE_DIR", str(home / "state"))
    # A relative kubeconfig path reads the same on every machine.
    monkeypatch.chdir(home)
    monkeypatch.setenv("KUBECONFIG", "kubeconfig")
    return home


def shot(snap_compare: Any, size: tuple[int, int], steps: Steps | None = None, **options: Any) -> bool:
    """Start the app, run ``steps``, let everything settle, and compare the screen; nothing on it may be cut off."""
    options.setdefault("redact", redact)
    options.setdefault("clock", lambda: 0.0)
    app = test_app(**options)
    cut: list[str] = []

    async def run_before(pilot: Pilot[Any]) -> None:
        await wait_for(pilot, lambda: app.conn is not None, what="the connection")
        await settle(pilot)
        if steps is not None:
            await steps(pilot)
        await settle(pilot)
        app.clear_notifications()
        await pilot.pause()
        cut.extend(f"{type(app.screen).__name__}: {line}" for line in cut_off(app.screen))

    same = bool(snap_compare(app, terminal_size=size, run_before=run_before))
    assert not cut, f"at {size[0]}x{size[1]}, cut off:\n  " + "\n  ".join(cut)
    return same


def to(*names: str, press: str = "") -> Steps:
    """Steps: go to the wizard's ``names[-1]`` screen, pressing ``press`` keys first."""

    async def steps(pilot: Pilot[Any]) -> None:
        if press:
            await pilot.press(*press.split())
        for name in names:
            await pilot.app.goto(name)  # type: ignore[attr-defined]
            await settle(pilot)

    return steps


@pytest.mark.parametrize("size", SIZES)
def test_context_dashboard(snap_compare: Any, env: Path, size: tuple[int, int]) -> None:
    assert shot(snap_compare, size)


@pytest.mark.parametrize("size", SIZES)
def test_cluster_details(snap_compare: Any, env: Path, size: tuple[int, int]) -> None:
    async def steps(pilot: Pilot[Any]) -> None:
        await pilot.press("enter")
        await wait_screen(pilot, "ClusterScreen")
        pilot.app.screen.query_one("#tabs", TabbedContent).active = "tab-mappings"

    assert shot(snap_compare, size, steps)


@pytest.mark.parametrize("size", SIZES)
def test_destroy_review(snap_compare: Any, env: Path, size: tuple[int, int]) -> None:
    async def steps(pilot: Pilot[Any]) -> None:
        await pilot.press("d")
        await wait_screen(pilot, "DestroyScreen")

    assert shot(snap_compare, size, steps)


@pytest.mark.parametrize("size", SIZES)
def test_quit_with_the_wizards_own_sandbox(
    snap_compare: Any, env: Path, world: tuple[Sandbox, Path], size: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl+Q when the wizard started the sandbox: what keeping it and stopping it mean, for these clusters and contexts."""
    sb, home = world
    monkeypatch.setenv("EKS_ASSIST_STATE_DIR", str(home / "quit-state"))
    creds = sb.env()
    info = statefile.SandboxInfo(
        sb.aws_url, sb.k8s_url, os.getpid(), sb.region, creds["AWS_ACCESS_KEY_ID"], creds["AWS_SECRET_ACCESS_KEY"],
        str(home / "quit-state" / statefile.CA_FILE), owner_pid=os.getpid(), background=True,
    )  # fmt: skip
    arn = "arn:aws:eks:us-east-1:123456789012:cluster/live"
    statefile.record_kubeconfig(statefile.KubeconfigRecord("kubeconfig", arn, "live", "live", f"{sb.k8s_url}/k8s/live"))

    async def steps(pilot: Pilot[Any]) -> None:
        pilot.app.owned_sandbox = info  # type: ignore[attr-defined]
        await pilot.press("ctrl+q")
        await wait_screen(pilot, "QuitScreen")

    pid = re.compile(r"\bpid \d+")
    assert shot(snap_compare, size, steps, redact=lambda text: pid.sub("pid PID", redact(text)))


@pytest.mark.parametrize("size", SIZES)
def test_help(snap_compare: Any, env: Path, size: tuple[int, int]) -> None:
    async def steps(pilot: Pilot[Any]) -> None:
        await pilot.press("question_mark")
        await wait_screen(pilot, "HelpScreen")

    assert shot(snap_compare, size, steps)


@pytest.mark.parametrize("size", SIZES)
def test_masters_new_cluster(snap_compare: Any, env: Path, size: tuple[int, int]) -> None:
    async def steps(pilot: Pilot[Any]) -> None:
        await pilot.press("n")
        await wait_screen(pilot, "MastersScreen")
        await pilot.press(*"web 1")  # a space: the name error shows as you type

    assert shot(snap_compare, size, steps)


def test_masters_light_theme(snap_compare: Any, env: Path) -> None:
    async def steps(pilot: Pilot[Any]) -> None:
        pilot.app.theme = "textual-light"
        await to("masters")(pilot)

    assert shot(snap_compare, (80, 24), steps, spec_file=str(SPEC))


@pytest.mark.parametrize("size", SIZES)
def test_masters_invalid_next_blocked(snap_compare: Any, env: Path, size: tuple[int, int]) -> None:
    async def steps(pilot: Pilot[Any]) -> None:
        await to("masters")(pilot)
        cidr = pilot.app.screen.query_one("#cidr")
        cidr.value = "10.0.0.1/33"  # type: ignore[attr-defined]
        # Let the field's Changed message reach the screen first, as a typed key's would.
        await pilot.pause()
        await pilot.press("ctrl+n")
        assert type(pilot.app.screen).__name__ == "MastersScreen"

    assert shot(snap_compare, size, steps, spec_file=str(SPEC))


@pytest.mark.parametrize("size", SIZES)
def test_workers(snap_compare: Any, env: Path, size: tuple[int, int]) -> None:
    assert shot(snap_compare, size, to("masters", "workers"), spec_file=str(SPEC))


@pytest.mark.parametrize("size", SIZES)
def test_nodegroup_editor(snap_compare: Any, env: Path, size: tuple[int, int]) -> None:
    async def steps(pilot: Pilot[Any]) -> None:
        await to("workers")(pilot)
        await pilot.press("down", "enter")
        await wait_screen(pilot, "NodeGroupEditor")

    assert shot(snap_compare, size, steps, spec_file=str(SPEC))


@pytest.mark.parametrize("size", SIZES)
def test_instance_type_picker(snap_compare: Any, env: Path, size: tuple[int, int]) -> None:
    async def steps(pilot: Pilot[Any]) -> None:
        await to("workers")(pilot)
        await pilot.press("enter")
        await wait_screen(pilot, "NodeGroupEditor")
        await pilot.press("f4")
        await wait_screen(pilot, "InstanceTypePicker")
        await pilot.press(*"m5.l")

    assert shot(snap_compare, size, steps, spec_file=str(SPEC))


@pytest.mark.parametrize("size", SIZES)
def test_cni_with_capacity(snap_compare: Any, env: Path, size: tuple[int, int]) -> None:
    assert shot(snap_compare, size, to("cni"), spec_file=str(SPEC))


@pytest.mark.parametrize("size", SIZES)
def test_iam_with_access_check(snap_compare: Any, env: Path, size: tuple[int, int]) -> None:
    async def steps(pilot: Pilot[Any]) -> None:
        await to("iam")(pilot)
        principal = pilot.app.screen.query_one("#principal")
        principal.value = "arn:aws:sts::123456789012:assumed-role/PlatformAdmins/alice"  # type: ignore[attr-defined]
        principal.focus()
        await pilot.press("enter")

    assert shot(snap_compare, size, steps, spec_file=str(SPEC))


@pytest.mark.parametrize("size", SIZES)
def test_mapping_editor(snap_compare: Any, env: Path, size: tuple[int, int]) -> None:
    async def steps(pilot: Pilot[Any]) -> None:
        await to("iam")(pilot)
        await pilot.press("down", "enter")
        await wait_screen(pilot, "MappingEditor")

    assert shot(snap_compare, size, steps, spec_file=str(SPEC))


@pytest.mark.parametrize("size", SIZES)
def test_kubeconfig(snap_compare: Any, env: Path, size: tuple[int, int]) -> None:
    assert shot(snap_compare, size, to("kubeconfig"), spec_file=str(SPEC))


@pytest.mark.parametrize("size", SIZES)
def test_review_plan(snap_compare: Any, env: Path, size: tuple[int, int]) -> None:
    assert shot(snap_compare, size, to("review"), spec_file=str(SPEC))


@pytest.mark.parametrize("size", SIZES)
def test_confirm_by_typing_the_name(snap_compare: Any, env: Path, size: tuple[int, int]) -> None:
    async def steps(pilot: Pilot[Any]) -> None:
        await to("review")(pilot)
        await pilot.press("ctrl+a")
        await wait_screen(pilot, "TypeNameScreen")
        await pilot.press(*"sho")

    assert shot(snap_compare, size, steps, spec_file=str(SPEC))


@pytest.mark.parametrize("size", SIZES)
def test_save_spec_dialog(snap_compare: Any, env: Path, size: tuple[int, int], monkeypatch: pytest.MonkeyPatch) -> None:
    # The dialog offers the path the spec was opened by: a relative one, so that the snapshot
    # does not depend on where the repository is checked out.
    monkeypatch.chdir(SPEC.parent)

    async def steps(pilot: Pilot[Any]) -> None:
        await to("kubeconfig")(pilot)
        await pilot.press("ctrl+s")
        await wait_screen(pilot, "SaveSpecScreen")

    assert shot(snap_compare, size, steps, spec_file=SPEC.name)


@pytest.mark.parametrize("size", SIZES)
def test_switch_region_dialog(snap_compare: Any, env: Path, size: tuple[int, int]) -> None:
    async def steps(pilot: Pilot[Any]) -> None:
        await pilot.press("r")
        await wait_screen(pilot, "SwitchContextScreen")

    assert shot(snap_compare, size, steps)


def test_command_palette(snap_compare: Any, env: Path) -> None:
    async def steps(pilot: Pilot[Any]) -> None:
        from textual.command import CommandInput, CommandList

        await pilot.press("ctrl+p")
        await pilot.pause(0.3)
        # The palette's own input blinks its cursor whatever the app says: hold it still.
        pilot.app.screen.query_one(CommandInput).cursor_blink = False
        await pilot.press(*"go to")
        # The palette searches on a worker: under load, 0.3 s is not always enough for the hits.
        await wait_for(pilot, lambda: pilot.app.screen.query_one(CommandList).option_count > 0, what="palette hits")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause(0.3)

    assert shot(snap_compare, (80, 24), steps)


def test_snapshot_environment_is_isolated(env: Path) -> None:
    assert os.environ["KUBECONFIG"] == "kubeconfig"
