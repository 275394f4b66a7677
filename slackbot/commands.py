"""``/eks`` slash-command text → a typed :class:`Command`, or a usage error.

Parsing is pure (no Slack, no AWS), so it is exhaustively unit-tested. Slack escapes ``&``,
``<`` and ``>`` in command text and may wrap things it recognises in ``<...|label>``; both are
undone here before the words are checked.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from assistant.errors import InputError

#: verb → (usage, what it does); the order is the order of ``/eks help``.
USAGE: dict[str, tuple[str, str]] = {
    "new": ("/eks new", "open a form for a new cluster; submitting plans it and posts it for approval"),
    "specs": ("/eks specs", "list the spec catalogue"),
    "plan": ("/eks plan <spec-name>", "show what applying a catalogue spec would change (read-only)"),
    "apply": ("/eks apply <spec-name>", "plan a catalogue spec and post it for approval"),
    "status": ("/eks status [cluster]", "a cluster's endpoint, version and node groups, or every cluster"),
    "runs": ("/eks runs", "the latest runs and change requests"),
    "access": ("/eks access check <cluster> <arn>", "which Kubernetes user and groups an IAM principal gets"),
    "map-role": ("/eks map-role <cluster> <role-arn> <group...>", "map an IAM role to Kubernetes groups (needs approval)"),
    "destroy": ("/eks destroy <cluster>", "tear down a cluster eks-assist created (needs approval)"),
    "locks": ("/eks locks", "which clusters are locked by a pending or running change"),
    "unlock": ("/eks unlock <cluster>", "release a stuck cluster lock (admins only)"),
    "help": ("/eks help", "this list"),
}

# Each verb's argument count: (min, max); None means "any number".
_ARITY: dict[str, tuple[int, int | None]] = {
    "new": (0, 0),
    "specs": (0, 0),
    "plan": (1, 1),
    "apply": (1, 1),
    "status": (0, 1),
    "runs": (0, 0),
    "access": (2, 2),  # after "check"
    "map-role": (3, None),
    "destroy": (1, 1),
    "locks": (0, 0),
    "unlock": (1, 1),
    "help": (0, 0),
}

_LINK = re.compile(r"^<([^|>]*)(?:\|[^>]*)?>$")
MAX_TEXT = 2000


@dataclass(frozen=True)
class Command:
    """One parsed ``/eks`` invocation."""

    verb: str
    args: tuple[str, ...] = ()

    @property
    def changes_something(self) -> bool:
        """Verbs that open a change request (and so need approval)."""
        return self.verb in ("new", "apply", "map-role", "destroy")


def _word(token: str) -> str:
    m = _LINK.match(token)
    if m:
        token = m.group(1)
        # Slack turns mailto: and http links into <mailto:x|x>; a plain value is what was typed.
        token = token.removeprefix("mailto:")
    return html.unescape(token)


def usage(verb: str) -> str:
    """``usage: /eks plan <spec-name>`` for one verb."""
    return f"usage: {USAGE[verb][0]}"


def help_text() -> str:
    """Every command, one per line."""
    width = max(len(u) for u, _ in USAGE.values())
    return "\n".join(f"{u:<{width}}  {what}" for u, what in USAGE.values())


def parse(text: str) -> Command:
    """Parse the text after ``/eks``; InputError with the right usage line for anything else."""
    if len(text) > MAX_TEXT:
        raise InputError(f"the command is too long ({len(text)} characters)")
    words = [_word(t) for t in text.split()]
    if not words:
        return Command("help")
    verb, args = words[0].lower(), words[1:]
    if verb not in USAGE:
        raise InputError(f"unknown command '{verb[:40]}'. Commands: {', '.join(USAGE)} (see /eks help)")
    if verb == "access":
        if not args or args[0].lower() != "check":
            raise InputError(usage("access"))
        args = args[1:]
    lo, hi = _ARITY[verb]
    if len(args) < lo or (hi is not None and len(args) > hi):
        raise InputError(usage(verb))
    return Command(verb, tuple(args))
