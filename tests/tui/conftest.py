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
from rich.cells import cell_len
from textual.errors import NoWidget
from textual.pilot import Pilot
from textual.screen import Screen
from textual.scrollbar import ScrollBar
from textual.widget import Widget
from textual.widgets import Button, DataTable, Input, Label, Static

from assistant.clients.aws import AwsContext
from assistant.sandbox import Sandbox
from assistant.sandbox.link import SandboxLink
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
    return AwsContext(region=region, profile=profile, max_attempts=2, sandbox=SandboxLink())


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


def _scrolls(widget: Widget, axis: str) -> bool:
    """True if ``widget`` lets its content scroll on ``axis`` ("x" or "y")."""
    overflow = widget.styles.overflow_x if axis == "x" else widget.styles.overflow_y
    return overflow in ("auto", "scroll")


def _shown(widget: Widget) -> bool:
    return all(node.display and node.visible for node in widget.ancestors_with_self if isinstance(node, Widget))


def cut_off(screen: Screen[Any]) -> list[str]:
    """What the screen cuts off: each entry names a widget and the text it cannot show whole.

    A label, field or table is *cut* when part of its text cannot be read on the screen as
    laid out: it sticks out sideways past what holds it, it is taller than a box that cannot
    scroll, a one-line text is longer than its box, an input's text is wider than the input,
    or a table is wider than its view (it would need sideways scrolling).
    """
    found: list[str] = []
    for widget in screen.query("*"):
        if not _shown(widget) or isinstance(widget, ScrollBar):
            continue
        try:
            geometry = screen.find_widget(widget)
        except NoWidget:
            continue
        region, clip = geometry.region, geometry.clip
        if region.width <= 0 or region.height <= 0:
            continue
        name = f"{type(widget).__name__}#{widget.id}" if widget.id else type(widget).__name__
        text = _text_of(widget)
        if region.x < clip.x or region.right > clip.right:
            found.append(f"{name} {text!r}: {region.width} wide, only {clip.width} shown")
        if region.bottom > clip.bottom:
            holder = next(
                (a for a in widget.ancestors if isinstance(a, Widget) and a.content_region.bottom < region.bottom), None
            )
            if holder is not None and not _scrolls(holder, "y"):
                found.append(f"{name} {text!r}: {region.height} tall, cut at the bottom of {type(holder).__name__}")
        inner = widget.content_region
        if isinstance(widget, DataTable):
            if widget.virtual_size.width > widget.scrollable_content_region.width:
                found.append(
                    f"{name}: the table is {widget.virtual_size.width} wide, only {widget.scrollable_content_region.width} shown"
                )
            found.extend(f"{name}: {cell}" for cell in _cut_cells(widget))
        elif isinstance(widget, Input):
            shown = widget.value or widget.placeholder
            if cell_len(shown) + 1 > inner.width:
                found.append(f"{name} {shown!r}: {cell_len(shown)} wide, the field is {inner.width}")
        elif isinstance(widget, (Static, Label, Button)) and not _scrolls(widget, "y"):
            wants = widget.get_content_width(inner.size, screen.size)
            if widget.styles.text_wrap == "nowrap" and wants > inner.width:
                found.append(f"{name} {text!r}: {wants} wide on one line, the box is {inner.width}")
            elif inner.width > 0 and widget.get_content_height(inner.size, screen.size, inner.width) > inner.height:
                found.append(f"{name} {text!r}: needs more lines than its {inner.height}")
    return found


def _cut_cells(table: DataTable[Any]) -> list[str]:
    """Headings wider than their column, and cells with more text than their row shows (a row of
    fixed height cuts what does not fit; a row of automatic height wraps it)."""
    found = []
    for index, column in enumerate(table.ordered_columns):
        width = column.get_render_width(table) - 2 * table.cell_padding
        if cell_len(column.label.plain) > width:
            found.append(f"heading {column.label.plain!r} in a column {width} wide")
        for row_index, row in enumerate(table.ordered_rows):
            if row.auto_height:
                continue
            lines = str(table.get_row_at(row_index)[index]).splitlines() or [""]
            if len(lines) > row.height or max(cell_len(line) for line in lines) > width:
                found.append(f"cell {lines!r} in a column {width} wide and a row {row.height} high")
    return found


def _text_of(widget: Widget) -> str:
    try:
        rendered = widget.render()
    except Exception:
        return ""
    plain = getattr(rendered, "plain", None)
    text = plain if isinstance(plain, str) else str(rendered) if isinstance(rendered, str) else ""
    return text if len(text) <= 60 else text[:57] + "..."


def screen_text(app: EksAssistApp) -> str:
    """The screen as the terminal shows it, one line per row (plain text, styles dropped)."""
    # The compositor is what paints the terminal; its strips are exactly what a user sees.
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def footer_keys(app: EksAssistApp) -> dict[str, str]:
    """The keys the current screen's own footer offers: description → key."""
    # By CSS type name: Textual exports the Footer but not its FooterKey widgets.
    return {str(key.description): str(key.key) for key in app.screen.query("Footer FooterKey") if _shown(key)}  # type: ignore[attr-defined]
