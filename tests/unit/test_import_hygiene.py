"""The engine never imports the UI toolkits, and --help stays light."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import assistant

ENGINE = Path(assistant.__file__).parent


def test_engine_sources_never_import_ui_toolkits_or_front_ends() -> None:
    offenders = []
    for path in ENGINE.rglob("*.py"):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            stripped = line.strip()
            front_end = re.search(r"\b(textual|slack_bolt|slack_sdk|tui|slackbot)\b", stripped)
            if stripped.startswith(("import ", "from ")) and front_end:
                offenders.append(f"{path}:{n}: {stripped}")
    assert offenders == []


def test_importing_every_engine_module_loads_no_ui_toolkit() -> None:
    code = (
        "import importlib, pkgutil, sys, assistant\n"
        "for m in pkgutil.walk_packages(assistant.__path__, 'assistant.'):\n"
        "    if not m.name.endswith('__main__'):\n"
        "        importlib.import_module(m.name)\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'slack_bolt', 'slack_sdk')]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == ""


def test_help_path_imports_no_heavy_library() -> None:
    code = (
        "import sys\n"
        "from assistant.cli import main as cli\n"
        "cli.build_parser().format_help()\n"
        "heavy = [m for m in ('boto3', 'botocore', 'kubernetes', 'moto', 'pydantic', 'yaml', 'cryptography') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
