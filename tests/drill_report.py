"""Figures from the reliability and security drills: recorded by each drill, printed as one table.

A drill calls :func:`record` with its figures. The record goes to stdout, for ``pytest -s``,
and to a JSON-lines file under ``.drill-report/``. The root conftest prints every record as
a table at the end of the session, and that works under pytest-xdist too, where a worker's
stdout is not shown. ``docs/reliability.md`` keeps the table of the latest figures.

Drills are bounded and seeded. Two environment variables make the longer local runs:

- ``EKS_ASSIST_DRILL_SCALE``: multiplies runs, inputs, examples and durations. It defaults
  to 1, the CI size; for example, 10 runs 300 fault-soak applies.
- ``EKS_ASSIST_DRILL_SEED``: the base seed. It defaults to 20261124, so a failure can be
  replayed exactly.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

REPORT_DIR = Path(__file__).resolve().parent.parent / ".drill-report"
DEFAULT_SEED = 20261124


def scale() -> float:
    """The drill size multiplier (``EKS_ASSIST_DRILL_SCALE``, default 1)."""
    raw = os.environ.get("EKS_ASSIST_DRILL_SCALE", "1")
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"EKS_ASSIST_DRILL_SCALE must be a number, got {raw!r}") from None
    if not (math.isfinite(value) and 0 < value <= 1000):
        raise ValueError(f"EKS_ASSIST_DRILL_SCALE must be between 0 and 1000, got {raw!r}")
    return value


def scaled(n: float, minimum: int = 1) -> int:
    """``n`` times the drill scale, rounded, and at least ``minimum``."""
    return max(minimum, round(n * scale()))


def seed(offset: int = 0) -> int:
    """The drill seed (``EKS_ASSIST_DRILL_SEED``, default 20261124), plus ``offset``."""
    raw = os.environ.get("EKS_ASSIST_DRILL_SEED", str(DEFAULT_SEED))
    try:
        return int(raw) + offset
    except ValueError:
        raise ValueError(f"EKS_ASSIST_DRILL_SEED must be an integer, got {raw!r}") from None


def record(drill: str, *, runs: int, faults: str, outcome: str, **figures: Any) -> dict[str, Any]:
    """Record one drill's result: how many runs, which faults, the outcome, and its figures."""
    entry = {
        "drill": drill,
        "runs": runs,
        "faults": faults,
        "outcome": outcome,
        "figures": figures,
        "scale": scale(),
        "seed": seed(),
    }
    line = json.dumps(entry, sort_keys=True, default=str)
    print(f"DRILL {line}")
    REPORT_DIR.mkdir(exist_ok=True)
    with (REPORT_DIR / f"{os.getpid()}.jsonl").open("a", encoding="utf-8") as fh:
        fh.write(line + "\n")
    return entry


def clear() -> None:
    """Forget earlier sessions' records (called once, by the controlling pytest process)."""
    if REPORT_DIR.is_dir():
        for path in REPORT_DIR.glob("*.jsonl"):
            path.unlink(missing_ok=True)


def entries() -> list[dict[str, Any]]:
    """Every record of this session, sorted by drill name."""
    out: list[dict[str, Any]] = []
    if REPORT_DIR.is_dir():
        for path in sorted(REPORT_DIR.glob("*.jsonl")):
            out += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return sorted(out, key=lambda e: e["drill"])


def table(rows: list[dict[str, Any]]) -> list[str]:
    """The records as Markdown table lines, the same shape as docs/reliability.md."""
    lines = ["| drill | runs | faults injected | outcome | figures |", "|---|---|---|---|---|"]
    for e in rows:
        figures = ", ".join(f"{k}={v}" for k, v in e["figures"].items())
        lines.append(f"| {e['drill']} | {e['runs']} | {e['faults']} | {e['outcome']} | {figures} |")
    return lines
