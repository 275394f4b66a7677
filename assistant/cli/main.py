"""``eks-assist``: the command-line entry point.

Verbs: sandbox, validate, plan, apply, destroy, status, runs, resume, audit, locks, schema, playbooks,
access, capacity, token, kubeconfig (and slack, for the bot).
Exit codes: 0 ok, 1 the run failed, 2 invalid input, 3 approval refused or plan changed,
130 interrupted by Ctrl-C.

Only ``argparse`` is imported at module level so that ``eks-assist --help`` stays fast;
boto3, pydantic and friends are imported by the verbs that need them.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from assistant.awsnames import CLUSTER_NAME, region_problem, shown

EXIT_OK, EXIT_FAILED, EXIT_INPUT, EXIT_APPROVAL = 0, 1, 2, 3
# 128 + SIGINT, as shells report a command stopped by Ctrl-C.
EXIT_INTERRUPTED = 130

EPILOG = """\
examples:
  eks-assist --sandbox                                the terminal wizard, on the local sandbox
  eks-assist sandbox                                  local AWS + Kubernetes (foreground)
  eks-assist sandbox start | status | stop            the same in the background; see it; stop it
  eks-assist validate -f examples/demo.yaml
  eks-assist plan -f examples/demo.yaml --sandbox
  eks-assist apply -f examples/demo.yaml --sandbox --approve <plan hash>
  eks-assist status demo --sandbox
  eks-assist destroy -f examples/demo.yaml --sandbox
  eks-assist apply -f spec.yaml --request-approval slack --policy policy.yaml --requester U012ABCDEF
  eks-assist slack serve --policy policy.yaml         the Slack bot (HTTP; --socket for Socket Mode)

exit codes: 0 ok, 1 run failed, 2 invalid input, 3 approval refused or plan changed, 130 interrupted (Ctrl-C)
"""


def _version() -> str:
    from assistant import __version__

    return __version__


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on usage errors, which is already our 'invalid input' code."""


