"""FitTable keeps every column in view, and the cut-off check the snapshot tests use sees a table that does not."""

from __future__ import annotations

from typing import Any

import pytest
from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import DataTable, Label

from tui.widgets.fit_table import FitTable, fit_widths, wrap_cell

from .conftest import cut_off, run

ARN = "arn:aws:iam::123456789012:role/PlatformAdmins"
ROWS = [("a", [ARN, "access entry\n(auto)", "platform-admin", "AmazonEKSClusterAdminPolicy (apps, web)"])]


def test_widths_stay_natural_while_they_fit_and_the_widest_give_way_when_not() -> None:
    assert fit_widths([5, 9], 20) == [5, 9]
    assert fit_widths([48, 12, 30], 60) == [24, 12, 24]
    # Never below a column's floor (its heading), even when that leaves too little room.
    assert fit_widths([48, 17, 30], 30, floors=[9, 17, 8]) == [9, 17, 8]


@pytest.mark.parametrize(
    ("width", "lines"),
    [
        (20, ["arn:aws:iam::", "123456789012:role/", "PlatformAdmins"]),
        (26, ["arn:aws:iam::123456789012:", "role/PlatformAdmins"]),
    ],
)
def test_an_arn_breaks_between_its_parts(width: int, lines: list[str]) -> None:
    assert wrap_cell(Text(ARN), width).plain.split("\n") == lines


class _Tables(App[None]):
    def __init__(self, table: Any) -> None:
        super().__init__()
        self.table = table

    def compose(self) -> ComposeResult:
        yield Label("tables")
        yield self.table


def _cut(table: Any, size: tuple[int, int]) -> list[str]:
    app = _Tables(table)
    found: list[str] = []

    async def scenario() -> None:
        async with app.run_test(size=size) as pilot:
            if isinstance(table, FitTable):
                table.set_rows(ROWS)
            else:
                table.add_columns("principal", "goes to", "username", "access policies")
                table.add_row(*ROWS[0][1])
            await pilot.pause()
            found.extend(cut_off(app.screen))

    run(scenario())
    return found


@pytest.mark.parametrize("size", [(60, 12), (80, 24), (120, 40)])
def test_a_fit_table_cuts_nothing(size: tuple[int, int]) -> None:
    assert _cut(FitTable("principal", "goes to", "username", "access policies", id="t"), size) == []


def test_a_plain_table_wider_than_the_screen_is_reported_cut() -> None:
    found = _cut(DataTable(id="t"), (60, 12))
    assert any("the table is" in f for f in found), found
