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

# Verbs whose first argument is a cluster name, and what EKS accepts as one.
_CLUSTER_FIRST = ("status", "access", "map-role", "destroy", "unlock")
_CLUSTER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}")
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


def _shown(ch: str) -> str:
    if ch.isprintable():
        return ch
    return f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}"


def _word(token: str) -> str:
    m = _LINK.match(token)
    if m:
        token = m.group(1)
        # Slack turns mailto: and http links into <mailto:x|x>; a plain value is what was typed.
        token = token.removeprefix("mailto:")
    word = html.unescape(token)
    # An escaped space or line break (&#10;), or a control or invisible character, would smuggle a second word
    # or a line into one argument, and an empty link (<|x>) would be an empty one.
    if not word or any(ch.isspace() or not ch.isprintable() for ch in word):
        shown = "".join(_shown(ch) for ch in token[:40]) + ("…" if len(token) > 40 else "")
        raise InputError(f"'{shown}' is not a plain word: arguments cannot be empty or hold spaces or control characters")
    return word


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
    if verb in _CLUSTER_FIRST and args and not _CLUSTER.fullmatch(args[0]):
        # Checked here, in the ack: a name like '../x' otherwise reached AWS and came back as an HTML 404.
        shown = args[0] if len(args[0]) <= 80 else args[0][:80] + "…"
        raise InputError(
            f"{shown!r} is not an EKS cluster name (1-100 letters, digits, '-' and '_', starting with a letter or digit)"
        )
    return Command(verb, tuple(args))
