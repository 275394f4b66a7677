"""How a step's or a run's status is coloured, the same on the progress and the outcome screens."""

from __future__ import annotations

STATUS_STYLE = {
    "waiting": "dim",
    "running": "bold yellow",
    "done": "green",
    "failed": "bold red",
    "skipped": "magenta",
    "pending": "dim",
    "applying": "yellow",
}
