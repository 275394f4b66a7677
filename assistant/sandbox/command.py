"""``eks-assist sandbox``: run the local sandbox in the foreground or the background, see it, stop it.

    eks-assist sandbox           serve in this terminal until Ctrl-C (SIGINT), SIGTERM or SIGHUP
    eks-assist sandbox start     serve in the background (detached; output in sandbox.log); return once it answers
    eks-assist sandbox status    where the running sandbox listens, who started it, the contexts written for it
    eks-assist sandbox stop      stop it

One sandbox runs per state directory: it holds ``sandbox.lock`` and publishes ``sandbox.json``
(:mod:`assistant.sandbox.statefile`), which every ``--sandbox`` command and the kubeconfig
token plugin read. Its clusters live only as long as it does, so when it stops, however it
stops, it removes the kubeconfig entries written for them (only those, only while they still
point at its clusters) and says so.

Cheap to import: the sandbox itself (moto, cryptography) loads only when it serves. The verb's
options live with the CLI (:mod:`assistant.cli.sandbox`), so ``--help`` never imports this package.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, TextIO

from assistant.sandbox import statefile
from assistant.store import ensure_state_dir

DEFAULT_PORT, DEFAULT_K8S_PORT = 4599, 4600


def run(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run the ``sandbox`` verb; returns an exit code (0 ok, 1 failed, 2 bad input)."""
    out = out or sys.stdout
    err = err or sys.stderr
    action = getattr(args, "action", None)
    if action == "start":
        return _start(args, out, err)
    if action == "status":
        return _status(args, out, err)
    if action == "stop":
        return _stop(args, out, err)
    return _serve(args, out, err)


# -- serving -------------------------------------------------------------------------------------


def _print_banner(out: TextIO, sandbox: Any, ca_path: str, state_path: str) -> None:
    env = sandbox.env()
    profile = sandbox.profile
    print(f"eks-assist sandbox running (latency {profile.name}, time scale {profile.time_scale:g})", file=out)
    print(f"  AWS endpoint:     {sandbox.aws_url}", file=out)
    print(f"  Kubernetes APIs:  {sandbox.k8s_url}/k8s/<cluster>-<id>  (one per EKS cluster)", file=out)
    print(f"  CA certificate:   {ca_path}", file=out)
    print(f"  State file:       {state_path}", file=out)
    print("", file=out)
    print("# Point boto3, the AWS CLI and eks-assist at the sandbox:", file=out)
    for key, value in env.items():
        print(f"export {key}={value}", file=out)
    print("", file=out)
    print(
        "Press Ctrl-C to stop (or run 'eks-assist sandbox stop'). Its clusters live only as long as it runs;\n"
        "when it stops it removes the kubeconfig contexts written for them.",
        file=out,
    )
    out.flush()


@dataclass(frozen=True)
class Removed:
    """Kubeconfig contexts removed from one file because their cluster lived in a stopped sandbox."""

    path: str
    contexts: list[str]


def remove_recorded_kubeconfigs(records: list[statefile.KubeconfigRecord] | None = None) -> tuple[list[Removed], list[str]]:
    """Remove the entries written for the sandbox's clusters: ``(removed, problems)``.

    ``records`` defaults to the recorded ones (and forgets them). An entry is removed only while
    it is still ours and still points at the sandbox cluster it was written for
    (:func:`assistant.identity.kubeconfig.remove`); anything else in the file stays byte-for-byte.
    """
    from assistant.identity import kubeconfig

    if records is None:
        records = statefile.take_kubeconfig_records()
    removed: dict[str, list[str]] = {}
    problems: list[str] = []
    for r in records:
        try:
            result = kubeconfig.remove(r.path, r.arn, r.cluster, server=r.server)
        except (kubeconfig.KubeconfigError, OSError) as exc:
            problems.append(f"{r.path}: could not remove the context {r.context}: {exc}")
            continue
        if result.contexts:
            removed.setdefault(str(result.path), []).extend(result.contexts)
    return [Removed(path, contexts) for path, contexts in removed.items()], problems


def _report_removed(out: TextIO, removed: list[Removed], problems: list[str], why: str) -> None:
    for r in removed:
        print(f"eks-assist sandbox: removed kubeconfig context(s) {', '.join(r.contexts)} from {r.path} ({why})", file=out)
    for p in problems:
        print(f"eks-assist sandbox: {p}", file=out)
    out.flush()


