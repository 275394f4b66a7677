"""How the wizard plugs into ``eks-assist``: its top-level options, and the no-verb default.

Registered as an ``eks_assist.frontends`` entry point (see :mod:`assistant.plugins`);
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
        help="run the wizard on the local sandbox: the running one, else one started in the background "
        "(kubectl and other terminals reach it; Ctrl+Q asks whether to keep it running)",
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
    from assistant.cli.common import EXIT_OK, raise_input, sandbox_env

    if args.wizard_sandbox and args.wizard_profile:
        raise_input("--profile cannot be combined with --sandbox")
    if args.wizard_region is not None:
        from assistant.awsnames import region_problem

        problem = region_problem(args.wizard_region)
        if problem:
            raise_input(f"--region: {problem}")
    route = None
    if args.wizard_request_approval:
        from assistant.cli.requests import load_route

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
        # Started from the app's connect worker, so the first screen paints at once. A sandbox
        # that is missing starts as a background process that other terminals reach too.
        app.before_connect = lambda progress: sandbox_env(ctx, quiet=True, background=progress)
    code = int(app.run() or EXIT_OK)
    if args.wizard_sandbox:
        print(sandbox_farewell(app.owned_sandbox, app.sandbox_choice), flush=True)
    return code


def sandbox_farewell(owned: Any, choice: str | None) -> str:
    """Carry out the quit dialog's choice for the wizard's own sandbox, and say what became of it.

    ``owned`` is the sandbox this wizard started (None: it used one the user runs, or none).
    Without a choice (the wizard ended some other way) it is stopped, as it would stop by
    itself once the wizard is gone, but with its contexts removed before this says so.
    """
    from assistant.errors import SandboxError
    from assistant.sandbox import command, statefile

    if owned is None:
        try:
            info = statefile.find_running(timeout=1.0, patience=2.0)
        except SandboxError:
            info = None
        if info is None:
            return "eks-assist: no sandbox is running."
        return (
            f"eks-assist: the sandbox you run (pid {info.pid}) keeps running, with its clusters and their kubeconfig "
            "contexts; this wizard did not start it and has not stopped it."
        )
    try:
        if choice == "keep":
            info = command.keep(owned)
            lines = [
                f"eks-assist: the sandbox keeps running in the background (pid {info.pid}, {info.aws_url}).",
                "  Its clusters and their kubeconfig contexts keep working, from any terminal:",
            ]
            for r in statefile.kubeconfig_records():
                lines.append(f"    kubectl --kubeconfig {r.path} --context {r.context} get nodes")
            lines += [
                "    eks-assist status CLUSTER --sandbox    (every verb takes --sandbox; so does the wizard)",
                "  See it:  eks-assist sandbox status",
                "  Stop it: eks-assist sandbox stop    (its clusters go; their contexts are removed)",
            ]
            return "\n".join(lines)
        stopped = command.stop_running(pid=owned.pid)
    except SandboxError as exc:
        return f"eks-assist: {exc}"
    if stopped.info is None:
        lines = [f"eks-assist: the sandbox this wizard started (pid {owned.pid}) had already stopped; its clusters are gone."]
    else:
        lines = [f"eks-assist: stopped the sandbox this wizard started (pid {owned.pid}); its clusters are gone."]
    for r in stopped.removed:
        lines.append(f"  Removed kubeconfig context(s) {', '.join(r.contexts)} from {r.path}; nothing else in it changed.")
    if not stopped.removed:
        lines.append("  No kubeconfig context written for its clusters is left behind.")
    lines.extend(f"  {p}" for p in stopped.problems)
    return "\n".join(lines)
