"""The day version support is judged on: the UTC date, or EKS_ASSIST_TODAY."""

from __future__ import annotations

import datetime as dt

import pytest

from assistant.clock import TODAY_ENV, today
from assistant.errors import InputError


def test_pinned_day(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TODAY_ENV, "2026-07-29")
    assert today() == dt.date(2026, 7, 29)


def test_default_is_the_utc_date(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TODAY_ENV)
    before = dt.datetime.now(dt.UTC).date()
    got = today()
    assert before <= got <= dt.datetime.now(dt.UTC).date()  # a midnight in between is fine


def test_a_bad_value_is_input_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TODAY_ENV, "tomorrow")
    with pytest.raises(InputError, match="EKS_ASSIST_TODAY: expected a date like 2026-07-29, got 'tomorrow'") as exc:
        today()
    assert exc.value.exit_code == 2
