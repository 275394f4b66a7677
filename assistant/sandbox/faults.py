"""Fault injection for the sandbox's AWS endpoint: throttling, 5xx and added latency.

Decisions come from one seeded ``random.Random`` so a run with a seed is reproducible when its
requests arrive in the same order.

In process, a :class:`FaultConfig` can also carry an ``after_call`` hook: the front calls it
once a request has been carried out and before its answer is sent. The crash drill uses it to
kill a client between an AWS call taking effect and the client hearing about it.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any


@dataclass(frozen=True)
class AwsCall:
    """One AWS request the sandbox has carried out, as an ``after_call`` hook sees it."""

    service: str  # the SigV4 signing service: ec2, iam, eks, sts, ...
    operation: str  # e.g. CreateVpc; "" when the request names none the front can read
    status: int  # HTTP status of the answer about to be sent
    mutating: bool  # the operation can change the account (by eks-assist's guard's rule)

    @property
    def applied(self) -> bool:
        """A mutating call that succeeded: its change is in the sandbox now."""
        return self.mutating and self.status < 400


# Runs in the request's server thread, after the call took effect, before the answer leaves.
# It may block (the client waits for its answer meanwhile); what it raises becomes a 500.
AfterCall = Callable[[AwsCall], None]


@dataclass(frozen=True)
class FaultConfig:
    """Rates (0..1) of throttled and 5xx answers, plus latency added to every AWS request."""

    throttle: float = 0.0
    error5xx: float = 0.0
    latency_ms: int = 0
    seed: int | None = None
    # In-process only: not part of to_dict()/from_dict(), so the HTTP control endpoint never
    # sets it and a config posted there drops it.
    after_call: AfterCall | None = field(default=None, compare=False, repr=False)

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
        if self.after_call is not None and not callable(self.after_call):
            raise ValueError(f"after_call must be callable, got {self.after_call!r}")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FaultConfig:
        """Build from JSON-ish data; unknown keys are an error, not silently dropped."""
        unknown = set(data) - {"throttle", "error5xx", "latency_ms", "seed"}
        if unknown:
            raise ValueError(f"unknown fault setting(s): {', '.join(sorted(unknown))}")
        return cls(**dict(data))

    def to_dict(self) -> dict[str, Any]:
        """The config as plain data (without the in-process ``after_call`` hook)."""
        return {"throttle": self.throttle, "error5xx": self.error5xx, "latency_ms": self.latency_ms, "seed": self.seed}


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

    def after_call(self, call: AwsCall) -> None:
        """Tell the configured hook, if any, that ``call`` has been carried out."""
        hook = self._config.after_call
        if hook is not None:
            hook(call)

    @property
    def observing(self) -> bool:
        """True when a hook wants to hear about calls (the front then reads each request's operation)."""
        return self._config.after_call is not None

    def counts(self) -> dict[str, int]:
        """How many AWS requests arrived and how many of each fault were injected."""
        with self._lock:
            return dict(self._counts)
