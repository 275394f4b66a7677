"""The bot's configuration: Slack credentials from the environment, and the approval policy file.

Everything is checked before the bot starts serving, and every problem is reported at once, so
``eks-assist slack serve`` exits 2 with a list instead of failing on the first Slack request.
Secrets are never echoed back: errors name the variable, not its value.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.errors import InputError, Problem

if TYPE_CHECKING:
    from assistant.governance.policy import Policy

POLICY_ENV = "EKS_ASSIST_SLACK_POLICY"
API_URL_ENV = "SLACK_API_URL"


@dataclass(frozen=True)
class BotConfig:
    """What the bot needs to run: credentials, the policy, and where the Web API is."""

    bot_token: str
    signing_secret: str
    policy: Policy
    policy_path: Path
    app_token: str | None = None
    # Only tests and the benchmark point this elsewhere (a local mock of Slack's Web API).
    api_url: str | None = None
    region: str | None = None
    profile: str | None = None
    sandbox: bool = False


def _token_problem(name: str, value: str | None, prefix: str, what: str) -> Problem | None:
    if not value:
        return Problem(f"{name} is not set: export the app's {what} (it starts with {prefix})")
    if not value.startswith(prefix):
        # The value itself is a secret: say what is wrong with it without printing it.
        return Problem(f"{name} is not the app's {what}: it should start with {prefix}")
    return None


def load_config(
    *,
    policy_path: str | None,
    socket_mode: bool,
    environ: Mapping[str, str] | None = None,
    region: str | None = None,
    profile: str | None = None,
    sandbox: bool = False,
) -> BotConfig:
    """Read and check the environment and the policy file; InputError (exit 2) listing every problem."""
    env = os.environ if environ is None else environ
    problems: list[Problem] = []
    p = _token_problem("SLACK_BOT_TOKEN", env.get("SLACK_BOT_TOKEN"), "xoxb-", "bot token")
    if p:
        problems.append(p)
    secret = env.get("SLACK_SIGNING_SECRET", "")
    if not secret and not socket_mode:
        # HTTP mode verifies every request with it; there is deliberately no way to skip that.
        problems.append(Problem("SLACK_SIGNING_SECRET is not set: export the app's signing secret (Basic Information)"))
    app_token = env.get("SLACK_APP_TOKEN") or None
    if socket_mode:
        p = _token_problem("SLACK_APP_TOKEN", app_token, "xapp-", "app-level token with connections:write")
        if p:
            problems.append(p)
    if region is not None:
        from assistant.awsnames import region_problem

        problem = region_problem(region)
        if problem:
            problems.append(Problem(f"--region: {problem}"))
    path_text = policy_path or env.get(POLICY_ENV)
    policy = None
    path = Path(path_text) if path_text else None
    if path is None:
        problems.append(Problem(f"no approval policy: pass --policy PATH or set {POLICY_ENV}"))
    elif not path.is_file():
        problems.append(Problem(f"approval policy file not found: {path}"))
    else:
        from assistant.governance.policy import load_policy

        try:
            policy = load_policy(path)
        except InputError as exc:
            problems.extend(exc.problems)
        else:
            problems.extend(_catalogue_problems(policy, path))
    if problems:
        raise InputError(problems)
    assert policy is not None and path is not None
    return BotConfig(
        bot_token=env["SLACK_BOT_TOKEN"],
        signing_secret=secret,
        policy=policy,
        policy_path=path.resolve(),
        app_token=app_token,
        api_url=env.get(API_URL_ENV) or None,
        region=region or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or None,
        profile=profile,
        sandbox=sandbox,
    )


def _catalogue_problems(policy: Policy, path: Path) -> list[Problem]:
    specs = policy.specs_dir
    if specs is not None and not specs.is_dir():
        return [Problem(f"specs: the spec catalogue directory {specs} does not exist", str(path))]
    return []
