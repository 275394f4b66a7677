"""A table that fits its width: nothing runs off the right-hand side.

A plain :class:`~textual.widgets.DataTable` sizes every column to its widest cell and scrolls
sideways when they add up to more than the screen has, so at 80 columns whole columns (where
an IAM mapping goes, a node group's scaling) sit out of sight. :class:`FitTable` keeps the
natural widths while they fit; when they do not, the widest columns give up room until the
row fits, and their cells wrap onto more lines. Its cells are never read as markup, so
``nodegroup[spot]`` shows as written.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.widgets import DataTable

Cell = str | Text
# A column narrower than this wraps too much to read; below it, the table scrolls instead.
MIN_WIDTH = 8


def as_text(cell: Cell) -> Text:
    """A cell as Text: a str is taken literally (a str given to a DataTable is parsed as markup)."""
    return cell if isinstance(cell, Text) else Text(cell)


def text_width(text: Text) -> int:
    """The width of the widest line of ``text``."""
    return max((cell_len(line) for line in text.plain.splitlines()), default=0)


def wrap_cell(text: Text, width: int) -> Text:
    """``text`` broken into lines of at most ``width`` cells, each break after a space, a comma, a
    ':' or a '/' where there is one (an ARN splits between its parts), styles kept.
    """
    if width <= 0 or text_width(text) <= width:
        return text
    out: list[Text] = []
    for line in text.split("\n", allow_blank=True):
        while cell_len(line.plain) > width:
            plain = line.plain
            fits = 1
            while fits < len(plain) and cell_len(plain[: fits + 1]) <= width:
                fits += 1
            cut = _break(plain, fits)
            head, line = line.divide([cut])
            head.rstrip()
            out.append(head)
            line = _lstrip(line)
        out.append(line)
    return Text("\n").join(out)


def _break(plain: str, fits: int) -> int:
    """Where to end a line of which ``fits`` characters fit: after the last space or comma if that
    keeps half the line, else after the last ':' or '/' that does not split a "::", else at ``fits``.
    """
    if fits >= len(plain):
        return fits
    words = [i + 1 for i in range(fits) if plain[i] in " ,"]
    if words and words[-1] >= fits // 2:
        return words[-1]
    parts = [i + 1 for i in range(fits) if plain[i] in ":/" and plain[i + 1] not in ":/"]
    return parts[-1] if parts else words[-1] if words else fits


def _lstrip(text: Text) -> Text:
    stripped = len(text.plain) - len(text.plain.lstrip(" "))
    return text[stripped:] if stripped else text


def fit_widths(natural: Sequence[int], room: int, floors: Sequence[int] = ()) -> list[int]:
    """Column widths that add up to at most ``room``: the natural ones if they fit, else the widest
    columns are cut down to one common width, never below their floor (by default
    :data:`MIN_WIDTH`) or above their natural width.
    """
    if sum(natural) <= room:
        return list(natural)
    lows = [min(n, f) for n, f in zip(natural, [*floors, *[MIN_WIDTH] * (len(natural) - len(floors))], strict=True)]
    cap = max(natural, default=0)
    while sum(max(low, min(n, cap)) for n, low in zip(natural, lows, strict=True)) > room and cap > min(lows, default=0):
        cap -= 1
    return [max(low, min(n, cap)) for n, low in zip(natural, lows, strict=True)]


class FitTable(DataTable[Text]):
    """A row-cursor table whose columns are fitted to its width (see the module docstring).

    Give it all its rows with :meth:`set_rows`; it lays them out again when its width changes.
    """

    def __init__(self, *columns: str, id: str | None = None, zebra_stripes: bool = True) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=zebra_stripes)
        self.labels = [Text(c) for c in columns]
        self.data: list[tuple[str | None, list[Text]]] = []
        self._laid_out_for = -1

    def on_mount(self) -> None:
        self._layout()

    def set_rows(self, rows: Iterable[tuple[str | None, Sequence[Cell]]]) -> None:
        """Replace every row: ``(key, cells)`` pairs, a cell being a str (shown as is) or Text."""
        self.data = [(key, [as_text(c) for c in cells]) for key, cells in rows]
        self._layout()

    def cells(self, row: int) -> list[str]:
        """Row ``row``'s cells as given to :meth:`set_rows` (before any wrapping), as plain text."""
        return [cell.plain for cell in self.data[row][1]]

    def _room(self) -> int:
        """Columns' room: the width less cell padding, and a vertical scrollbar's room kept free so
        that rows added later never push the last column out of sight.
        """
        padding = 2 * self.cell_padding * len(self.labels)
        return self.size.width - self.styles.scrollbar_size_vertical - padding

    def on_resize(self, event: events.Resize) -> None:
        if event.size.width != self._laid_out_for:
            self._layout()

    def _layout(self) -> None:
        row = self.cursor_row
        natural = [
            max([text_width(label), *(text_width(cells[i]) for _, cells in self.data if i < len(cells))])
            for i, label in enumerate(self.labels)
        ]
        width = self.size.width
        # A heading is one line: its column is never narrower than it.
        floors = [max(MIN_WIDTH, text_width(label)) for label in self.labels]
        widths = fit_widths(natural, self._room(), floors) if width > 0 else natural
        self._laid_out_for = width
        self.clear(columns=True)
        for label, w in zip(self.labels, widths, strict=True):
            self.add_column(label, width=w, key=label.plain)
        for key, cells in self.data:
            # height=None: as many lines as the wrapped cells need.
            self.add_row(*(wrap_cell(c, w) for c, w in zip(cells, widths, strict=False)), key=key, height=None)
        if self.data:
            self.move_cursor(row=min(max(row, 0), len(self.data) - 1))


__all__ = ["FitTable", "as_text", "fit_widths", "text_width", "wrap_cell"]
