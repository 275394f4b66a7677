"""``eks-assist sandbox``: run the sandbox in the foreground until SIGINT or SIGTERM.

Cheap to import: the sandbox itself (moto, cryptography) loads only in ``run``.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any, TextIO

from assistant.sandbox.latency import PROFILE_NAMES


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1, got {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number greater than 0, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0, got {text}")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def _port(text: str) -> int:
    value = _non_negative_int(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"must be a port number (0-65535, 0 = any free port), got {text}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``sandbox`` verb's options to ``parser``."""
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    parser.add_argument("--port", type=_port, default=4599, help="AWS endpoint port; 0 = any (default: %(default)s)")
    parser.add_argument("--k8s-port", type=_port, default=4600, help="Kubernetes API port; 0 = any (default: %(default)s)")
    parser.add_argument(
        "--latency", choices=PROFILE_NAMES, default="fast", help="how long EKS state changes take (default: %(default)s)"
    )
    parser.add_argument(
        "--time-scale", type=_positive, default=1.0, metavar="FLOAT", help="multiply every delay (default: %(default)s)"
    )
    parser.add_argument("--fault-throttle", type=_rate, default=0.0, metavar="RATE", help="share of AWS calls throttled")
    parser.add_argument("--fault-5xx", type=_rate, default=0.0, metavar="RATE", help="share of AWS calls answered 503")
    parser.add_argument(
        "--fault-latency-ms", type=_non_negative_int, default=0, metavar="MS", help="latency added to every AWS call"
    )
    parser.add_argument("--fault-seed", type=int, default=None, metavar="N", help="seed for reproducible faults")


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
    print("Press Ctrl-C to stop.", file=out)
    out.flush()


def run(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Start the sandbox, publish its state file, and serve until SIGINT/SIGTERM. Returns an exit code."""
    from assistant.errors import SandboxError
    from assistant.sandbox import statefile
    from assistant.sandbox.faults import FaultConfig
    from assistant.sandbox.sandbox import Sandbox

    out = out or sys.stdout
    err = err or sys.stderr
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

    stop = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        stop.set()

    # SIGHUP too: closing the terminal that runs the sandbox must also remove its state file.
    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    sandbox = Sandbox(
        latency=args.latency,
        time_scale=args.time_scale,
        faults=faults,
        host=args.host,
        port=args.port,
        k8s_port=args.k8s_port,
    )
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
        )
        state_path = statefile.write(info)
        _print_banner(out, sandbox, str(ca_path), str(state_path))
        while not stop.wait(0.5):
            pass
        print("eks-assist sandbox: stopping", file=out, flush=True)
        return 0
    except SandboxError as exc:
        print(f"eks-assist sandbox: {exc}", file=err)
        return exc.exit_code
    finally:
        sandbox.stop()
        statefile.remove()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point for ``python -m assistant.sandbox``."""
    parser = argparse.ArgumentParser(prog="eks-assist sandbox", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))
