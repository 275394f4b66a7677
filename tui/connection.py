"""Where the wizard works: one AWS context (region, profile), the run store, and who the caller is.

Switching region or profile on the Context screen opens a new :class:`Connection`; nothing
else in the wizard holds an AWS client, so a switch can never leave a stale one behind.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable
from dataclasses import dataclass

from assistant.clients.aws import AwsContext
from assistant.governance.policy import Policy
from assistant.store import Store, open_store

AwsFactory = Callable[[str | None, str | None], AwsContext]


def default_aws_factory(region: str | None, profile: str | None) -> AwsContext:
    """The CLI's AWS context: boto3's standard credential chain, guarded, standard retries.

    The wizard may run against a sandbox, so the engine gets the link that tells its endpoints.
    """
    from assistant.sandbox.link import SandboxLink

    return AwsContext(region=region, profile=profile, sandbox=SandboxLink())


@dataclass
class Connection:
    """An open AWS context plus the caller's identity from STS."""

    aws: AwsContext
    store: Store
    sandbox: bool
    account: str
    caller: str

    @classmethod
    def open(
        cls, region: str | None, profile: str | None, *, sandbox: bool, factory: AwsFactory, store: Store | None = None
    ) -> Connection:
        """Make the AWS context and ask STS who we are (network: call from a worker thread)."""
        aws = factory(region, None if sandbox else profile)
        account, caller = aws.identity()
        return cls(aws=aws, store=store or open_store(), sandbox=sandbox, account=account, caller=caller)

    @property
    def region(self) -> str:
        return self.aws.region

    @property
    def profile(self) -> str | None:
        return self.aws.profile

    @property
    def approver(self) -> str:
        """Who approves in this wizard: the local user and the AWS caller, as the CLI records it."""
        return f"{getpass.getuser()} ({self.caller})"

    def poll_bounds(self) -> tuple[float, float]:
        """(poll_min, poll_max) for waiters: quick on the sandbox, the CLI's defaults on AWS."""
        return (0.05, 0.25) if self.sandbox else (2.0, 15.0)


@dataclass(frozen=True)
class SlackRoute:
    """``--request-approval slack``: approvals come from the policy's approvers in Slack, not from this terminal."""

    policy: Policy
    requester: str  # the user's Slack ID, so that they can never approve their own change


def available_profiles() -> list[str]:
    """Profiles from the AWS config and credentials files (no network)."""
    import boto3

    try:
        return sorted(boto3.Session().available_profiles)
    except Exception:  # a broken config file must not stop the wizard; the switch dialog says so
        return []


def default_region() -> str | None:
    """The region boto3 would pick without --region (AWS_REGION, AWS_DEFAULT_REGION, profile config)."""
    import boto3

    try:
        return boto3.Session(profile_name=os.environ.get("AWS_PROFILE") or None).region_name
    except Exception:
        return None


__all__ = ["AwsFactory", "Connection", "SlackRoute", "available_profiles", "default_aws_factory", "default_region"]
