"""README's Quickstart has exactly two commands, and .ci/run runs the second one verbatim."""

from __future__ import annotations

import re

from ..conftest import REPO


def _quickstart_commands() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    return [c.strip() for c in re.findall(r"```\n(.*?)\n\s*```", section, re.S)]


def test_quickstart_has_two_commands() -> None:
    cmds = _quickstart_commands()
    assert len(cmds) == 2
    assert "--sandbox" in cmds[0] and cmds[0].endswith(".venv/bin/eks-assist --sandbox")  # ends in the wizard
    assert "pytest" in cmds[1]


def test_ci_runs_the_readme_test_command() -> None:
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    m = re.search(r"^TEST_CMD='(.*)'$", ci, re.M)
    assert m, "TEST_CMD not found in .ci/run"
    assert m.group(1) == _quickstart_commands()[1]


def test_readme_lists_every_action_and_playbook() -> None:
    from assistant.actions import registry
    from assistant.playbook import available

    text = (REPO / "README.md").read_text(encoding="utf-8")
    for name in registry.names():
        assert f"`{name}`" in text, name
    for pb in available():
        assert f"`{pb}`" in text, pb
