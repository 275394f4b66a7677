"""Hypothesis settings for the fuzz drills: a bounded, seeded "ci" profile and a "long" one.

``EKS_ASSIST_FUZZ_PROFILE`` picks the profile: ``ci`` (the default) runs a fixed number of
examples per property, seeded from :func:`tests.drill_report.seed`, so a CI failure replays
exactly; ``long`` runs twenty times as many (times ``EKS_ASSIST_DRILL_SCALE``) for a local soak.
Neither writes hypothesis's example database: nothing lands in the repository, and every
failure found is kept as an explicit ``@example`` or regression test instead. For example::

    EKS_ASSIST_FUZZ_PROFILE=long EKS_ASSIST_DRILL_SEED=7 pytest -n 4 tests/security -k fuzz

Each target runs its properties in one test and records one figure (:class:`Tally`), so the
figure is whole under pytest-xdist too.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import seed as hypothesis_seed

from tests.drill_report import record, scale, scaled, seed

PROFILE_ENV = "EKS_ASSIST_FUZZ_PROFILE"
LONG_FACTOR = 20

_COMMON: dict[str, Any] = {
    "deadline": None,  # shared 2-core CI boxes are noisy; a hang is caught by pytest-timeout instead
    "database": None,
    "print_blob": True,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
}
settings.register_profile("ci", max_examples=100, **_COMMON)
settings.register_profile("long", max_examples=100 * LONG_FACTOR, **_COMMON)

F = TypeVar("F", bound=Callable[..., Any])


def profile() -> str:
    """The profile in use: ``ci`` unless ``EKS_ASSIST_FUZZ_PROFILE`` says ``long``."""
    name = os.environ.get(PROFILE_ENV, "ci")
    if name not in ("ci", "long"):
        raise ValueError(f"{PROFILE_ENV} must be 'ci' or 'long', got {name!r}")
    return name


def _timeout() -> pytest.MarkDecorator:
    # The suite's 300 s per test fits the CI size with room to spare; a long run takes longer.
    return pytest.mark.timeout(300 * scale() * (LONG_FACTOR if profile() == "long" else 1))


def examples(n: int) -> int:
    """How many examples a property with CI size ``n`` runs under the current profile and scale."""
    return scaled(n) * (LONG_FACTOR if profile() == "long" else 1)


def fuzz(n: int, offset: int) -> Callable[[F], F]:
    """Settings for one property: ``n`` examples at CI size, seeded with ``seed(offset)``."""

    def wrap(fn: F) -> F:
        configured = settings(settings.get_profile(profile()), max_examples=examples(n))(fn)
        return hypothesis_seed(seed(offset))(configured)

    return wrap


#: Mark for a fuzz target's test: a time limit that grows with the profile and the scale.
TIMEOUT = _timeout()


@dataclass
class Tally:
    """What one fuzz target ran: examples per outcome, slowest example, unexpected failures."""

    drill: str
    faults: str
    outcomes: dict[str, int] = field(default_factory=dict)
    failures: int = 0
    slowest: float = 0.0

    @property
    def runs(self) -> int:
        return sum(self.outcomes.values())

    @contextmanager
    def example(self) -> Iterator[None]:
        """Time one example; an exception escaping it is an unexpected failure (hypothesis shrinks it)."""
        t0 = time.monotonic()
        try:
            yield
        except Exception as exc:
            # hypothesis steers generation with its own exceptions (assume(), overruns); not failures.
            if not type(exc).__module__.startswith("hypothesis"):
                self.failures += 1
            raise
        finally:
            self.slowest = max(self.slowest, time.monotonic() - t0)

    def count(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1

    def record(self, failed: str | None = None, **extra: Any) -> dict[str, Any]:
        """Record the figures once, at the end of the target (``failed`` names the property that failed)."""
        outcome = f"FAILED in {failed}" if failed else "no unexpected exception"
        return record(
            self.drill,
            runs=self.runs,
            faults=self.faults,
            outcome=outcome,
            examples=self.runs,
            failures=self.failures,
            slowest_example_ms=round(self.slowest * 1000),
            **{k.replace(" ", "_"): v for k, v in sorted(self.outcomes.items())},
            **extra,
        )


def run_properties(
    tally: Tally, properties: list[Callable[[], None]], extra: Callable[[], dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Run each hypothesis property in turn, then record the tally once (also when one fails).

    ``extra`` adds figures computed at the end (e.g. a secrets scan), failed or not.
    """
    failed: str | None = None
    try:
        for prop in properties:
            failed = prop.__name__
            prop()
        failed = None
    finally:
        entry = tally.record(failed, **(extra() if extra else {}))
    assert tally.failures == 0
    assert tally.runs >= len(properties)
    return entry