def _serve(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Start the sandbox, publish its state file, and serve until SIGINT/SIGTERM/SIGHUP or its owner exits."""
    from assistant.errors import SandboxError
    from assistant.sandbox.faults import FaultConfig

    try:
        faults = FaultConfig(
            throttle=args.fault_throttle,
            error5xx=args.fault_5xx,
            latency_ms=args.fault_latency_ms,
            seed=args.fault_seed,
        )
        if not args.time_scale > 0:
            raise ValueError(f"--time-scale must be greater than 0, got {args.time_scale}")
    except ValueError as exc:
        print(f"eks-assist sandbox: {exc}", file=err)
        return 2

    lock = statefile.hold_lock()
    if lock is None:
        print(f"eks-assist sandbox: {_already_running()}", file=err)
        return 1
    try:
        # A sandbox that died without cleaning up (SIGKILL, a crash) left contexts that point at nothing.
        removed, problems = remove_recorded_kubeconfigs()
        _report_removed(out, removed, problems, "their sandbox had stopped without removing them")
        return _serve_locked(args, faults, out, err)
    except SandboxError as exc:
        print(f"eks-assist sandbox: {exc}", file=err)
        return exc.exit_code
    finally:
        statefile.release_lock(lock)


def _serve_locked(args: argparse.Namespace, faults: Any, out: TextIO, err: TextIO) -> int:
    from assistant.sandbox.sandbox import Sandbox

    stop = threading.Event()
    keep = threading.Event()
    reason = ["stopping"]

    def on_signal(signum: int, _frame: Any) -> None:
        stop.set()

    def on_keep(signum: int, _frame: Any) -> None:
        keep.set()

    owner = getattr(args, "owner_pid", None)
    sandbox = Sandbox(
        latency=args.latency,
        time_scale=args.time_scale,
        faults=faults,
        host=args.host,
        port=args.port,
        k8s_port=args.k8s_port,
    )
    # SIGHUP too: closing the terminal that runs the sandbox must also remove its state file.
    handlers: dict[int, Any] = {sig: on_signal for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    handlers[signal.SIGUSR1] = on_keep  # the owner (the wizard) quit and the user kept the sandbox running
    previous = {sig: signal.signal(sig, handler) for sig, handler in handlers.items()}
    try:
        sandbox.start()
        ca_path = statefile.write_ca(sandbox.ca_pem)
        env = sandbox.env()
        info = statefile.SandboxInfo(
            aws_url=sandbox.aws_url,
            k8s_url=sandbox.k8s_url,
            pid=os.getpid(),
            region=env["AWS_DEFAULT_REGION"],
            access_key_id=env["AWS_ACCESS_KEY_ID"],
            secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
            ca_path=str(ca_path),
            owner_pid=owner,
            background=bool(getattr(args, "detached", False)),
        )
        state_path = statefile.write(info)
        _print_banner(out, sandbox, str(ca_path), str(state_path))
        while not stop.wait(0.5):
            if keep.is_set() and info.owner_pid is not None:
                keep.clear()
                info = replace(info, owner_pid=None)
                statefile.write(info)
                print(f"eks-assist sandbox: pid {owner} quit and kept this sandbox running", file=out, flush=True)
            if info.owner_pid is not None and not statefile.pid_alive(info.owner_pid):
                reason[0] = f"the wizard that started it (pid {info.owner_pid}) has exited; stopping"
                break
        print(f"eks-assist sandbox: {reason[0]}", file=out, flush=True)
        return 0
    finally:
        sandbox.stop()
        statefile.remove()
        removed, problems = remove_recorded_kubeconfigs()
        _report_removed(out, removed, problems, "their clusters lived in this sandbox")
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _already_running() -> str:
    info = statefile.read()
    where = f" (pid {info.pid}, AWS endpoint {info.aws_url})" if info is not None and statefile.pid_alive(info.pid) else ""
    return (
        f"a sandbox is already running for {statefile.state_dir()}{where}. Use it with --sandbox, "
        "or stop it first: eks-assist sandbox stop"
    )


# -- start in the background ---------------------------------------------------------------------


def _free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _ports(args: argparse.Namespace) -> tuple[int, int, str]:
    """The ports to serve on, and a note when the defaults were taken."""
    if (args.port, args.k8s_port) == (DEFAULT_PORT, DEFAULT_K8S_PORT) and not (
        _free(args.host, DEFAULT_PORT) and _free(args.host, DEFAULT_K8S_PORT)
    ):
        return 0, 0, f"the default ports {DEFAULT_PORT}/{DEFAULT_K8S_PORT} are taken, so it listens on free ones"
    return args.port, args.k8s_port, ""


def _daemon_argv(args: argparse.Namespace, port: int, k8s_port: int) -> list[str]:
    argv = [sys.executable, "-m", "assistant.sandbox", "--detached", "--host", args.host]
    argv += ["--port", str(port), "--k8s-port", str(k8s_port), "--latency", args.latency]
    argv += ["--time-scale", repr(args.time_scale), "--fault-throttle", repr(args.fault_throttle)]
    argv += ["--fault-5xx", repr(args.fault_5xx), "--fault-latency-ms", str(args.fault_latency_ms)]
    if args.fault_seed is not None:
        argv += ["--fault-seed", str(args.fault_seed)]
    if args.owner_pid is not None:
        argv += ["--owner-pid", str(args.owner_pid)]
    return argv


def _log_tail(lines: int = 8) -> str:
    try:
        text = statefile.log_path().read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.strip().splitlines()[-lines:])


# Popen objects of sandboxes started here: kept so that they are not collected (and warned about)
# while the detached sandbox runs on after this process returns.
_DETACHED: list[subprocess.Popen[bytes]] = []


def _report_running(args: argparse.Namespace, out: TextIO, err: TextIO) -> int | None:
    """Exit code 0 after showing the sandbox already running, 1 if it runs but does not answer; None if none runs."""
    from assistant.errors import SandboxError

    try:
        info = statefile.find_running()
    except SandboxError as exc:
        print(f"eks-assist sandbox: {exc}", file=err)
        return exc.exit_code
    if info is None:
        return None
    _print_info(out, args.output, info, "already running")
    return 0


def _start(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """``sandbox start``: a detached sandbox process; returns once it answers."""
    running = _report_running(args, out, err)
    if running is not None:
        return running
    port, k8s_port, note = _ports(args)
    if note and args.output == "text":
        print(f"eks-assist sandbox: {note}", file=err, flush=True)
    deadline = time.monotonic() + (args.wait or 120.0)
    proc, info = _spawn_and_wait(args, port, k8s_port, deadline, err)
    exited = info is None and time.monotonic() < deadline  # not a time-out: it ended by itself
    if exited and (port, k8s_port) != (0, 0) and not statefile.lock_held():
        # Another process took a port between the check and the bind: any free port will do.
        if args.output == "text":
            print("eks-assist sandbox: the ports were taken meanwhile; trying free ones", file=err, flush=True)
        proc, info = _spawn_and_wait(args, 0, 0, deadline, err)
        exited = info is None and time.monotonic() < deadline
    if info is not None:
        _print_info(out, args.output, info, "started")
        return 0
    if exited and statefile.lock_held():
        # Another `start` (a second wizard) won the race: use its sandbox.
        running = _report_running(args, out, err)
        if running is not None:
            return running
    if not exited:
        print(f"eks-assist sandbox: it did not answer within {args.wait or 120.0:g} s; stopped it.\n{_log_tail()}", file=err)
    else:
        print(f"eks-assist sandbox: it exited (code {proc.returncode}) before it answered:\n{_log_tail()}", file=err)
    return 1


def _spawn_and_wait(
    args: argparse.Namespace, port: int, k8s_port: int, deadline: float, err: TextIO
) -> tuple[subprocess.Popen[bytes], statefile.SandboxInfo | None]:
    """Start the detached sandbox and wait until it answers (its info), exits or runs out of time (None)."""
    log = statefile.log_path()
    ensure_state_dir(log.parent)
    with log.open("wb") as fh:
        # A session of its own: Ctrl-C in this terminal, or the terminal closing, never reaches it.
        proc = subprocess.Popen(
            _daemon_argv(args, port, k8s_port), stdin=subprocess.DEVNULL, stdout=fh, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    _DETACHED.append(proc)
    if args.output == "text":
        print(f"eks-assist sandbox: starting in the background (pid {proc.pid}, output in {log})", file=err, flush=True)

    def on_term(signum: int, _frame: Any) -> None:
        raise SystemExit(1)

    # Given up on (Ctrl-C, or SIGTERM from the wizard quitting), a sandbox still starting goes too.
    previous = signal.signal(signal.SIGTERM, on_term)
    answered = None
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            info = statefile.read()
            if info is not None and info.pid == proc.pid and statefile.healthy(info.aws_url, timeout=1.0):
                answered = info
                break
            time.sleep(0.05)  # a wizard waits on this: a 0.2 s step cost it 0.1 s on average
    finally:
        signal.signal(signal.SIGTERM, previous)
        if answered is None and proc.poll() is None:
            proc.terminate()
            proc.wait(30)
    return proc, answered


def _who(info: statefile.SandboxInfo) -> str:
    if info.owner_pid is not None:
        return f"started by the wizard (pid {info.owner_pid}); it stops when the wizard quits, unless you keep it"
    if info.background:
        return f"runs in the background (output in {statefile.log_path()})"
    return "runs in the foreground of a terminal"


def _print_info(out: TextIO, output: str, info: statefile.SandboxInfo, what: str) -> None:
    records = statefile.kubeconfig_records()
    if output == "json":
        data = {k: v for k, v in asdict(info).items() if k != "secret_access_key"}
        data["state"] = what
        data["stateFile"] = str(statefile.state_path())
        data["kubeconfigContexts"] = [{"path": r.path, "context": r.context, "cluster": r.cluster} for r in records]
        print(json.dumps(data, indent=2, sort_keys=True), file=out)
        return
    print(f"eks-assist sandbox {what} (pid {info.pid}): {_who(info)}", file=out)
    print(f"  AWS endpoint:     {info.aws_url}", file=out)
    print(f"  Kubernetes APIs:  {info.k8s_url}", file=out)
    print(f"  State file:       {statefile.state_path()}", file=out)
    for r in records:
        print(f"  kubeconfig:       context {r.context} (cluster {r.cluster}) in {r.path}", file=out)
    print("Use it with --sandbox (any eks-assist verb, and the wizard). Stop it with: eks-assist sandbox stop", file=out)
    out.flush()


def _status(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from assistant.errors import SandboxError

    try:
        info = statefile.find_running(patience=5.0)
    except SandboxError as exc:
        print(f"eks-assist sandbox: {exc}", file=err)
        return exc.exit_code
    if info is None:
        if args.output == "json":
            print(json.dumps({"state": "stopped", "stateFile": str(statefile.state_path())}), file=out)
        else:
            print(
                f"eks-assist sandbox: no sandbox is running for {statefile.state_dir()}. Start one: "
                "eks-assist sandbox start (background) or eks-assist sandbox (this terminal)",
                file=out,
            )
        return 1
    _print_info(out, args.output, info, "running")
    return 0


# -- stop ------------------------------------------------------------------------------------------


def _is_sandbox_process(pid: int) -> bool:
    """Whether ``pid`` runs the sandbox (from /proc; True where there is no /proc to ask)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except FileNotFoundError:
        return not Path("/proc/self").exists()
    except OSError:
        return True
    return b"assistant.sandbox" in cmdline or (b"eks-assist" in cmdline and b"sandbox" in cmdline)


@dataclass(frozen=True)
class Stopped:
    """What :func:`stop_running` did."""

    info: statefile.SandboxInfo | None  # the sandbox stopped; None if none was running
    removed: list[Removed]
    problems: list[str]


def stop_running(wait: float = 30.0, pid: int | None = None) -> Stopped:
    """Stop the published sandbox (SIGTERM) and wait for it to exit; SandboxError if it will not.

    With ``pid``, only that sandbox: another one running by now is left alone. Also removes
    what a sandbox that died without cleaning up left in kubeconfigs.
    """
    from assistant.errors import SandboxError

    info = statefile.read()
    records = statefile.kubeconfig_records()
    if not statefile.lock_held():
        removed, problems = remove_recorded_kubeconfigs()
        return Stopped(None, removed, problems)
    if pid is not None and (info is None or info.pid != pid):
        return Stopped(None, [], [])
    if info is None or not statefile.pid_alive(info.pid) or not _is_sandbox_process(info.pid):
        raise SandboxError(
            f"a sandbox holds {statefile.lock_path()} but has not published itself yet (it may be starting). "
            "Try again in a moment"
        )
    os.kill(info.pid, signal.SIGTERM)
    deadline = time.monotonic() + wait
    # Gone means the lock is free (its cleanup is done) and the process has exited.
    while statefile.lock_held() or statefile.pid_alive(info.pid):
        if time.monotonic() > deadline:
            raise SandboxError(f"the sandbox (pid {info.pid}) did not stop within {wait:g} s; end it with: kill {info.pid}")
        time.sleep(0.1)
    # The sandbox removed its contexts on its way out. Doing it again is harmless, and catches
    # what it could not; what is reported is what the files no longer hold.
    _again, problems = remove_recorded_kubeconfigs(records)
    by_path: dict[str, list[str]] = {}
    for r in records:
        if _absent(r):
            by_path.setdefault(os.path.realpath(r.path), []).append(r.context)
    return Stopped(info, [Removed(p, contexts) for p, contexts in by_path.items()], problems)


def _absent(record: statefile.KubeconfigRecord) -> bool:
    from assistant.identity import kubeconfig

    try:
        return kubeconfig.planned_removal(record.path, record.arn, record.cluster, server=record.server) is None
    except (kubeconfig.KubeconfigError, OSError):
        return False


def _stop(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from assistant.errors import SandboxError

    try:
        stopped = stop_running(args.wait or 30.0)
    except SandboxError as exc:
        print(f"eks-assist sandbox: {exc}", file=err)
        return exc.exit_code
    if stopped.info is None:
        print(f"eks-assist sandbox: no sandbox is running for {statefile.state_dir()}; nothing to stop", file=out)
    else:
        print(f"eks-assist sandbox: stopped the sandbox (pid {stopped.info.pid}); its clusters are gone", file=out)
    _report_removed(out, stopped.removed, stopped.problems, "their clusters lived in the sandbox")
    return 1 if stopped.problems else 0


# -- for the wizard ----------------------------------------------------------------------------------


def start_for(owner_pid: int, progress: Callable[[float], None], timeout: float = 180.0) -> statefile.SandboxInfo:
    """Start a background sandbox owned by ``owner_pid`` (``eks-assist sandbox start``, as a process) and wait for it.

    ``progress`` gets the seconds waited so far, a few times a second. The sandbox stops by
    itself when the owner exits, unless :func:`keep` is called first.
    """
    from assistant.errors import SandboxError

    argv = [sys.executable, "-m", "assistant.sandbox", "start", "--owner-pid", str(owner_pid), "-o", "json"]
    argv += ["--wait", repr(timeout)]
    started = time.monotonic()
    with subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        try:
            while proc.poll() is None:
                progress(time.monotonic() - started)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(0.25)
        except BaseException:
            proc.terminate()  # the starter stops the sandbox it was starting
            raise
        stdout, stderr = proc.communicate()
    if proc.returncode != 0:
        raise SandboxError(stderr.decode(errors="replace").strip() or f"eks-assist sandbox start exited {proc.returncode}")
    info = statefile.read()
    pid = json.loads(stdout)["pid"]
    if info is None or info.pid != pid:
        raise SandboxError(f"the sandbox started (pid {pid}) but {statefile.state_path()} does not name it")
    return info


def keep(info: statefile.SandboxInfo, wait: float = 10.0) -> statefile.SandboxInfo:
    """Tell a sandbox started by :func:`start_for` to outlive its owner; returns its state once it says so."""
    from assistant.errors import SandboxError

    if not statefile.pid_alive(info.pid) or not _is_sandbox_process(info.pid):
        raise SandboxError(f"the sandbox (pid {info.pid}) is no longer running")
    os.kill(info.pid, signal.SIGUSR1)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        now = statefile.read()
        if now is not None and now.pid == info.pid and now.owner_pid is None:
            return now
        time.sleep(0.05)
    raise SandboxError(f"the sandbox (pid {info.pid}) did not confirm within {wait:g} s that it keeps running")
