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
import math
import os
import sys
import threading
from pathlib import Path
from typing import Any

from assistant.cli.common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    add_aws_options,
    add_output_option,
    aws_context,
    check_cluster_name,
    check_limit,
    check_region,
    check_run_id,
    err,
    print_json,
    print_outputs,
    raise_input,
)

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


def _add_run_tuning(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("run tuning")
    g.add_argument(
        "--parallelism",
        type=int,
        default=8,
        metavar="N",
        help="AWS calls in flight per service (default 8); steps that wait hold none",
    )
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


def build_parser(frontends: bool = True) -> argparse.ArgumentParser:
    """The ``eks-assist`` parser; ``frontends=False`` leaves out the installed front ends' options and verbs."""
    parser = _Parser(
        prog="eks-assist",
        description="Provision Amazon EKS clusters from reviewed, approved plans.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"eks-assist {_version()}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for unexpected errors")
    sub = parser.add_subparsers(dest="verb", metavar="VERB")

    from assistant.cli import sandbox as sandbox_options

    p = sub.add_parser(
        "sandbox",
        help="run the local sandbox (AWS + Kubernetes) in the foreground, or start/status/stop it in the background",
        description=sandbox_options.DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sandbox_options.add_arguments(p)

    p = sub.add_parser("validate", help="check a spec; exit 0, or 2 with file:line:col errors")
    p.add_argument("-f", "--file", required=True, help="cluster spec YAML")
    p.add_argument(
        "--preflight",
        action="store_true",
        help="also run the checks that need AWS (instance types, versions, subnets); implied by --sandbox",
    )
    add_aws_options(p)
    add_output_option(p)

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
        add_aws_options(p)
        add_output_option(p)

    p = sub.add_parser("status", help="cluster, endpoint, version and node groups")
    p.add_argument("cluster", help="EKS cluster name")
    add_aws_options(p)
    add_output_option(p)

    p = sub.add_parser("runs", help="list runs, or show one run's journal")
    p.add_argument("run_id", nargs="?", help="show this run (id or unique prefix)")
    p.add_argument("--limit", type=int, default=20)
    add_output_option(p)

    p = sub.add_parser("resume", help="continue a failed or killed run under its original approval")
    p.add_argument("run_id", help="run id or unique prefix (see 'eks-assist runs')")
    add_aws_options(p)
    _add_run_tuning(p)
    add_output_option(p)

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

    if frontends:
        from assistant.plugins import discover

        # The wizard and the Slack bot add their own options and verbs (entry points, not imports).
        for frontend in discover():
            frontend.register(parser, sub)
    return parser


# -- helpers ---------------------------------------------------------------------------


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
            err(f"  [{ev.elapsed:7.1f}s]   {ev.step}: {ev.message}{pct}")
            return
        if mark:
            label = f"{ev.step}: " if ev.step else ""
            err(f"  [{ev.elapsed:7.1f}s] {mark} {label}{ev.message}")


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
    # Only the spec package for static checks: the planner and the action registry load when
    # AWS checks are asked for.
    from assistant.spec import load_spec

    loaded = load_spec(args.file)
    checked = "static checks"
    if args.preflight or args.sandbox:
        from assistant.engine import Engine
        from assistant.store import open_store

        aws = aws_context(args, loaded.spec.metadata.region, ctx)
        Engine(aws, open_store()).check_spec(loaded)
        checked = "static and AWS checks"
    if args.output == "json":
        print_json({"valid": True, "file": args.file, "cluster": loaded.spec.metadata.name, "checks": checked})
    else:
        print(
            f"{args.file}: valid ({checked}): cluster {loaded.spec.metadata.name} in {loaded.spec.metadata.region}, "
            f"{len(loaded.spec.workers)} node group(s)"
        )
    return EXIT_OK


def _engine(args: argparse.Namespace, ctx: dict[str, Any], region: str | None, quiet: bool = False) -> Any:
    from assistant.engine import Engine
    from assistant.store import open_store

    aws = aws_context(args, region, ctx)
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
        print_json(planning.plan.to_json())
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
                print_json({"planHash": planning.plan.hash, "changed": False, "runId": None})
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
        print_json({"runId": run_id, "outputs": outputs, "changed": True})
    else:
        print_outputs(f"{kind.capitalize()} complete (run {run_id}).", outputs)
    return EXIT_OK


def cmd_apply(args: argparse.Namespace, ctx: dict[str, Any]) -> int:
    return _apply(args, ctx, "apply")


def cmd_destroy(args: argparse.Namespace, ctx: dict[str, Any]) -> int:
    return _apply(args, ctx, "destroy")


def cmd_status(args: argparse.Namespace, ctx: dict[str, Any]) -> int:
    check_cluster_name(args.cluster, "cluster")
    engine = _engine(args, ctx, None, quiet=True)
    st = engine.status(args.cluster)
    if args.output == "json":
        print_json(st)
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
            print_json(d)
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
        print_json(
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
        print_json({"runId": run_id, "outputs": outputs})
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

        print_json(registry.catalogue())
    else:
        from assistant.spec import spec_json_schema

        print_json(spec_json_schema())
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
    check_region(args.region)

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


def _handler(verb: str | None) -> Any:
    """The function for ``verb``: ours, a front end's, or (no verb) a front end's default."""
    if verb in VERBS:
        return VERBS[verb]
    from assistant.plugins import discover

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
    """Run ``eks-assist`` with ``argv`` (default: the process's arguments); returns the exit code."""
    words = sys.argv[1:] if argv is None else argv
    # A built-in verb needs no front end: skip scanning the installed entry points for it.
    parser = build_parser(frontends=not (words and words[0] in VERBS))
    args = parser.parse_args(argv)
    if not args.verb and not (sys.stdin.isatty() and sys.stdout.isatty()):
        # No terminal (CI, pipes): nobody could use the wizard.
        parser.print_help()
        return EXIT_OK
    ctx: dict[str, Any] = {}
    try:
        return int(_handler(args.verb)(args, ctx))
    except KeyboardInterrupt:
        err(_interrupted(args, ctx))
        return EXIT_INTERRUPTED
    except Exception as exc:
        from assistant.errors import EksAssistError, InputError

        if isinstance(exc, InputError):
            for p in exc.problems:
                err(f"error: {p}")
            return exc.exit_code
        if isinstance(exc, EksAssistError):
            err(f"error: {exc}")
            return exc.exit_code
        from assistant.clients.aws import aws_error_message

        msg = aws_error_message(exc)
        if msg:
            err(f"error: {msg}")
            return EXIT_FAILED
        if type(exc).__module__ == "sqlite3":
            # The store failed after it opened (locked by another process, damaged pages, disk full).
            from assistant.store import explain_fault

            fault = explain_fault(exc)
            if fault is not None:
                err(f"error: {fault}")
                return fault.exit_code
        if args.debug:
            raise
        err(f"internal error: {type(exc).__name__}: {exc}\n(re-run with --debug for a traceback, and please report it)")
        return EXIT_FAILED
    finally:
        sb = ctx.get("sandbox")
        if sb is not None:
            sb.stop()


if __name__ == "__main__":
    sys.exit(main())
