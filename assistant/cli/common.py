"""What every CLI verb shares: exit codes, the AWS and output options, input checks, stderr lines.

The one public helper module of the CLI room: verb modules, the entry point and the front
ends' option hooks use these names, never another module's private ones. Only ``argparse``
and the standard library load with it, so ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import threading
from collections.abc import Callable
from typing import Any, NoReturn

from assistant.awsnames import CLUSTER_NAME, region_problem, shown

EXIT_OK, EXIT_FAILED, EXIT_INPUT, EXIT_APPROVAL = 0, 1, 2, 3
# 128 + SIGINT, as shells report a command stopped by Ctrl-C.
EXIT_INTERRUPTED = 130


def add_aws_options(p: argparse.ArgumentParser) -> None:
    """``--sandbox``, ``--profile`` and ``--region``: where a verb runs."""
    g = p.add_argument_group("where to run")
    g.add_argument(
        "--sandbox",
        action="store_true",
        help="use the local sandbox: a running 'eks-assist sandbox' if there is one, else one started for this command",
    )
    g.add_argument("--profile", help="AWS profile (default: boto3's standard credential chain)")
    g.add_argument("--region", help="AWS region (default: the spec's metadata.region, then AWS_REGION)")


def add_output_option(p: argparse.ArgumentParser) -> None:
    """``-o/--output text|json``."""
    p.add_argument("-o", "--output", choices=("text", "json"), default="text", help="output format (default: text)")


# One lock for every line the CLI writes to stderr: the runner reports from its step threads, and
# print() writes the text and the newline separately, so two events could share one line.
STDERR_LOCK = threading.Lock()


def err(msg: str) -> None:
    """Write ``msg`` and its newline to stderr as one piece, whichever thread calls."""
    with STDERR_LOCK:
        sys.stderr.write(msg + "\n")
        sys.stderr.flush()


def print_json(data: Any) -> None:
    """``data`` as indented, key-sorted JSON on stdout."""
    print(json.dumps(data, indent=2, sort_keys=True, default=str))


def sandbox_env(ctx: dict[str, Any], quiet: bool = False, background: Callable[[float], None] | None = None) -> Any:
    """Point boto3 at the sandbox: a running one, else one started for this command. Returns the one it started, or None.

    Without ``background``, a missing sandbox is started inside this process and lives as long as
    the command. With it (the wizard), a missing sandbox is started as a background process
    (``eks-assist sandbox start``) that publishes its state file like ``eks-assist sandbox``, so
    that kubectl and every ``--sandbox`` command reach it from other terminals; ``background``
    gets the seconds waited so far. ``quiet`` keeps the "started a sandbox" note off stderr.
    A sandbox that runs but does not answer is an error (SandboxError), never replaced.
    """
    from assistant.sandbox import statefile

    info = statefile.find_running()
    started = None
    if info is None and background is not None:
        from assistant.sandbox.command import start_for

        info = start_for(os.getpid(), background)
        # Ours unless another wizard's start won the race to the same state directory.
        started = info if info.owner_pid == os.getpid() else None
    if info is not None:
        env = info.env()
    else:
        from assistant.sandbox import Sandbox

        sb = Sandbox(latency="fast", port=0, k8s_port=0)
        sb.start()
        ctx["sandbox"] = sb
        env = sb.env()
        note = ""
        if "KUBECONFIG" not in os.environ:
            # This sandbox dies with the command: keep its context out of the user's ~/.kube/config.
            from assistant.store import state_dir

            os.environ["KUBECONFIG"] = str(state_dir() / "sandbox-kubeconfig")
            note = f"; its kubeconfig goes to {os.environ['KUBECONFIG']}"
        if not quiet:
            err(
                f"started an in-process sandbox at {sb.aws_url} (state is lost when this command ends; "
                f"run 'eks-assist sandbox start' to keep one running between commands){note}"
            )
    for k in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
        os.environ.pop(k, None)
    os.environ.update(env)
    return started


# What AWS accepts, checked before any call: a malformed value otherwise reaches the endpoint
# (an HTML 404 from a path like '../x', a 500 for an unknown region) or becomes a crash.
_RUN_ID = re.compile(r"[0-9A-Za-z][0-9A-Za-z-]{0,63}")
MAX_LIMIT = 100_000


def check_region(region: str | None) -> None:
    """InputError naming ``--region`` when ``region`` is given and botocore does not know it."""
    # Against botocore's partition data: an unknown region costs a long timeout at AWS otherwise.
    problem = region_problem(region) if region is not None else None
    if problem:
        raise_input(f"--region: {problem}")


def check_cluster_name(value: str, flag: str) -> str:
    """``value`` if it is a valid EKS cluster name; InputError naming ``flag`` otherwise."""
    if not CLUSTER_NAME.fullmatch(value):
        raise_input(
            f"{flag}: {shown(value)} is not an EKS cluster name "
            "(1-100 letters, digits, '-' and '_', starting with a letter or digit)"
        )
    return value


def check_run_id(value: str) -> str:
    """A run id or prefix: letters, digits and '-'. Store lookups match prefixes, so '%' or '' would match any run."""
    if not _RUN_ID.fullmatch(value):
        raise_input(f"{shown(value)} is not a run id (like 20260101-120000-abcdef, or a prefix of one; see: eks-assist runs)")
    return value


def check_limit(value: int) -> int:
    """``value`` if it is a usable ``--limit``; InputError otherwise."""
    if not 1 <= value <= MAX_LIMIT:
        raise_input(f"--limit must be between 1 and {MAX_LIMIT}, got {value}")
    return value


def aws_context(args: argparse.Namespace, region: str | None, ctx: dict[str, Any]) -> Any:
    """The AWS context for a verb's ``--sandbox/--profile/--region`` (``region``: the spec's, if any).

    With ``--sandbox`` a sandbox is found or started first (see :func:`sandbox_env`); the engine
    always gets the link that tells a sandbox's endpoints from AWS's.
    """
    from assistant.clients.aws import AwsContext
    from assistant.sandbox.link import SandboxLink

    check_region(args.region)
    if getattr(args, "sandbox", False):
        if args.profile:
            raise_input("--profile cannot be combined with --sandbox")
        sandbox_env(ctx)
    return AwsContext(region=args.region or region, profile=None if args.sandbox else args.profile, sandbox=SandboxLink())


def raise_input(msg: str) -> NoReturn:
    """Raise the InputError (exit 2) that says ``msg``."""
    from assistant.errors import InputError

    raise InputError(msg)


def print_outputs(headline: str, outputs: dict[str, Any]) -> None:
    """The end-of-run summary; the CA bundle is shortened, never printed whole."""
    print(f"\n{headline}")
    for k, v in outputs.items():
        if k == "certificateAuthority" and v:
            v = f"{str(v)[:24]}… ({len(str(v))} chars)"
        print(f"  {k}: {v}")
