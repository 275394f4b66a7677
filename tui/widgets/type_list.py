"""A virtual list of instance types for the picker, built on Textual's line API.

Only the visible lines are rendered, so replacing the rows after each keystroke costs the same
for the full catalogue (about 1,400 types) as for ten: filtering is a list comprehension and a
redraw of one screenful. (DataTable and OptionList build every row up front, hundreds of
milliseconds for the whole catalogue.)
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from assistant.inventory import InstanceTypeInfo

HEADER = f"   {'instance type':<20} {'vCPU':>5} {'memory':>10} {'max pods':>9} {'with PD':>8}  arch"


def row_text(t: InstanceTypeInfo, selected: bool) -> str:
    mark = "✓" if selected else " "
    arch = ",".join(t.architectures)
    return f" {mark} {t.name:<20} {t.vcpus:>5} {t.memory_gib:>7.1f} GiB {t.max_pods:>9} {t.max_pods_prefix:>8}  {arch}"


class TypeList(ScrollView, can_focus=True):
    """Rows of instance types with a cursor; Enter or Space toggles the highlighted type."""

    BINDINGS = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "jump(0)", "First", show=False),
        Binding("end", "jump(-1)", "Last", show=False),
        Binding("enter,space", "toggle", "Select"),
    ]

    class Toggled(Message):
        """A type was selected or unselected."""

        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: list[InstanceTypeInfo] = []
        self.selected: list[str] = []
        self.cursor = 0

    def set_rows(self, rows: list[InstanceTypeInfo]) -> None:
        """Show these rows (cheap: nothing is rendered until a line is on screen)."""
        self.rows = rows
        self.cursor = min(self.cursor, max(len(rows) - 1, 0))
        self.virtual_size = Size(len(HEADER) + 8, len(rows))
        self.scroll_to(y=0, animate=False)
        self.cursor = 0
        self.refresh()

    @property
    def highlighted(self) -> InstanceTypeInfo | None:
        return self.rows[self.cursor] if 0 <= self.cursor < len(self.rows) else None

    def render_line(self, y: int) -> Strip:
        index = self.scroll_offset.y + y
        width = self.size.width
        if index >= len(self.rows):
            return Strip.blank(width)
        t = self.rows[index]
        text = row_text(t, t.name in self.selected)
        style = (
            Style(reverse=True)
            if index == self.cursor and self.has_focus
            else Style(bold=True)
            if index == self.cursor
            else Style()
        )
        if t.name in self.selected and index != self.cursor:
            style += Style(color="green")
        return Strip([Segment(text[:width].ljust(width), style)], width)

    def _scroll_cursor_into_view(self) -> None:
        top = self.scroll_offset.y
        height = max(self.size.height, 1)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False)
        self.refresh()

    def action_cursor(self, delta: int) -> None:
        if self.rows:
            self.cursor = max(0, min(len(self.rows) - 1, self.cursor + delta))
            self._scroll_cursor_into_view()

    def action_page(self, direction: int) -> None:
        self.action_cursor(direction * max(self.size.height - 1, 1))

    def action_jump(self, where: int) -> None:
        if self.rows:
            self.cursor = where % len(self.rows)
            self._scroll_cursor_into_view()

    def action_toggle(self) -> None:
        t = self.highlighted
        if t is None:
            return
        if t.name in self.selected:
            self.selected.remove(t.name)
        else:
            self.selected.append(t.name)
        self.refresh()
        self.post_message(self.Toggled(t.name))

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()


__all__ = ["HEADER", "TypeList", "row_text"]
