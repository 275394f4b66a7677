"""Front ends (the terminal wizard, the Slack bot) plug into ``eks-assist`` through entry points.

The engine names none of them: each front end declares an entry point in the
``eks_assist.frontends`` group (see pyproject.toml) naming a module that provides

- ``register(parser, subparsers)``: its options or verbs (argparse only, so ``--help`` stays fast);
- ``VERBS``: ``{verb: handler(args, ctx) -> exit code}`` for the verbs it added;
- optionally ``default(args, ctx)``: what ``eks-assist`` with no verb runs on a terminal;
- optionally ``notifier(channel)``: the module that posts change requests to ``channel``
  (``post_request``, ``post_text``, ``update_request``), or None if it is not theirs.
"""

from __future__ import annotations

import functools
from types import ModuleType
from typing import Any

from assistant.errors import InputError

GROUP = "eks_assist.frontends"


@functools.cache
def discover() -> tuple[ModuleType, ...]:
    """The installed front-end modules, in entry-point name order."""
    # Scanning the installed distributions costs tens of milliseconds: only when a front end is needed.
    from importlib.metadata import entry_points

    return tuple(ep.load() for ep in sorted(entry_points(group=GROUP), key=lambda ep: ep.name))


def notifier(channel: str) -> Any:
    """What posts change requests to ``channel`` (e.g. "slack"); InputError if no front end does."""
    for frontend in discover():
        found = frontend.notifier(channel) if hasattr(frontend, "notifier") else None
        if found is not None:
            return found
    raise InputError(f"--request-approval {channel}: no installed front end posts to {channel}")
