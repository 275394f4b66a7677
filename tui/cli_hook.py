"""How the wizard plugs into ``eks-assist``: its top-level options, and the no-verb default.

Registered as an ``eks_assist.frontends`` entry point (see :mod:`assistant.frontends`);
Textual is imported only when the wizard actually starts, so ``--help`` and the verbs stay light.
"""

from __future__ import annotations

import argparse
from typing import Any

VERBS: dict[str, Any] = {}


def register(parser: argparse.ArgumentParser, sub: Any) -> None:
    """The wizard's options (own dests, so a verb's --sandbox/-f/--profile/--region never collide)."""
    w = parser.add_argument_group("the terminal wizard (no VERB, on a terminal)")
    w.add_argument("-f", "--file", dest="wizard_file", metavar="SPEC", help="pre-fill every wizard screen from this spec")
    w.add_argument(
        "--sandbox",
        dest="wizard_sandbox",
        action="store_true",
        help="run the wizard on the local sandbox (a running 'eks-assist sandbox', else one started for it)",
    )
    w.add_argument(
        "--profile", dest="wizard_profile", metavar="PROFILE", help="AWS profile (default: boto3's standard credential chain)"
    )
    w.add_argument(
        "--region",
        dest="wizard_region",
        metavar="REGION",
        help="AWS region (default: the spec's metadata.region, then AWS_REGION)",
    )
    w.add_argument(
        "--request-approval",
        dest="wizard_request_approval",
        choices=("slack",),
        help="Apply posts the plan to Slack for another person's approval (needs --policy and --requester)",
    )
    w.add_argument("--policy", dest="wizard_policy", metavar="PATH", help="approval policy (default: $EKS_ASSIST_SLACK_POLICY)")
    w.add_argument("--requester", dest="wizard_requester", metavar="SLACK_USER_ID", help="your Slack user ID")


def default(args: argparse.Namespace, ctx: dict[str, Any]) -> int:
    """Run the wizard (``eks-assist`` with no verb, on a terminal)."""
    from assistant.cli import EXIT_OK, _sandbox_env, raise_input

    if args.wizard_sandbox and args.wizard_profile:
        raise_input("--profile cannot be combined with --sandbox")
    if args.wizard_region is not None:
        from assistant.argcheck import region_problem

        problem = region_problem(args.wizard_region)
        if problem:
            raise_input(f"--region: {problem}")
    route = None
    if args.wizard_request_approval:
        from assistant.request_cli import load_route

        from .connection import SlackRoute

        route = SlackRoute(*load_route(args.wizard_policy, args.wizard_requester))
    elif args.wizard_policy or args.wizard_requester:
        raise_input("--policy and --requester only make sense with --request-approval slack")
    from .app import make_app

    # The spec is checked before a sandbox starts: a bad file exits 2 with file:line:col, like the verbs.
    app = make_app(
        spec_file=args.wizard_file,
        region=args.wizard_region,
        profile=args.wizard_profile,
        sandbox=args.wizard_sandbox,
        approval_route=route,
    )
    if args.wizard_sandbox:
        # Started from the app's connect worker, so the first screen paints at once.
        app.before_connect = lambda: _sandbox_env(ctx, quiet=True)
    return int(app.run() or EXIT_OK)
