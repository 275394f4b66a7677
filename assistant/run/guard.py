"""The mutation guard: a botocore ``before-call`` hook that refuses every AWS operation that
is not read-only unless it runs inside an approved apply.

The apply context is a :class:`contextvars.ContextVar`, so it follows the code that the
runner executes on its worker threads (the runner copies the context into each thread)
and nothing else: a plan running concurrently in the same process stays read-only.

Inside an apply the same hooks also keep each service's calls within the run's parallelism
(:class:`~assistant.run.gates.ServiceGates`): a place is taken just before the request goes
out and given back when its answer (or error) is in.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from assistant.errors import GuardViolation
from assistant.run.gates import ServiceGates

READ_PREFIXES = ("Describe", "List", "Get", "Search", "Lookup", "Check", "Batch Get")
# Operations that change nothing in the account but are not named like reads.
READ_ONLY_EXTRA = {
    ("sts", "AssumeRole"),
    ("sts", "AssumeRoleWithWebIdentity"),
    ("sts", "AssumeRoleWithSAML"),
    ("sts", "DecodeAuthorizationMessage"),
    ("sts", "GetCallerIdentity"),
    ("sts", "GetSessionToken"),
    ("iam", "SimulatePrincipalPolicy"),
}


def is_read_only(service: str, operation: str) -> bool:
    """True for operations that cannot change anything in the account."""
    if (service, operation) in READ_ONLY_EXTRA:
        return True
    # "Get" also prefixes a few writes in other services; none of IAM/EC2/EKS/STS do.
    return operation.startswith(READ_PREFIXES)


@dataclass
class ApplyScope:
    """An approved apply in progress: which plan, and the mutating calls it has made."""

    plan_hash: str
    run_id: str
    calls: list[dict[str, Any]] = field(default_factory=list)
    # Retries botocore made (throttling, 5xx) for every call in the apply, reads included.
    retries: int = 0
    # The apply's per-service limits on calls in flight; None places no limit.
    gates: ServiceGates | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add_retries(self, attempts: int) -> None:
        """Count ``attempts`` more retries (called from the step threads)."""
        with self._lock:
            self.retries += attempts


_SCOPE: contextvars.ContextVar[ApplyScope | None] = contextvars.ContextVar("eks_assist_apply_scope", default=None)


@contextlib.contextmanager
def approved_apply(plan_hash: str, run_id: str, gates: ServiceGates | None = None) -> Iterator[ApplyScope]:
    """Allow mutating calls in this context (and contexts copied from it), each service's within ``gates``."""
    scope = ApplyScope(plan_hash, run_id, gates=gates)
    token = _SCOPE.set(scope)
    try:
        yield scope
    finally:
        _SCOPE.reset(token)


def current_scope() -> ApplyScope | None:
    return _SCOPE.get()


def _service_of(model: Any) -> str:
    return str(model.service_model.service_name if hasattr(model, "service_model") else "")


def _before_call(model: Any, params: Any = None, context: Any = None, **_: Any) -> None:
    service = model.service_model.endpoint_prefix
    op = model.name
    if is_read_only(service, op):
        return
    scope = _SCOPE.get()
    if scope is None:
        raise GuardViolation(
            f"refused {service}:{op}: mutating AWS calls are only allowed inside an approved apply (plan is read-only)"
        )
    scope.calls.append({"service": service, "operation": op})


# Where a request's context (a dict botocore hands to every hook of one call) records the
# service whose place the call took: after-call-error names no operation model.
_GATED = "eks_assist_gated_service"


def _take_place(model: Any, context: Any = None, **_: Any) -> None:
    scope = _SCOPE.get()
    if scope is None or scope.gates is None or not isinstance(context, dict):
        return
    service = model.service_model.endpoint_prefix
    scope.gates.acquire(service)
    context[_GATED] = service


def _give_back_place(context: Any = None, **_: Any) -> None:
    scope = _SCOPE.get()
    service = context.pop(_GATED, None) if isinstance(context, dict) else None
    if scope is not None and scope.gates is not None and service:
        scope.gates.release(service)


def _after_call(http_response: Any, parsed: Any, model: Any, **_: Any) -> None:
    scope = _SCOPE.get()
    if scope is None:
        return
    meta = parsed.get("ResponseMetadata", {}) if isinstance(parsed, dict) else {}
    if meta.get("RetryAttempts"):
        scope.add_retries(int(meta["RetryAttempts"]))
    if is_read_only(model.service_model.endpoint_prefix, model.name):
        return
    request_id = _request_id(meta)
    for call in reversed(scope.calls):
        if call["operation"] == model.name and "requestId" not in call:
            call["requestId"] = request_id
            break


def _request_id(meta: dict[str, Any]) -> str | None:
    """The id AWS gave the response, for support cases; None when the response carries none.

    botocore puts it in ``ResponseMetadata.RequestId`` from the body (query and EC2 protocols) or
    the ``x-amzn-RequestId`` header (JSON and REST); S3-style services name the header
    ``x-amz-request-id``. Never a made-up value: an empty id is recorded as none.
    """
    headers = meta.get("HTTPHeaders") or {}
    for value in (meta.get("RequestId"), headers.get("x-amzn-requestid"), headers.get("x-amz-request-id")):
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def install(botocore_session: Any) -> None:
    """Register the guard on a botocore session (every client made from it is guarded)."""
    botocore_session.register("before-call", _before_call, unique_id="eks-assist-guard")
    botocore_session.register("after-call", _after_call, unique_id="eks-assist-guard-audit")
    # The place is taken after every other before-call hook, so one that refuses the call (the
    # guard's, say) leaves nothing taken, and given back ahead of the other generic after-call
    # hooks. Should a release still be missed, ServiceGates reuses the place the thread holds.
    events = botocore_session.get_component("event_emitter")
    events.register_last("before-call", _take_place, unique_id="eks-assist-gate")
    events.register_first("after-call", _give_back_place, unique_id="eks-assist-gate-return")
    events.register_first("after-call-error", _give_back_place, unique_id="eks-assist-gate-return-error")
