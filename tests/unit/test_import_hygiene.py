"""The layout's rules (docs/architecture.md): who may import whom, no cycles, no private corridors, light --help."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import assistant

from . import import_graph

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


def _in(module: str, *packages: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


# The engine: assistant/ without its two entry rooms, the CLI and the sandbox.
ENTRY_ROOMS = ("assistant.cli", "assistant.sandbox")
FRONT_ENDS = ("tui", "slackbot", "textual", "slack_bolt", "slack_sdk")
# The front ends' option hooks: argparse-only modules that add the wizard's and the bot's options.
OPTION_HOOKS = {"tui.cli_hook", "slackbot.cli_args"}


def test_engine_imports_no_front_end_argparse_cli_or_sandbox() -> None:
    bad = [
        f"{imp.file.relative_to(import_graph.ROOT)}:{imp.line}: {imp.source} imports {imp.target}"
        for imp in import_graph.all_imports()
        if _in(imp.source, "assistant")
        and not _in(imp.source, *ENTRY_ROOMS)
        and (_in(imp.target, *FRONT_ENDS, *ENTRY_ROOMS) or imp.target == "argparse")
    ]
    assert bad == []


def test_sandbox_imports_no_front_end_and_only_its_entry_point_uses_the_cli() -> None:
    bad = [
        f"{imp.file.relative_to(import_graph.ROOT)}:{imp.line}: {imp.source} imports {imp.target}"
        for imp in import_graph.all_imports()
        if _in(imp.source, "assistant.sandbox")
        and (_in(imp.target, *FRONT_ENDS) or (_in(imp.target, "assistant.cli") and imp.source != "assistant.sandbox.__main__"))
    ]
    assert bad == []


def test_only_the_cli_its_entry_points_and_the_option_hooks_import_the_cli() -> None:
    allowed = OPTION_HOOKS | {"assistant.sandbox.__main__"}
    bad = [
        f"{imp.file.relative_to(import_graph.ROOT)}:{imp.line}: {imp.source} imports {imp.target}"
        for imp in import_graph.all_imports()
        if _in(imp.target, "assistant.cli") and not _in(imp.source, "assistant.cli") and imp.source not in allowed
    ]
    assert bad == []


def test_front_ends_do_not_import_each_other() -> None:
    bad = [
        f"{imp.file.relative_to(import_graph.ROOT)}:{imp.line}: {imp.source} imports {imp.target}"
        for imp in import_graph.all_imports()
        if (_in(imp.source, "tui") and _in(imp.target, "slackbot")) or (_in(imp.source, "slackbot") and _in(imp.target, "tui"))
    ]
    assert bad == []


def test_no_private_name_crosses_a_package_boundary() -> None:
    assert import_graph.private_crossings() == []


def test_no_import_cycles_between_modules() -> None:
    assert import_graph.cycles(import_graph.graph()) == []


def test_the_cycle_finder_finds_cycles() -> None:
    # A rule is only as good as its detector: a ring, a self-contained pair and a tail.
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"e"}, "e": {"d", "a"}, "f": {"a"}}
    assert sorted(import_graph.cycles(edges)) == [["a", "b", "c"], ["d", "e"]]
    assert import_graph.cycles({"a": {"b"}, "b": set()}) == []


def _loaded_after(code: str) -> set[str]:
    probe = code + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))\n"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120)
    import json

    return set(json.loads(out.stdout.splitlines()[-1]))


def test_importing_the_cli_loads_no_sandbox_planner_or_entry_point_scan() -> None:
    loaded = _loaded_after("import assistant.cli.main")
    assert {
        m for m in loaded if _in(m, "assistant.sandbox", "assistant.planning", "assistant.actions", "importlib.metadata")
    } == set()


def test_help_loads_no_sandbox_planner_or_engine() -> None:
    loaded = _loaded_after("from assistant.cli import main as cli\ncli.build_parser().format_help()")
    assert {
        m for m in loaded if _in(m, "assistant.sandbox", "assistant.planning", "assistant.actions", "assistant.engine")
    } == set()


def test_validate_loads_no_planner_actions_engine_sandbox_or_front_end() -> None:
    spec = Path(__file__).resolve().parents[2] / "examples" / "demo.yaml"
    loaded = _loaded_after(
        "import contextlib, io\n"
        "from assistant.cli import main as cli\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    assert cli.main(['validate', '-f', {str(spec)!r}]) == 0\n"
    )
    # Nor the entry-point scan (assistant.plugins); pydantic itself loads importlib.metadata.
    heavy = ("assistant.sandbox", "assistant.planning", "assistant.actions", "assistant.engine", "assistant.plugins")
    assert {m for m in loaded if _in(m, *heavy, "tui", "slackbot")} == set()
