"""The approval policy: who may request and approve changes, where, and for how long.

One YAML file, shared by the Slack bot and ``eks-assist apply --request-approval slack``::

    channels: [C0PLATFORM]          # Slack channel IDs that commands are accepted from
    admins: [U0ADMIN]               # may release a cluster lock
    specs: ./specs                  # the spec catalogue (<name>.yaml), relative to this file
    approvalTtl: 1h                 # how long an approval request stays open
    unmatched: strictest            # names no glob matches: strictest (default), refuse, or an environment
    environments:                   # first environment whose clusters glob matches wins
      prod:
        clusters: ["prod-*"]
        approvers: {users: [U0ALICE, U0BOB], groups: [S0SRE]}
        requiredApprovals: 2
      dev:
        clusters: ["*"]
        approvers: {users: [U0ALICE, U0BOB, U0CAROL]}

The environment comes from the cluster name, not from anything the requester types, so a
prod cluster always gets prod's approvers whatever spec is submitted for it. But the requester
does pick the name, so a name must not escape its environment by its spelling. Globs match
ignoring case, and the name is read two ways: as written, and with ``-`` and ``_`` taken as the
same character (EKS allows both, and ``prod_db`` reads as ``prod-db``). Each reading gets the
first environment in the file that matches it, and the request goes to the **strictest** of
those (:meth:`Policy.strictness`): most required
approvals, then the shortest approval TTL, then the one listed first. A name no glob matches
goes where ``unmatched`` says; by default to the strictest environment of the policy.
"""

from __future__ import annotations

import difflib
import fnmatch
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from assistant.errors import InputError
from assistant.spec.problems import problems_from
from assistant.spec.source import Locator, load_file

_DURATION = re.compile(r"^(\d+)(s|m|h|d)$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")
_SLACK_GROUP = re.compile(r"^S[A-Z0-9]{2,}$")
_SLACK_CHANNEL = re.compile(r"^[CG][A-Z0-9]{2,}$")
MAX_TTL = 7 * 86400
# What `unmatched` may say besides an environment's name; so no environment may be called that.
UNMATCHED_RULES = ("strictest", "refuse")


def duration_seconds(text: str) -> int:
    """``"90s"``, ``"30m"``, ``"2h"``, ``"1d"`` as seconds; ValueError with the accepted form otherwise."""
    m = _DURATION.match(text.strip())
    if not m:
        raise ValueError(f"'{text}' is not a duration: use a whole number with s, m, h or d (e.g. 30m, 2h)")
    seconds = int(m.group(1)) * _UNITS[m.group(2)]
    if not 60 <= seconds <= MAX_TTL:
        raise ValueError(f"'{text}' is out of range: an approval must stay open between 1m and 7d")
    return seconds


def _ids(values: list[str], pattern: re.Pattern[str], what: str, example: str) -> list[str]:
    for v in values:
        if not pattern.match(v):
            raise ValueError(f"'{v}' is not a Slack {what} ID (like {example}); use IDs, not display names")
    if len(set(values)) != len(values):
        raise ValueError(f"duplicate {what} IDs")
    return values


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Approvers(_Model):
    """Slack users and user groups allowed to approve in one environment."""

    users: list[str] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list)

    @field_validator("users")
    @classmethod
    def _users(cls, v: list[str]) -> list[str]:
        return _ids(v, _SLACK_USER, "user", "U012ABCDEF")

    @field_validator("groups")
    @classmethod
    def _groups(cls, v: list[str]) -> list[str]:
        return _ids(v, _SLACK_GROUP, "user group", "S012ABCDEF")

    @model_validator(mode="after")
    def _someone(self) -> Approvers:
        if not self.users and not self.groups:
            raise ValueError("approvers: list at least one user or group; nobody could approve otherwise")
        return self


class Environment(_Model):
    """Which clusters an environment covers, who approves there, and how many approvals it needs."""

    clusters: list[str] = Field(default_factory=lambda: ["*"], min_length=1)
    approvers: Approvers
    requiredApprovals: int = Field(default=1, ge=1, le=5)
    ttl: str | None = None

    @field_validator("ttl")
    @classmethod
    def _ttl(cls, v: str | None) -> str | None:
        if v is not None:
            duration_seconds(v)
        return v

    @model_validator(mode="after")
    def _enough_approvers(self) -> Environment:
        # With only named users, fewer users than required approvals could never reach quorum.
        if not self.approvers.groups and len(self.approvers.users) < self.requiredApprovals:
            raise ValueError(
                f"requiredApprovals is {self.requiredApprovals} but only {len(self.approvers.users)} approver(s) are listed"
            )
        return self


