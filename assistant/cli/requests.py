"""``eks-assist apply|destroy --request-approval slack``: someone else approves in Slack.

The CLI plans, opens a change request (which locks the cluster), and posts it to the policy's
Slack channel. By default it then waits: once the request is approved it claims and applies
it here, with progress, and replies in the Slack thread. With ``--no-wait`` it prints the
request id (which is also the run id) and exits; the bot applies it when it is approved.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from typing import Any

_SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options shared by apply and destroy."""
    g = parser.add_argument_group("approval by someone else (Slack)")
    g.add_argument(
        "--request-approval",
        choices=("slack",),
        help="post the plan to Slack for approval by another person instead of confirming here",
    )
    g.add_argument(
        "--requester",
        metavar="SLACK_USER_ID",
        help="your Slack user ID (default: $EKS_ASSIST_SLACK_USER), so that you cannot approve your own change",
    )
    g.add_argument("--policy", metavar="PATH", help="approval policy file (default: $EKS_ASSIST_SLACK_POLICY)")
    g.add_argument(
        "--no-wait", action="store_true", help="print the request id and exit; the Slack bot applies it once it is approved"
    )


def _policy_path(args: argparse.Namespace) -> str:
    from assistant.errors import InputError

    path = args.policy or os.environ.get("EKS_ASSIST_SLACK_POLICY")
    if not path:
        raise InputError("--request-approval slack needs the approval policy: pass --policy PATH or set EKS_ASSIST_SLACK_POLICY")
    return str(path)


def _requester(args: argparse.Namespace) -> str:
    from assistant.errors import InputError

    who = args.requester or os.environ.get("EKS_ASSIST_SLACK_USER", "")
    if not who:
        raise InputError(
            "--request-approval slack needs your Slack user ID (--requester U012ABCDEF or EKS_ASSIST_SLACK_USER), "
            "so that the four-eyes rule can keep you from approving your own change"
        )
    if not _SLACK_USER.match(who):
        raise InputError(f"--requester: '{who}' is not a Slack user ID (like U012ABCDEF)")
    return who


def load_route(policy: str | None, requester: str | None) -> tuple[Any, str]:
    """(policy, requester) for --request-approval slack, from flags or the environment; InputError otherwise."""
    from assistant.governance.policy import load_policy

    ns = argparse.Namespace(policy=policy, requester=requester)
    path = _policy_path(ns)
    who = _requester(ns)
    return load_policy(path), who


def validate(args: argparse.Namespace) -> None:
    """Refuse bad flag combinations before anything is planned."""
    from assistant.errors import InputError

    if args.request_approval is None:
        for flag, value in (("--no-wait", args.no_wait), ("--requester", args.requester), ("--policy", args.policy)):
            if value:
                raise InputError(f"{flag} only makes sense with --request-approval slack")
        return
    if args.approve:
        raise InputError("--approve and --request-approval cannot be combined: either you approve, or someone else does")
    # Loaded before anything else runs, so that a bad policy costs no AWS call.
    args.loaded_policy, _ = load_route(args.policy, args.requester)


def run(args: argparse.Namespace, engine: Any, loaded: Any, playbook: str, kind: str) -> int:
    """Open the request, post it, and (unless --no-wait) wait for the decision and apply."""
    from assistant.errors import ApprovalError
    from assistant.governance.requests import Requests
    from assistant.plugins import notifier

    notify = notifier("slack")  # before the request takes the cluster lock
    policy = args.loaded_policy
    requester = _requester(args)
    if args.no_wait:
        import dataclasses

        # The bot applies it, on its server: plan it as the bot will, without the kubeconfig step,
        # or the bot's re-plan would differ from the approved plan.
        engine = dataclasses.replace(engine, write_kubeconfig=False)
    requests = Requests(engine.store, policy)
    req = requests.open(
        engine, loaded, playbook=playbook, kind=kind, requester=requester, executor="bot" if args.no_wait else "cli"
    )
    try:
        posted = notify.post_request(req, policy)
    except Exception as exc:
        requests.cancel(req.id, requester)
        msg = f"could not post request {req.id} to Slack ({exc}); it was cancelled and nothing was changed"
        raise ApprovalError(msg) from None
    requests.attach(req.id, **posted)
    if args.output == "text":
        print(req.plan_text)
        print(
            f"\nApproval requested in Slack (channel {posted.get('channel')}): request {req.id}, "
            f"{req.required_approvals} approval(s) needed from environment '{req.environment}', "
            f"expires {time.strftime('%H:%M:%SZ', time.gmtime(req.expires_at))}."
        )
    if args.no_wait:
        if args.output == "json":
            print(json.dumps({"requestId": req.id, "runId": req.id, "status": req.status, "planHash": req.plan_hash}, indent=2))
        else:
            print(f"Not waiting. The bot applies it once approved; follow it with: eks-assist runs {req.id}")
        return 0
    return _wait_and_apply(args, engine, requests, req.id, notify)


def _warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


def _wait_and_apply(args: argparse.Namespace, engine: Any, requests: Any, request_id: str, notify: Any) -> int:
    from assistant.governance.requests import execute_and_report, wait_for_approval

    if args.output == "text":
        print("Waiting for the decision (Ctrl-C stops waiting; the request stays open in Slack)...", file=sys.stderr)
    req = wait_for_approval(requests, request_id)
    approvers = ", ".join(a["approver"] for a in req.approvals)
    if args.output == "text":
        print(f"Approved by {approvers}. Applying.", file=sys.stderr)
    run_id, outputs = execute_and_report(requests, engine, request_id, notify, "CLI", warn=_warn)
    if args.output == "json":
        print(json.dumps({"requestId": request_id, "runId": run_id, "outputs": outputs, "changed": True}, indent=2, default=str))
    else:
        from assistant.cli.common import print_outputs

        print_outputs(f"{req.kind.capitalize()} complete (run {run_id}), approved by {approvers}.", outputs)
    return 0
