"""The ``sandbox`` verb's options: argparse only, so ``eks-assist --help`` never imports the sandbox.

What the verb does lives in :mod:`assistant.sandbox.command`, loaded when the verb runs.
"""

from __future__ import annotations

import argparse

# Also the sandbox's own defaults (assistant.sandbox.command); a test keeps the two equal.
DEFAULT_PORT, DEFAULT_K8S_PORT = 4599, 4600
# The latency profiles of assistant.sandbox.latency, named here so --help need not import it.
PROFILE_NAMES: tuple[str, ...] = ("none", "fast", "realistic")

DESCRIPTION = """\
The local sandbox: AWS (moto and our EKS front) and a Kubernetes API per EKS cluster.

  eks-assist sandbox           serve in this terminal until Ctrl-C
  eks-assist sandbox start     serve in the background and return once it answers (output in sandbox.log)
  eks-assist sandbox status    where the running sandbox listens, who started it, the contexts written for it
  eks-assist sandbox stop      stop it

One sandbox runs per state directory ($EKS_ASSIST_STATE_DIR, else ~/.local/state/eks-assist),
published in sandbox.json there, where every --sandbox command, the wizard and the kubeconfig
token plugin find it. Its clusters live only as long as it does: when it stops, however it
stops, it removes the kubeconfig contexts written for them (only those) and says which.
"""
ACTIONS = ("start", "status", "stop")


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
    """Add the ``sandbox`` verb's action and options to ``parser``."""
    parser.add_argument(
        "action",
        nargs="?",
        choices=ACTIONS,
        metavar="ACTION",
        help="none: serve in this terminal until Ctrl-C; start: serve in the background and return once it answers "
        "(default ports if free, else any); status: show the running sandbox; stop: stop it "
        "(its clusters are gone, and the kubeconfig contexts written for them are removed)",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    parser.add_argument("--port", type=_port, default=DEFAULT_PORT, help="AWS endpoint port; 0 = any (default: %(default)s)")
    parser.add_argument(
        "--k8s-port", type=_port, default=DEFAULT_K8S_PORT, help="Kubernetes API port; 0 = any (default: %(default)s)"
    )
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
    parser.add_argument(
        "--wait",
        type=_positive,
        default=None,
        metavar="SECONDS",
        help="start: how long to wait for it to answer (default 120); stop: for it to exit (default 30)",
    )
    parser.add_argument(
        "-o", "--output", choices=("text", "json"), default="text", help="output of start and status (default: text)"
    )
    # Internal: set by `start` and by the wizard. The sandbox stops when the owner process exits
    # (unless told to keep running with SIGUSR1); --detached marks one started in the background.
    parser.add_argument("--owner-pid", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--detached", action="store_true", help=argparse.SUPPRESS)