class Policy(_Model):
    """The whole policy file; see the module docstring for an example."""

    channels: list[str] = Field(min_length=1)
    admins: list[str] = Field(default_factory=list)
    specs: str | None = None
    approvalTtl: str = "1h"
    notifyChannel: str | None = None
    environments: dict[str, Environment]
    # After `environments`, so that its validator can see them.
    unmatched: str = "strictest"
    # Where the file was, so that ``specs`` resolves relative to it (not settable from the YAML).
    _base_dir: str = PrivateAttr(default=".")

    @field_validator("channels")
    @classmethod
    def _channels(cls, v: list[str]) -> list[str]:
        return _ids(v, _SLACK_CHANNEL, "channel", "C012ABCDEF")

    @field_validator("admins")
    @classmethod
    def _admins(cls, v: list[str]) -> list[str]:
        return _ids(v, _SLACK_USER, "user", "U012ABCDEF")

    @field_validator("notifyChannel")
    @classmethod
    def _notify(cls, v: str | None) -> str | None:
        if v is not None:
            _ids([v], _SLACK_CHANNEL, "channel", "C012ABCDEF")
        return v

    @field_validator("approvalTtl")
    @classmethod
    def _ttl(cls, v: str) -> str:
        duration_seconds(v)
        return v

    @field_validator("environments")
    @classmethod
    def _env_names(cls, v: dict[str, Environment]) -> dict[str, Environment]:
        if not v:
            raise ValueError("list at least one environment (with its clusters and approvers)")
        for name in v:
            if not re.match(r"^[a-z][a-z0-9-]{0,31}$", name):
                raise ValueError(f"environment name '{name}': use lowercase letters, digits and -, up to 32 characters")
            if name in UNMATCHED_RULES:
                raise ValueError(f"environment name '{name}' is reserved for the 'unmatched' setting; choose another name")
        return v

    @field_validator("unmatched")
    @classmethod
    def _unmatched(cls, v: str, info: ValidationInfo) -> str:
        environments = info.data.get("environments")
        if v in UNMATCHED_RULES or environments is None or v in environments:
            return v
        choices = [*UNMATCHED_RULES, *environments]
        close = difflib.get_close_matches(v, choices, n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        raise ValueError(
            f"'{v}' is not an environment of this policy; {hint}use strictest (the default), refuse, "
            f"or one of: {', '.join(environments)}"
        )

    def strictness(self, name: str) -> tuple[int, int, int]:
        """Sort key, larger is stricter: most required approvals, then shortest TTL, then listed first."""
        env = self.environments[name]
        return (env.requiredApprovals, -self.ttl_seconds(name), -list(self.environments).index(name))

    def environment_for(self, cluster: str) -> tuple[str, Environment]:
        """The environment that approves changes to ``cluster`` (see the module docstring).

        The strictest of the first matches of each reading of the name; when no glob matches,
        what ``unmatched`` says (InputError for ``refuse``).
        """
        matched = {name for read in _READINGS if (name := self._first_match(cluster, read)) is not None}
        if matched:
            name = max(matched, key=self.strictness)
        elif self.unmatched == "refuse":
            raise InputError(
                f"no environment in the approval policy covers cluster '{cluster}' "
                f"(environments: {', '.join(self.environments)}) and the policy says unmatched: refuse; "
                "nothing can approve it"
            )
        elif self.unmatched == "strictest":
            name = max(self.environments, key=self.strictness)
        else:
            name = self.unmatched
        return name, self.environments[name]

    def _first_match(self, cluster: str, read: Callable[[str], str]) -> str | None:
        for name, env in self.environments.items():
            if any(fnmatch.fnmatchcase(read(cluster), read(pattern)) for pattern in env.clusters):
                return name
        return None

    def ttl_seconds(self, env_name: str) -> int:
        """How long a request in ``env_name`` stays open."""
        env = self.environments[env_name]
        return duration_seconds(env.ttl or self.approvalTtl)

    @property
    def specs_dir(self) -> Path | None:
        """The spec catalogue directory, resolved against the policy file's directory."""
        if self.specs is None:
            return None
        return (Path(self._base_dir) / self.specs).resolve()

    @property
    def post_channel(self) -> str:
        """Where requests made outside Slack (CLI, TUI) are posted."""
        return self.notifyChannel or self.channels[0]

    def is_approver(self, env_name: str, user: str, groups: set[str] | None) -> bool:
        """True if ``user`` may approve in ``env_name``; ``groups=None`` (lookup failed) only trusts the user list."""
        who = self.environments[env_name].approvers
        if user in who.users:
            return True
        return bool(groups) and bool(set(who.groups) & set(groups or ()))


# The readings of a cluster name that environment globs are matched against; the strictest
# environment any of them reaches wins, so a spelling can only ever make a name stricter.
_READINGS: tuple[Callable[[str], str], ...] = (str.lower, lambda text: text.lower().replace("_", "-"))


def parse_policy(data: Any, locator: Locator, base_dir: str | Path = ".") -> Policy:
    """Validate parsed YAML into a :class:`Policy`; InputError with located problems otherwise."""
    if not isinstance(data, dict):
        raise InputError(locator.problem((), "the policy must be a mapping (channels, environments, ...)"))
    try:
        policy = Policy.model_validate(data)
    except ValidationError as exc:
        raise InputError(problems_from(exc, locator, Policy)) from None
    policy._base_dir = str(base_dir)
    return policy


def load_policy(path: str | Path) -> Policy:
    """Read and validate a policy file."""
    data, locator = load_file(path)
    return parse_policy(data, locator, Path(path).resolve().parent)
