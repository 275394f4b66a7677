"""The tree stays ruff clean (lint and format), so CI catches what a reviewer would."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from ..conftest import REPO


def _ruff() -> list[str]:
    exe = Path(sys.executable).parent / "ruff"
    return [str(exe)] if exe.exists() else [shutil.which("ruff") or "ruff"]


def test_ruff_check() -> None:
    r = subprocess.run([*_ruff(), "check", "--output-format", "concise", "."], cwd=REPO, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_ruff_format() -> None:
    r = subprocess.run([*_ruff(), "format", "--check", "."], cwd=REPO, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
