"""The contract every action implements: an argument schema, and read / plan / apply.

- ``read`` uses read-only API calls and returns the current state, or ``None`` if the
  resource does not exist.
- ``plan`` compares that state with the arguments and returns a :class:`Planned`: the op,
  before/after values (only fields we manage, never volatile ones such as status) and the
  outputs that later steps may reference (``Unknown`` where they exist only after apply).
- ``apply`` makes the mutating calls for that plan, idempotently, and returns the outputs.
- ``wait`` blocks until the resource is usable (e.g. ACTIVE), reporting progress.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from assistant.clients.local_sandbox import LocalSandbox
from assistant.planning.plan import Op, Unknown


class ActionArgs(BaseModel):
    """Base of every action's argument model: unknown arguments are errors."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, arbitrary_types_allowed=True)


@dataclass
class Planned:
    """What an action's ``plan`` decided for one step."""

    op: Op
    resource: str
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    reason: str = ""
    notes: list[str] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)


ProgressFn = Callable[[str, float | None], None]


def _no_progress(message: str, fraction: float | None = None) -> None:
    """The default :attr:`ActionContext.progress`: reports nowhere."""


@dataclass
class ActionContext:
    """What an action may use: AWS clients, identity, progress reporting and wait tuning."""

    client: Callable[[str], Any]
    account: str
    region: str
    step: str
    run_token: str = "plan"
    progress: ProgressFn = _no_progress
    poll_min: float = 2.0
    poll_max: float = 15.0
    wait_timeout: float = 3600.0
    cancelled: Callable[[], bool] = lambda: False
    # The boto3 session behind ``client``, for what needs credentials rather than a client
    # (signing an EKS token for the Kubernetes API).
    session: Any = None
    # The local sandbox the entry point runs against, if any (see assistant.clients.local_sandbox).
    sandbox: LocalSandbox | None = None

    def unknown(self, output: str) -> Unknown:
        """This step's output ``output``, which will be known after apply."""
        return Unknown(f"steps.{self.step}.{output}")

    def client_token(self, suffix: str = "") -> str:
        """A deterministic idempotency token per run and step, so a resumed run reuses it."""
        raw = f"{self.run_token}:{self.step}:{suffix}".encode()
        return hashlib.sha256(raw).hexdigest()[:32]


class Action:
    """Base class for actions. Subclasses set ``name``, ``Args`` and implement the phases."""

    name: ClassVar[str]
    summary: ClassVar[str]
    Args: ClassVar[type[ActionArgs]]
    permissions: ClassVar[tuple[str, ...]] = ()
    typical_seconds: ClassVar[float] = 0.0
    # Writes a file on the host that applies (a kubeconfig): not done where the front end says
    # the engine runs on a server (the Slack bot); see Engine.write_kubeconfig.
    writes_local_file: ClassVar[bool] = False

    def read(self, args: Any, ctx: ActionContext) -> dict[str, Any] | None:
        raise NotImplementedError

    def plan(self, args: Any, current: dict[str, Any] | None, ctx: ActionContext) -> Planned:
        raise NotImplementedError

    def apply(self, args: Any, planned: Planned, current: dict[str, Any] | None, ctx: ActionContext) -> dict[str, Any]:
        raise NotImplementedError

    def wait(self, args: Any, outputs: dict[str, Any], ctx: ActionContext) -> dict[str, Any]:
        return outputs