def _add_aws(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("where to run")
    g.add_argument(
        "--sandbox",
        action="store_true",
        help="use the local sandbox: a running 'eks-assist sandbox' if there is one, else one started for this command",
    )
    g.add_argument("--profile", help="AWS profile (default: boto3's standard credential chain)")
    g.add_argument("--region", help="AWS region (default: the spec's metadata.region, then AWS_REGION)")


def _add_output(p: argparse.ArgumentParser) -> None:
    p.add_argument("-o", "--output", choices=("text", "json"), default="text", help="output format (default: text)")


def _add_run_tuning(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("run tuning")
    g.add_argument("--parallelism", type=int, default=8, metavar="N", help="steps to run at once (default 8)")
    g.add_argument("--serial", action="store_true", help="one step at a time, like eksctl (same as --parallelism 1)")
    g.add_argument(
        "--poll-max",
        type=float,
        default=None,
        metavar="SECONDS",
        help="longest wait between status polls (default 15; 0.25 on the sandbox)",
    )
    g.add_argument(
        "--lock-timeout",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="wait up to this long for another run's lock on the cluster (default 0: refuse at once)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="eks-assist",
        description="Provision Amazon EKS clusters from reviewed, approved plans.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"eks-assist {_version()}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for unexpected errors")
    sub = parser.add_subparsers(dest="verb", metavar="VERB")

    from assistant.sandbox import command as sandbox_command

    p = sub.add_parser(
        "sandbox",
        help="run the local sandbox (AWS + Kubernetes) in the foreground, or start/status/stop it in the background",
        description=sandbox_command.DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sandbox_command.add_arguments(p)

    p = sub.add_parser("validate", help="check a spec; exit 0, or 2 with file:line:col errors")
    p.add_argument("-f", "--file", required=True, help="cluster spec YAML")
    p.add_argument(
        "--preflight",
        action="store_true",
        help="also run the checks that need AWS (instance types, versions, subnets); implied by --sandbox",
    )
    _add_aws(p)
    _add_output(p)

    for verb, text in (
        ("plan", "show what apply would change (read-only)"),
        ("apply", "plan, get approval, and apply with live progress"),
        ("destroy", "plan and apply the teardown of everything eks-assist created"),
    ):
        p = sub.add_parser(verb, help=text)
        p.add_argument("-f", "--file", required=True, help="cluster spec YAML")
        if verb != "destroy":
            p.add_argument(
                "--playbook", default="cluster", help="playbook name or path (default: cluster; see 'eks-assist playbooks')"
            )
        if verb == "plan":
            p.add_argument("--all", action="store_true", help="also list resources that are unchanged")
        else:
            p.add_argument(
                "--approve",
                metavar="HASH",
                help="approve the plan with this hash non-interactively; refused if the fresh plan differs",
            )
            from assistant.cli import requests as request_cli

            request_cli.add_arguments(p)
            _add_run_tuning(p)
        _add_aws(p)
        _add_output(p)

    p = sub.add_parser("status", help="cluster, endpoint, version and node groups")
    p.add_argument("cluster", help="EKS cluster name")
    _add_aws(p)
    _add_output(p)

    p = sub.add_parser("runs", help="list runs, or show one run's journal")
    p.add_argument("run_id", nargs="?", help="show this run (id or unique prefix)")
    p.add_argument("--limit", type=int, default=20)
    _add_output(p)

    p = sub.add_parser("resume", help="continue a failed or killed run under its original approval")
    p.add_argument("run_id", help="run id or unique prefix (see 'eks-assist runs')")
    _add_aws(p)
    _add_run_tuning(p)
    _add_output(p)

    from assistant.cli import audit as audit_cli

    p = sub.add_parser("audit", help="the append-only audit log: requests, approvals, refusals, AWS request ids")
    audit_cli.add_audit_arguments(p)
    p = sub.add_parser("locks", help="cluster locks held by pending or running changes; release a stuck one")
    audit_cli.add_locks_arguments(p)

    p = sub.add_parser("schema", help="print the JSON Schema of the spec (for editors)")
    p.add_argument("--actions", action="store_true", help="print the action catalogue (arguments, IAM permissions) instead")

    p = sub.add_parser("playbooks", help="list the built-in playbooks, or show one")
    p.add_argument("name", nargs="?", help="print this playbook's YAML")

    p = sub.add_parser("access", help="which Kubernetes identity an IAM principal gets (aws-auth, access entries)")
    from assistant.cli import access as access_cli

    access_cli.add_arguments(p)

    p = sub.add_parser("capacity", help="max pods per instance type and the subnet IP budget (VPC CNI)")
    from assistant.cli import capacity as capacity_cli

    capacity_cli.add_arguments(p)

    from assistant.cli import kubeconfig as kubeconfig_cli
    from assistant.cli import token as token_cli

    token_cli.add_arguments(sub.add_parser("token", help="print an EKS token as a kubectl ExecCredential (exec plugin)"))
    kubeconfig_cli.add_arguments(sub.add_parser("kubeconfig", help="add or update a cluster's context in a kubeconfig"))

    from assistant.plugins import discover

    # The wizard and the Slack bot add their own options and verbs (entry points, not imports).
    for frontend in discover():
        frontend.register(parser, sub)
    return parser


# -- helpers ---------------------------------------------------------------------------


# One lock for every line the CLI writes to stderr: the runner reports from its step threads, and
# print() writes the text and the newline separately, so two events could share one line.
_STDERR = threading.Lock()


def _err(msg: str) -> None:
    """Write ``msg`` and its newline to stderr as one piece, whichever thread calls."""
    with _STDERR:
        sys.stderr.write(msg + "\n")
        sys.stderr.flush()


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, sort_keys=True, default=str))


def _sandbox_env(ctx: dict[str, Any], quiet: bool = False, background: Callable[[float], None] | None = None) -> Any:
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
            _err(
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


def _check_region(region: str | None) -> None:
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
    if not 1 <= value <= MAX_LIMIT:
        raise_input(f"--limit must be between 1 and {MAX_LIMIT}, got {value}")
    return value


def _aws(args: argparse.Namespace, region: str | None, ctx: dict[str, Any]) -> Any:
    from assistant.clients.aws import AwsContext

    _check_region(args.region)
    if getattr(args, "sandbox", False):
        if args.profile:
            raise_input("--profile cannot be combined with --sandbox")
        _sandbox_env(ctx)
    return AwsContext(region=args.region or region, profile=None if args.sandbox else args.profile)


def raise_input(msg: str) -> None:
    from assistant.errors import InputError

    raise InputError(msg)


def _options(args: argparse.Namespace) -> Any:
    from assistant.run.runner import RunOptions

    parallelism = 1 if getattr(args, "serial", False) else getattr(args, "parallelism", 8)
    if parallelism < 1:
        raise_input("--parallelism must be at least 1")
    poll_max = (
        args.poll_max if getattr(args, "poll_max", None) is not None else (0.25 if getattr(args, "sandbox", False) else 15.0)
    )
    # nan passes "<= 0" and inf never ends a wait: only finite values are durations.
    if not (math.isfinite(poll_max) and poll_max > 0):
        raise_input("--poll-max must be positive")
    lock_timeout = getattr(args, "lock_timeout", 0.0)
    if not (math.isfinite(lock_timeout) and 0 <= lock_timeout <= 86400):
        raise_input(f"--lock-timeout must be between 0 and 86400 seconds, got {lock_timeout:g}")
    return RunOptions(
        parallelism=parallelism,
        poll_min=min(0.05 if args.sandbox else 2.0, poll_max),
        poll_max=poll_max,
        lock_timeout=lock_timeout,
    )


class _Progress:
    """Prints run events as lines; progress updates at most every few seconds per step.

    Called from the runner's step threads: each event is one whole line (see :func:`_err`).
    """

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.last: dict[str, tuple[float, str]] = {}
        self._lock = threading.Lock()
        # The run that started and has not converged: what a Ctrl-C leaves to resume.
        self.unfinished: str | None = None

    def __call__(self, ev: Any) -> None:
        if ev.kind == "run_started":
            self.unfinished = ev.run_id
        elif ev.kind == "run_done":
            self.unfinished = None
        if self.quiet or (ev.kind == "run_failed" and ev.data.get("interrupted")):
            # An interrupted run is reported once, by main(), with the resume command for these flags.
            return
        mark = {
            "step_started": "…",
            "step_done": "✓",
            "step_failed": "✗",
            "step_skipped": "-",
            "run_started": "▶",
            "run_done": "■",
            "run_failed": "✗",
        }.get(ev.kind)
        if ev.kind == "step_progress":
            status = ev.message.split(" (")[0]
            with self._lock:
                prev = self.last.get(ev.step)
                if prev and ev.ts - prev[0] < 5 and prev[1] == status:
                    return
                self.last[ev.step] = (ev.ts, status)
            pct = f" {ev.fraction * 100:3.0f}%" if ev.fraction is not None else ""
            _err(f"  [{ev.elapsed:7.1f}s]   {ev.step}: {ev.message}{pct}")
            return
        if mark:
            label = f"{ev.step}: " if ev.step else ""
            _err(f"  [{ev.elapsed:7.1f}s] {mark} {label}{ev.message}")


def _confirm(plan: Any, kind: str = "apply", cluster: str = "") -> bool:
    """Ask for 'yes' on the terminal; the question says plainly what a destroy deletes."""
    if kind == "destroy":
        n = plan.counts.get("delete", 0)
        print(
            f"\nDestroy cluster {cluster}? This deletes the {n} resource(s) above, with everything running on "
            f"the cluster, and cannot be undone. Only 'yes' is accepted (plan {plan.hash[:16]})."
        )
    else:
        print(f"\nApply this plan? Only 'yes' is accepted (plan {plan.hash[:16]}).")
    try:
        answer = input("  Enter a value: ")
    except EOFError:
        return False
    return answer.strip() == "yes"


# -- verbs -----------------------------------------------------------------------------


def cmd_validate(args: argparse.Namespace, ctx: dict[str, Any]) -> int:
    from assistant.engine import Engine, load
    from assistant.store import open_store

    loaded = load(args.file)
    checked = "static checks"
    if args.preflight or args.sandbox:
        aws = _aws(args, loaded.spec.metadata.region, ctx)
        Engine(aws, open_store()).check_spec(loaded)
        checked = "static and AWS checks"
    if args.output == "json":
        _print_json({"valid": True, "file": args.file, "cluster": loaded.spec.metadata.name, "checks": checked})
    else:
        print(
            f"{args.file}: valid ({checked}): cluster {loaded.spec.metadata.name} in {loaded.spec.metadata.region}, "
            f"{len(loaded.spec.workers)} node group(s)"
        )
    return EXIT_OK


def _engine(args: argparse.Namespace, ctx: dict[str, Any], region: str | None, quiet: bool = False) -> Any:
    from assistant.engine import Engine
    from assistant.store import open_store

    aws = _aws(args, region, ctx)
    opts = _options(args) if hasattr(args, "parallelism") else None
    ctx["progress"] = _Progress(quiet)
    return Engine(aws, open_store(), sink=ctx["progress"], options=opts)


def cmd_plan(args: argparse.Namespace, ctx: dict[str, Any]) -> int:
    from assistant.engine import load
    from assistant.planning.plan import render_text

    loaded = load(args.file)
    engine = _engine(args, ctx, loaded.spec.metadata.region)
    planning = engine.plan(loaded, args.playbook)
    if args.output == "json":
        _print_json(planning.plan.to_json())
    else:
        print(render_text(planning.plan, show_noop=args.all))
    return EXIT_OK


def _apply(args: argparse.Namespace, ctx: dict[str, Any], kind: str) -> int:
    import getpass

    from assistant.cli import requests as request_cli
    from assistant.engine import DESTROY_PLAYBOOK, load
    from assistant.errors import ApprovalError
    from assistant.planning.plan import render_text

    request_cli.validate(args)
    loaded = load(args.file)
    playbook = DESTROY_PLAYBOOK if kind == "destroy" else args.playbook
    engine = _engine(args, ctx, loaded.spec.metadata.region, quiet=args.output == "json")
    if args.request_approval:
        return request_cli.run(args, engine, loaded, playbook, kind)
    _, caller = engine.aws.identity()
    approver = f"{getpass.getuser()} ({caller})"
    if args.approve:
        approved, method = args.approve, "flag"
    else:
        planning = engine.plan(loaded, playbook, preflight=(kind == "apply"))
        if args.output != "json":
            print(render_text(planning.plan))
        if not planning.plan.has_changes:
            if args.output == "json":
                _print_json({"planHash": planning.plan.hash, "changed": False, "runId": None})
            else:
                print("\nNothing to do.")
            return EXIT_OK
        if not sys.stdin.isatty():
            raise ApprovalError(
                f"not approved: stdin is not a terminal, so nobody can confirm. Review the plan above and re-run with "
                f"--approve {planning.plan.hash}"
            )
        if not _confirm(planning.plan, kind, loaded.spec.metadata.name):
            raise ApprovalError(f"{kind} cancelled: the plan was not confirmed; nothing was changed")
        approved, method = planning.plan.hash, "tty"
    run_id, outputs = engine.apply(loaded, approved, approver, method, playbook=playbook, kind=kind)
    if args.output == "json":
        _print_json({"runId": run_id, "outputs": outputs, "changed": True})
    else:
        print_outputs(f"{kind.capitalize()} complete (run {run_id}).", outputs)
    return EXIT_OK


def print_outputs(headline: str, outputs: dict[str, Any]) -> None:
    """The end-of-run summary; the CA bundle is shortened, never printed whole."""
    print(f"\n{headline}")
    for k, v in outputs.items():
        if k == "certificateAuthority" and v:
            v = f"{str(v)[:24]}… ({len(str(v))} chars)"
        print(f"  {k}: {v}")


def cmd_apply(args: argparse.Namespace, ctx: dict[str, Any]) -> int:
    return _apply(args, ctx, "apply")


def cmd_destroy(args: argparse.Namespace, ctx: dict[str, Any]) -> int:
    return _apply(args, ctx, "destroy")


def cmd_status(args: argparse.Namespace, ctx: dict[str, Any]) -> int:
    check_cluster_name(args.cluster, "cluster")
    engine = _engine(args, ctx, None, quiet=True)
    st = engine.status(args.cluster)
    if args.output == "json":
        _print_json(st)
        return EXIT_OK
    print(f"Cluster   {st['name']}  ({st['status']})")
    print(f"Region    {st['region']}")
    print(f"Version   {st['version']}")
    print(f"Endpoint  {st['endpoint'] or '(not yet)'}")
    print(f"Auth mode {st['authenticationMode']}")
    print(f"ARN       {st['arn']}")
    if st["nodeGroups"]:
        print("\nNODE GROUP            STATUS     TYPES                      CAPACITY   MIN/DESIRED/MAX")
        for ng in st["nodeGroups"]:
            print(
                f"{ng['name']:<21} {ng['status']:<10} {','.join(ng['instanceTypes']):<26} {ng['capacityType'] or '':<10} "
                f"{ng['min']}/{ng['desired']}/{ng['max']}"
            )
    else:
        print("\nNo node groups.")
    return EXIT_OK


def _age(ts: float) -> str:
    import time

    s = int(time.time() - ts)
    for unit, n in (("d", 86400), ("h", 3600), ("m", 60)):
        if s >= n:
            return f"{s // n}{unit} ago"
    return f"{s}s ago"


def _effective_status(run: Any) -> str:
    """A run marked 'applying' whose process is gone was killed: call it interrupted."""
    if run.status == "applying" and run.pid:
        try:
            os.kill(run.pid, 0)
        except ProcessLookupError:
            return "interrupted"
        except PermissionError:
            pass
    return str(run.status)


def cmd_runs(args: argparse.Namespace, ctx: dict[str, Any]) -> int:
    from assistant.store import open_store

    store = open_store()
    check_limit(args.limit)
    if args.run_id is not None:
        check_run_id(args.run_id)
        matches = store.find_runs(args.run_id)
        exact = [r for r in matches if r.id == args.run_id]
        if not matches:
            raise_input(f"no run '{args.run_id}' (see: eks-assist runs)")
        if len(matches) > 1 and not exact:
            raise_input(f"run id prefix '{args.run_id}' is ambiguous: {', '.join(r.id for r in matches[:5])}")
        run = exact[0] if exact else matches[0]
        steps = store.steps(run.id)
        if args.output == "json":
            d = {k: v for k, v in run.__dict__.items() if k not in ("spec_source", "plan")}
            d["status"] = _effective_status(run)
            d["steps"] = [s.__dict__ for s in steps]
            _print_json(d)
            return EXIT_OK
        print(f"Run {run.id}  {run.kind} {run.playbook}  {_effective_status(run)}  ({_age(run.created_at)})")
        print(f"Spec {run.spec_file}  account {run.account}  region {run.region}")
        print(f"Plan {run.plan_hash}  approved by {run.approver}")
        if run.error:
            print(f"Error: {run.error}")
        print("\nSTEP                          STATUS     OP        ERROR")
        for s in steps:
            print(f"{s.step:<29} {s.status:<10} {s.op:<9} {s.error}")
        return EXIT_OK
    runs = store.list_runs(args.limit)
    if args.output == "json":
        _print_json(
            [
                {
                    "id": r.id,
                    "kind": r.kind,
                    "status": _effective_status(r),
                    "playbook": r.playbook,
                    "spec": r.spec_file,
                    "planHash": r.plan_hash,
                    "createdAt": r.created_at,
                    "error": r.error,
                }
                for r in runs
            ]
        )
        return EXIT_OK
    if not runs:
        print("No runs yet.")
        return EXIT_OK
    print("RUN                        KIND     STATUS       PLAYBOOK   SPEC                     WHEN")
    for r in runs:
        spec = os.path.basename(r.spec_file)
        print(f"{r.id:<26} {r.kind:<8} {_effective_status(r):<12} {r.playbook:<10} {spec:<24} {_age(r.created_at)}")
    return EXIT_OK


def cmd_resume(args: argparse.Namespace, ctx: dict[str, Any]) -> int:
    from assistant.store import open_store

    matches = open_store().find_runs(check_run_id(args.run_id))
    if not matches:
        raise_input(f"no run '{args.run_id}' (see: eks-assist runs)")
    run = next((r for r in matches if r.id == args.run_id), matches[0])
    engine = _engine(args, ctx, run.region, quiet=args.output == "json")
    run_id, outputs = engine.resume(args.run_id)
    if args.output == "json":
        _print_json({"runId": run_id, "outputs": outputs})
    else:
        print(f"\nRun {run_id} resumed and converged.")
        for k, v in outputs.items():
            if k == "certificateAuthority" and v:
                v = f"{str(v)[:24]}… ({len(str(v))} chars)"
            print(f"  {k}: {v}")
    return EXIT_OK


def cmd_schema(args: argparse.Namespace, ctx: dict[str, Any]) -> int:
    if args.actions:
        from assistant.actions import registry

        _print_json(registry.catalogue())
    else:
        from assistant.spec import spec_json_schema

        _print_json(spec_json_schema())
    return EXIT_OK


def cmd_playbooks(args: argparse.Namespace, ctx: dict[str, Any]) -> int:
    from assistant.playbook import available, load_playbook

    if args.name:
        pb = load_playbook(args.name)
        print(Path(pb.file).read_text(encoding="utf-8"), end="")
        return EXIT_OK
    for name in available():
        pb = load_playbook(name)
        print(f"{name:<13} {pb.description}  ({len(pb.steps)} steps)")
    return EXIT_OK


def cmd_sandbox(args: argparse.Namespace, ctx: dict[str, Any]) -> int:
    from assistant.sandbox import command

    return int(command.run(args))


def cmd_capacity(args: argparse.Namespace, ctx: dict[str, Any]) -> int:
    from assistant.cli import capacity as capacity_cli

    return capacity_cli.run(args)


def cmd_access(args: argparse.Namespace, ctx: dict[str, Any]) -> int:
    from assistant.cli import access as access_cli

    check_cluster_name(args.cluster, "--cluster")
    _check_region(args.region)

    return access_cli.run(args)


def cmd_audit(args: argparse.Namespace, ctx: dict[str, Any]) -> int:
    from assistant.cli import audit as audit_cli

    check_limit(args.limit)
    return int(audit_cli.run_audit(args))


VERBS = {
    "sandbox": cmd_sandbox,
    "validate": cmd_validate,
    "plan": cmd_plan,
    "apply": cmd_apply,
    "destroy": cmd_destroy,
    "status": cmd_status,
    "runs": cmd_runs,
    "resume": cmd_resume,
    "schema": cmd_schema,
    "playbooks": cmd_playbooks,
    "access": cmd_access,
    "capacity": cmd_capacity,
    "audit": cmd_audit,
    "locks": lambda args, ctx: int(__import__("assistant.cli.audit", fromlist=["run_locks"]).run_locks(args)),
    "token": lambda args, ctx: int(__import__("assistant.cli.token", fromlist=["run"]).run(args)),
    "kubeconfig": lambda args, ctx: int(__import__("assistant.cli.kubeconfig", fromlist=["run"]).run(args)),
}


def _aws_error(exc: BaseException) -> str | None:
    """A plain message for AWS client errors that are not ours, or None."""
    mod = type(exc).__module__
    if not mod.startswith(("botocore", "boto3", "urllib3")):
        return None
    name = type(exc).__name__
    if name == "EndpointConnectionError":
        return f"cannot reach AWS: {exc}. Check your network, AWS_ENDPOINT_URL, or run with --sandbox"
    if name in ("NoCredentialsError", "PartialCredentialsError"):
        return "no AWS credentials found: use --profile, AWS_PROFILE or AWS_ACCESS_KEY_ID (or --sandbox)"
    if name in ("SSOTokenLoadError", "UnauthorizedSSOTokenError", "TokenRetrievalError"):
        return f"AWS SSO login needed: run 'aws sso login' for this profile ({exc})"
    resp = getattr(exc, "response", None)
    if isinstance(resp, dict) and "Error" in resp:
        err = resp["Error"]
        return f"AWS error {err.get('Code')}: {err.get('Message')}"
    return f"AWS error: {exc}"


def _handler(verb: str | None) -> Any:
    """The function for ``verb``: ours, a front end's, or (no verb) a front end's default."""
    from assistant.plugins import discover

    if verb in VERBS:
        return VERBS[verb]
    for frontend in discover():
        if verb is None and hasattr(frontend, "default"):
            return frontend.default
        if verb in frontend.VERBS:
            return frontend.VERBS[verb]
    raise_input(f"no handler for '{verb}': is the front end that provides it installed?")


def _interrupted(args: argparse.Namespace, ctx: dict[str, Any]) -> str:
    """The one message after Ctrl-C: the exact resume command if a run was cut short."""
    progress = ctx.get("progress")
    run_id = progress.unfinished if isinstance(progress, _Progress) else None
    if run_id is None:
        if args.verb in ("apply", "destroy", "resume"):
            return "interrupted before the run started; nothing was applied."
        return "interrupted."
    if ctx.get("sandbox") is not None:
        return (
            f"interrupted: run {run_id} stopped part-way, on a sandbox started inside this command; that sandbox "
            "and what the run made in it are gone, so there is nothing to resume. Run 'eks-assist sandbox' in "
            "another terminal to keep sandbox state between commands."
        )
    flags = " --sandbox" if getattr(args, "sandbox", False) else ""
    if getattr(args, "profile", None):
        import shlex

        flags += f" --profile {shlex.quote(args.profile)}"
    return f"interrupted: run {run_id} stopped part-way and can be finished with: eks-assist resume {run_id}{flags}"


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.verb and not (sys.stdin.isatty() and sys.stdout.isatty()):
        # No terminal (CI, pipes): nobody could use the wizard.
        parser.print_help()
        return EXIT_OK
    ctx: dict[str, Any] = {}
    try:
        return _handler(args.verb)(args, ctx)
    except KeyboardInterrupt:
        _err(_interrupted(args, ctx))
        return EXIT_INTERRUPTED
    except Exception as exc:
        from assistant.errors import EksAssistError, InputError

        if isinstance(exc, InputError):
            for p in exc.problems:
                _err(f"error: {p}")
            return exc.exit_code
        if isinstance(exc, EksAssistError):
            _err(f"error: {exc}")
            return exc.exit_code
        msg = _aws_error(exc)
        if msg:
            _err(f"error: {msg}")
            return EXIT_FAILED
        if type(exc).__module__ == "sqlite3":
            # The store failed after it opened (locked by another process, damaged pages, disk full).
            from assistant.store import explain_fault

            fault = explain_fault(exc)
            if fault is not None:
                _err(f"error: {fault}")
                return fault.exit_code
        if args.debug:
            raise
        _err(f"internal error: {type(exc).__name__}: {exc}\n(re-run with --debug for a traceback, and please report it)")
        return EXIT_FAILED
    finally:
        sb = ctx.get("sandbox")
        if sb is not None:
            sb.stop()


if __name__ == "__main__":
    sys.exit(main())
