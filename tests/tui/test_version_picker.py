"""The Masters screen's version picker shows each version's support status as EKS reports it today.

It used to read the deprecated lowercase ``status`` (which showed "standard-support" for 1.33
long after its standard support ended, as the sandbox never moved it on). It now shows
``versionStatus`` in words, with the day that status ends.
"""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import OptionList, Select

from assistant.sandbox import Sandbox

from .conftest import run, settle, test_app, wait_for, wait_screen


def _options(pilot: Pilot[Any]) -> list[str]:
    overlay = pilot.app.screen.query_one("#version", Select).query_one(OptionList)
    return [str(overlay.get_option_at_index(i).prompt) for i in range(overlay.option_count)]


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (
            "2026-12-05",  # the day of the field report: 1.33 left standard support on 2026-07-29
            [
                "1.35  (standard support until 2027-03-27)  default",
                "1.34  (extended support until 2027-12-02)",
                "1.33  (extended support until 2027-07-29)",
                "1.32  (extended support until 2027-03-23)",
            ],
        ),
        (
            "2025-12-01",
            [
                "1.34  (standard support until 2026-12-02)",
                "1.33  (standard support until 2026-07-29)  default",
                "1.32  (standard support until 2026-03-23)",
                "1.31  (extended support until 2026-11-26)",
                "1.30  (extended support until 2026-07-23)",
                "1.29  (extended support until 2026-03-23)",
            ],
        ),
    ],
    ids=["2026-12-05", "2025-12-01"],
)
def test_version_picker_shows_the_status_of_the_day(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, day: str, expected: list[str]
) -> None:
    monkeypatch.setenv("EKS_ASSIST_TODAY", day)

    async def scenario() -> None:
        app = test_app()
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: app.conn is not None, what="the connection")
            await pilot.press("n")
            await wait_screen(pilot, "MastersScreen")
            await settle(pilot)
            await wait_for(pilot, lambda: len(_options(pilot)) > 1, what="the versions from EKS")
            # The spec's own version (1.33 by default) stays selected, whatever its status.
            assert _options(pilot) == expected
            assert pilot.app.screen.query_one("#version", Select).value == "1.33"

    run(scenario())
