"""Fixtures for the authentication tests: the in-process CLI runner."""

from __future__ import annotations

from ..cli.conftest import cli  # noqa: F401 - re-exported fixture
