"""Fault injection for the sandbox's AWS endpoint: throttling, 5xx and added latency.

Decisions come from one seeded ``random.Random`` so a run with a seed is reproducible when its
requests arrive in the same order.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from enum import Enum
from typing import Any


@dataclass(frozen=True)
class FaultConfig:
    """Rates (0..1) of throttled and 5xx answers, plus latency added to every AWS request."""

    throttle: float = 0.0
    error5xx: float = 0.0
    latency_ms: int = 0
    seed: int | None = None

    def __post_init__(self) -> None:
        for name in ("throttle", "error5xx"):
            rate = getattr(self, name)
            if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0.0 <= rate <= 1.0:
                raise ValueError(f"fault rate {name} must be a number between 0 and 1, got {rate!r}")
        if self.throttle + self.error5xx > 1.0:
            raise ValueError(f"throttle + error5xx must not exceed 1, got {self.throttle} + {self.error5xx}")
        if isinstance(self.latency_ms, bool) or not isinstance(self.latency_ms, int) or self.latency_ms < 0:
            raise ValueError(f"latency_ms must be a whole number >= 0, got {self.latency_ms!r}")
        if self.seed is not None and (isinstance(self.seed, bool) or not isinstance(self.seed, int)):
            raise ValueError(f"seed must be an integer or null, got {self.seed!r}")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FaultConfig:
        """Build from JSON-ish data; unknown keys are an error, not silently dropped."""
        unknown = set(data) - {"throttle", "error5xx", "latency_ms", "seed"}
        if unknown:
            raise ValueError(f"unknown fault setting(s): {', '.join(sorted(unknown))}")
        return cls(**dict(data))

    def to_dict(self) -> dict[str, Any]:
        """The config as plain data."""
        return asdict(self)


class Fault(Enum):
    """What the injector decided to do to one request, besides latency."""

    THROTTLE = "throttle"
    ERROR_5XX = "error5xx"


class FaultInjector:
    """Thread-safe dice and counters for fault injection."""

    def __init__(self, config: FaultConfig | None = None) -> None:
        self._lock = threading.Lock()
        self._config = FaultConfig()
        self._rng = random.Random()
        self._counts = {"requests": 0, "throttle": 0, "error5xx": 0, "latency": 0}
        self.configure(config or FaultConfig())

    @property
    def config(self) -> FaultConfig:
        """The configuration in force."""
        return self._config

    def configure(self, config: FaultConfig) -> None:
        """Replace the configuration; a seed restarts the dice so the sequence is reproducible."""
        with self._lock:
            self._config = config
            self._rng = random.Random(config.seed)

    def decide(self) -> tuple[Fault | None, float]:
        """Roll for one AWS request: the fault to answer with (or None) and seconds of delay."""
        with self._lock:
            cfg = self._config
            self._counts["requests"] += 1
            delay = cfg.latency_ms / 1000.0
            if delay:
                self._counts["latency"] += 1
            if not (cfg.throttle or cfg.error5xx):
                return None, delay
            roll = self._rng.random()
            if roll < cfg.throttle:
                self._counts["throttle"] += 1
                return Fault.THROTTLE, delay
            if roll < cfg.throttle + cfg.error5xx:
                self._counts["error5xx"] += 1
                return Fault.ERROR_5XX, delay
            return None, delay

    def counts(self) -> dict[str, int]:
        """How many AWS requests arrived and how many of each fault were injected."""
        with self._lock:
            return dict(self._counts)
