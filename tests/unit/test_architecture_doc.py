"""docs/architecture.md names every room on disk, so the folder listing and the map agree."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")


def test_every_engine_room_and_module_is_on_the_map() -> None:
    engine = ROOT / "assistant"
    rooms = [f"assistant/{p.name}/" for p in sorted(engine.iterdir()) if (p / "__init__.py").exists()]
    modules = [p.name for p in sorted(engine.glob("*.py")) if p.name != "__init__.py"]
    missing = [name for name in rooms + modules if f"`{name}" not in DOC and f"{name}`" not in DOC]
    assert missing == []


def test_every_front_end_room_is_on_the_map() -> None:
    rooms = [
        f"{p.parent.name}/{p.name}/"
        for top in ("tui", "slackbot")
        for p in sorted((ROOT / top).iterdir())
        if (p / "__init__.py").exists()
    ]
    assert [r for r in ["tui/", "slackbot/", "playbooks/", "tests/", *rooms] if r.split("/")[-2] + "/" not in DOC] == []


def test_the_readme_links_the_map() -> None:
    assert "docs/architecture.md" in (ROOT / "README.md").read_text(encoding="utf-8")
