"""Security drill fixtures: the real CLI in-process, shared with tests/cli."""

from __future__ import annotations

from ..cli.conftest import cli  # noqa: F401 - re-exported fixture
