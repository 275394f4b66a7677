"""The mutation guard for Kubernetes: the counterpart of :mod:`assistant.run.guard` for API servers.

Every Kubernetes client eks-assist builds refuses a write (any method but GET, HEAD and
OPTIONS) unless it runs inside an approved apply, and records the writes it lets through with
the apply's AWS calls for the audit log. Plans, access checks and status reads therefore stay
read-only on clusters as well as in AWS.

Inside an apply, each request also holds one of the run's places for the service
``kubernetes`` (see :mod:`assistant.run.gates`), as an AWS call holds one for its service.
"""

from __future__ import annotations

import functools
import urllib.parse
from typing import Any

from assistant.errors import GuardViolation
from assistant.run.guard import current_scope

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def check(method: str, url: str) -> None:
    """Refuse a Kubernetes write outside an approved apply; note it in the apply's calls inside one."""
    verb = method.upper()
    if verb in READ_METHODS:
        return
    path = urllib.parse.urlsplit(url).path
    scope = current_scope()
    if scope is None:
        raise GuardViolation(
            f"refused Kubernetes {verb} {path}: writes to a cluster are only allowed inside an approved apply (plan is read-only)"
        )
    scope.calls.append({"service": "kubernetes", "operation": f"{verb} {path}"})


@functools.cache
def _client_class() -> type:
    # Built on first use: importing ``kubernetes`` costs ~0.75 s and most commands never need it.
    import kubernetes.client

    class GuardedApiClient(kubernetes.client.ApiClient):
        """An ApiClient that asks the guard before each request."""

        def call_api(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            check(method, url)
            scope = current_scope()
            if scope is None or scope.gates is None:
                return super().call_api(method, url, *args, **kwargs)
            with scope.gates.hold("kubernetes"):
                return super().call_api(method, url, *args, **kwargs)

    return GuardedApiClient


def api_client(configuration: Any) -> Any:
    """A ``kubernetes.client.ApiClient`` for ``configuration`` whose every request passes :func:`check`."""
    return _client_class()(configuration)
