"""``eks-assist slack serve``: the bot's command line.

Only argparse is imported here, so ``eks-assist --help`` stays fast; Bolt, uvicorn, boto3 and
pydantic load when the bot actually starts.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

EPILOG = """\
environment:
  SLACK_BOT_TOKEN        the app's bot token (xoxb-...)
  SLACK_SIGNING_SECRET   the app's signing secret (HTTP mode verifies every request with it)
  SLACK_APP_TOKEN        an app-level token with connections:write (xapp-...; --socket only)
  EKS_ASSIST_SLACK_POLICY  the approval policy file, if --policy is not given

examples:
  eks-assist slack serve --policy slack-policy.yaml --port 3000      # Slack calls http://host:3000/slack/events
  eks-assist slack serve --socket --policy slack-policy.yaml         # no public URL: Socket Mode
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``serve`` under the ``slack`` verb's parser."""
    sub = parser.add_subparsers(dest="slack_verb", metavar="ACTION", required=True)
    p = sub.add_parser(
        "serve",
        help="run the Slack bot (HTTP by default, or --socket)",
        description="Run the Slack bot: /eks commands, approvals and live progress.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--socket", action="store_true", help="use Socket Mode (needs SLACK_APP_TOKEN) instead of serving HTTP")
    p.add_argument("--host", default="127.0.0.1", help="HTTP mode: address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=3000, help="HTTP mode: port to listen on, 0 for any free port (default 3000)")
    p.add_argument("--policy", metavar="PATH", help="approval policy YAML (default: $EKS_ASSIST_SLACK_POLICY)")
    from .work import WORK_QUEUE, WORK_WORKERS

    w = p.add_argument_group("capacity")
    w.add_argument(
        "--workers",
        type=int,
        default=WORK_WORKERS,
        metavar="N",
        help=f"threads that run commands after their ack: plans, AWS reads (default {WORK_WORKERS})",
    )
    w.add_argument(
        "--queue-limit",
        type=int,
        default=WORK_QUEUE,
        metavar="N",
        help=f"commands that may wait for a thread; more are answered 'busy, try again' (default {WORK_QUEUE})",
    )
    g = p.add_argument_group("where to run")
    g.add_argument(
        "--sandbox",
        action="store_true",
        help="use the local sandbox: a running 'eks-assist sandbox' if there is one, else one started for the bot",
    )
    g.add_argument("--profile", help="AWS profile (default: boto3's standard credential chain)")
    g.add_argument("--region", help="default AWS region for commands that name only a cluster (default: AWS_REGION)")


def register(parser: argparse.ArgumentParser, sub: Any) -> None:
    """The ``slack`` verb (an ``eks_assist.frontends`` entry point; see assistant/plugins.py)."""
    add_arguments(sub.add_parser("slack", help="the Slack bot: /eks commands, approvals and live progress ('slack serve')"))


VERBS = {"slack": lambda args, ctx: run(args)}


def notifier(channel: str) -> Any:
    """Posts change requests made outside Slack (``--request-approval slack``): :mod:`slackbot.notify`."""
    if channel != "slack":
        return None
    from . import notify

    return notify


def _err(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    """Check the configuration (exit 2 on problems), then serve until interrupted."""
    import logging

    from assistant.cli.common import sandbox_env
    from assistant.errors import InputError

    if args.sandbox and args.profile:
        raise InputError("--profile cannot be combined with --sandbox")
    if not args.socket and not 0 <= args.port <= 65535:
        raise InputError(f"--port must be 0-65535, got {args.port}")
    if not 1 <= args.workers <= 256:
        raise InputError(f"--workers must be 1-256, got {args.workers}")
    if not 0 <= args.queue_limit <= 100_000:
        raise InputError(f"--queue-limit must be 0-100000, got {args.queue_limit}")
    from .config import load_config

    # Check everything that needs no network first: a bad policy should not start a sandbox.
    config = load_config(policy_path=args.policy, socket_mode=args.socket, region=args.region, profile=args.profile)
    ctx: dict[str, Any] = {}
    options = None
    try:
        if args.sandbox:
            import os

            from assistant.run.runner import RunOptions

            sandbox_env(ctx)
            options = RunOptions(poll_min=0.05, poll_max=0.25)
            config = load_config(
                policy_path=args.policy,
                socket_mode=args.socket,
                region=args.region or os.environ.get("AWS_REGION"),
                profile=None,
                sandbox=True,
            )
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        from slack_bolt.error import BoltError

        from .app import create_bot
        from .serve import serve_http, serve_socket

        try:
            bot = create_bot(config, options=options, work_workers=args.workers, work_queue=args.queue_limit)
        except BoltError as exc:  # Bolt checks the token with auth.test at start-up
            from .redact import redact

            raise InputError(f"Slack refused SLACK_BOT_TOKEN: {redact(str(exc))}") from None
        specs = config.policy.specs_dir
        _err(
            f"eks-assist Slack bot: policy {config.policy_path}, channels {', '.join(config.policy.channels)}, "
            f"spec catalogue {specs if specs else '(none)'}, default region {config.region or '(none)'}"
        )
        if args.socket:
            _err("connecting to Slack in Socket Mode (Ctrl-C to stop)")
            serve_socket(bot)
        else:
            serve_http(bot, args.host, args.port, ready=lambda url: _err(f"serving {url} and /healthz (Ctrl-C to stop)"))
    except KeyboardInterrupt:
        pass
    finally:
        sb = ctx.get("sandbox")
        if sb is not None:
            sb.stop()
    return 0
