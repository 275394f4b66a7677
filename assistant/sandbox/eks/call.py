"""One EKS API call as the handlers see it."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from werkzeug.wrappers import Response

from assistant.sandbox.eks.errors import InvalidParameter
from assistant.sandbox.eks.lifecycle import Lifecycle


@dataclass
class EksCall:
    """Parameters, caller, the moto backend to act on, and the way through to moto itself."""

    operation: str
    params: dict[str, Any]
    access_key: str
    account_id: str
    region: str
    backend: Any  # moto.eks.models.EKSBackend for (account_id, region)
    lifecycle: Lifecycle
    forward: Callable[[], Response]  # hand the untouched request to moto
    today: Callable[[], dt.date]  # the sandbox's calendar: version support statuses follow it

    def get(self, name: str, default: Any = None) -> Any:
        """A parameter by its model member name."""
        value = self.params.get(name)
        return default if value is None else value


def page(items: list[Any], max_results: int | None, next_token: str | None) -> tuple[list[Any], str | None]:
    """One page of a list and the token for the next (opaque offsets, as EKS's are opaque)."""
    start = 0
    if next_token:
        try:
            start = int(base64.urlsafe_b64decode(next_token.encode()).decode())
        except ValueError:
            raise InvalidParameter("The nextToken provided is invalid.") from None
    limit = max_results or 100
    if not 1 <= limit <= 100:
        raise InvalidParameter("maxResults must be between 1 and 100.")
    end = start + limit
    token = base64.urlsafe_b64encode(str(end).encode()).decode() if end < len(items) else None
    return items[start:end], token
