"""Reads within one plan are made once: a repeated read-only AWS call gets the first call's answer.

A plan asks the same question many times (every node-group step describes the cluster; the
preflight and the steps list the same access policies). :func:`caching_reads` opens a cache
for the code it wraps, and botocore hooks installed on the session (:func:`install`) answer a
read-only call whose operation and parameters were already seen in that cache, without a
request. The cache is a :class:`contextvars.ContextVar`, so it covers the planning thread and
the threads it hands copied contexts to, and nothing else: an apply's mutating calls, and
the reads that follow them, always go to AWS.

Only success and "not found" answers are kept: a throttling or server error is asked again.
Each hit gets its own deep copy, so a caller that edits an answer cannot change another's.
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from assistant.run.guard import is_read_only

# Where a call's botocore context carries its cache key, from parameter build to after-call.
_KEY = "eks_assist_read_key"
# Set on a call's context when the cache answered it, so after-call does not store it again.
_HIT = "eks_assist_read_hit"


@dataclass
class ReadCache:
    """The answers of one plan's read-only calls, by operation and parameters."""

    hits: int = 0
    misses: int = 0
    _answers: dict[str, tuple[Any, dict[str, Any]]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def get(self, key: str) -> tuple[Any, dict[str, Any]] | None:
        with self._lock:
            found = self._answers.get(key)
            if found is None:
                self.misses += 1
                return None
            self.hits += 1
        http, parsed = found
        answer = copy.deepcopy(parsed)
        meta = answer.get("ResponseMetadata")
        if isinstance(meta, dict):
            meta["RetryAttempts"] = 0  # the retries were the first call's, already counted
        return http, answer

    def put(self, key: str, http: Any, parsed: dict[str, Any]) -> None:
        with self._lock:
            self._answers.setdefault(key, (http, copy.deepcopy(parsed)))


_ACTIVE: contextvars.ContextVar[ReadCache | None] = contextvars.ContextVar("eks_assist_read_cache", default=None)


@contextlib.contextmanager
def caching_reads() -> Iterator[ReadCache]:
    """Answer repeated read-only calls in this context (and contexts copied from it) from one cache.

    Inside another :func:`caching_reads`, the outer cache is kept: a plan's preflight and its
    steps share their reads.
    """
    outer = _ACTIVE.get()
    if outer is not None:
        yield outer
        return
    cache = ReadCache()
    token = _ACTIVE.set(cache)
    try:
        yield cache
    finally:
        _ACTIVE.reset(token)


def _keep(http: Any, parsed: Any) -> bool:
    """Success, or an answer that says the thing does not exist: stable for one plan."""
    status = getattr(http, "status_code", 0)
    if 200 <= status < 300:
        return True
    code = str((parsed.get("Error") or {}).get("Code", "")) if isinstance(parsed, dict) else ""
    return 400 <= status < 500 and ("NotFound" in code or code.startswith("NoSuch"))


def _note_key(params: Any, model: Any, context: Any = None, **_: Any) -> None:
    if _ACTIVE.get() is None or not isinstance(context, dict):
        return
    service = model.service_model.endpoint_prefix
    if not is_read_only(service, model.name):
        return
    context[_KEY] = f"{service}:{model.name}:{json.dumps(params, sort_keys=True, default=str)}"


def _answer(model: Any, context: Any = None, **_: Any) -> tuple[Any, dict[str, Any]] | None:
    cache = _ACTIVE.get()
    if cache is None or not isinstance(context, dict) or _KEY not in context:
        return None
    found = cache.get(context[_KEY])
    if found is not None:
        context[_HIT] = True
    return found


def _store(http_response: Any, parsed: Any, context: Any = None, **_: Any) -> None:
    cache = _ACTIVE.get()
    if cache is None or not isinstance(context, dict) or _KEY not in context or context.get(_HIT):
        return
    if isinstance(parsed, dict) and _keep(http_response, parsed):
        cache.put(context[_KEY], http_response, parsed)


def install(botocore_session: Any) -> None:
    """Register the cache's hooks on a botocore session; they do nothing outside :func:`caching_reads`."""
    botocore_session.register("before-parameter-build", _note_key, unique_id="eks-assist-read-key")
    botocore_session.register("before-call", _answer, unique_id="eks-assist-read-answer")
    botocore_session.register("after-call", _store, unique_id="eks-assist-read-store")
