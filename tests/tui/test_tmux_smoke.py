"""The real ``eks-assist --sandbox`` in a real terminal (tmux), used the way the README's Quickstart says.

tmux runs on a private socket with a fixed window size; the command gets an isolated
environment (its own HOME, state directory and kubeconfig, no AWS settings). A second
"shell" (a subprocess with the same environment) runs what the wizard tells the user to run:
the real kubectl with the kubeconfig the wizard wrote, and ``eks-assist ... --sandbox``. The
tmux server is always killed, and any sandbox process the test left is stopped and waited for.
A missing tmux fails the test: CI installs it (.ci/run).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.sandbox import statefile

from ..auth.test_kubeconfig import EXISTING
from ..cli.test_bad_input import GOOD

pytestmark = pytest.mark.slow

COLS, ROWS = 100, 30
BIN = Path(sys.executable).parent
EXITED = "wizard-exited-"
# The CLI tests' small valid spec, with a context alias the Done screen can show.
SPEC = GOOD.replace("name: demo", "name: smoke") + "kubeconfig:\n  alias: smoke\n"


class Tmux:
    """A tmux server of our own (``-L``), one session in it."""

    def __init__(self, socket: str) -> None:
        self.base = [shutil.which("tmux") or "tmux", "-L", socket, "-f", "/dev/null"]
        self.session = "wizard"

    def __call__(self, *args: str) -> str:
        return subprocess.run([*self.base, *args], capture_output=True, text=True, check=True, timeout=30).stdout

    def screen(self) -> str:
        return self("capture-pane", "-p", "-J", "-t", self.session)

    def wait_for(self, text: str, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        shown = ""
        while time.monotonic() < deadline:
            shown = self.screen()
            if text in shown:
                return shown
            time.sleep(0.2)
        raise AssertionError(f"{text!r} never appeared; the pane shows:\n{shown}")

    def wait_gone(self, text: str, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        shown = self.screen()
        while text in shown:
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} never went away; the pane shows:\n{shown}")
            time.sleep(0.2)
            shown = self.screen()
        return shown

    def keys(self, *keys: str) -> None:
        self("send-keys", "-t", self.session, *keys)


class Shell:
    """Another terminal: the user's environment, without the wizard."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env

    def __call__(self, *argv: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(list(argv), env=self.env, capture_output=True, text=True, timeout=timeout)

    def eks_assist(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self(str(BIN / "eks-assist"), *args)

    def kubectl(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self(str(BIN / "kubectl"), "--kubeconfig", self.env["KUBECONFIG"], *args)

    def sandbox(self) -> dict | None:
        """The published sandbox (sandbox.json), or None."""
        path = Path(self.env["EKS_ASSIST_STATE_DIR"]) / "sandbox.json"
        return json.loads(path.read_text()) if path.exists() else None


_alive = statefile.pid_alive


def _wait_dead(pid: int, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    assert shutil.which("tmux"), "tmux is required for the wizard's terminal smoke test (apt-get install tmux)"
    t = Tmux(f"eks-assist-test-{os.getpid()}-{tmp_path.name}")
    try:
        yield t
    finally:
        subprocess.run([*t.base, "kill-server"], capture_output=True, timeout=30)


@pytest.fixture
def shell(tmp_path: Path, catalogue_cache: Path) -> Iterator[Shell]:
    """The isolated environment the wizard and the second shell share; stops any sandbox left behind."""
    env = {
        "HOME": str(tmp_path / "home"),
        "PATH": f"{BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
        "EKS_ASSIST_STATE_DIR": str(tmp_path / "state"),
        "KUBECONFIG": str(tmp_path / "kube" / "config"),
        "XDG_CACHE_HOME": str(catalogue_cache),
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    s = Shell(env)
    seen: set[int] = set()
    s.seen = seen  # type: ignore[attr-defined]  # pids the test saw, stopped below whatever happened
    try:
        yield s
    finally:
        info = s.sandbox()
        if info:
            seen.add(int(info["pid"]))
        for pid in seen:
            if _alive(pid):
                os.kill(pid, signal.SIGTERM)
                if not _wait_dead(pid):
                    os.kill(pid, signal.SIGKILL)
        leaked = [pid for pid in seen if not _wait_dead(pid, 10)]
        assert not leaked, f"sandbox processes left running: {leaked}"


def _start(tmux: Tmux, shell: Shell, *args: str, cols: int = COLS) -> None:
    command = " ".join(f"{k}={shlex.quote(v)}" for k, v in shell.env.items())
    command = f"env -i {command} {shlex.quote(str(BIN / 'eks-assist'))} --sandbox {' '.join(map(shlex.quote, args))}"
    # The pane outlives the wizard, so that what it prints on the way out can be read.
    command += f"; echo {EXITED}$?; sleep 600"
    tmux("new-session", "-d", "-s", tmux.session, "-x", str(cols), "-y", str(ROWS), command)


def _quit(tmux: Tmux, choice: str) -> str:
    tmux.keys("C-q")
    dialog = tmux.wait_for("Quit eks-assist?")
    assert "Keep running" in dialog and "Stop sandbox" in dialog
    tmux.keys(choice)
    return tmux.wait_for(f"{EXITED}0", timeout=90)


def test_the_wizard_runs_in_a_real_terminal(tmux: Tmux, shell: Shell) -> None:
    _start(tmux, shell)
    first = tmux.wait_for("Account 123456789012")
    assert "SANDBOX" in first and "us-east-1" in first and "Clusters in this region" in first
    assert "No EKS clusters in this region yet" in tmux.wait_for("No EKS clusters")
    shell.seen.add(int(shell.sandbox()["pid"]))  # type: ignore[attr-defined,index]

    tmux.keys("n")
    tmux.wait_for("Masters: the EKS control plane")
    tmux.keys("s", "m", "o", "k", "e", " ")
    shown = tmux.wait_for("✗ cluster name must be 1-100 characters")
    assert "got 'smoke '" in shown
    tmux.keys("BSpace")
    tmux.wait_gone("✗ cluster name")
    tmux.keys("C-n")
    tmux.wait_for("Workers: managed node groups")
    tmux.keys("a")
    tmux.wait_for("Add node group")
    tmux.keys("Escape")
    tmux.wait_for("No node groups yet")
    tmux.keys("Escape")
    back = tmux.wait_for("Masters: the EKS control plane")
    assert "smoke" in back  # Esc kept what was typed

    pid = int(shell.sandbox()["pid"])  # type: ignore[index]
    after = _quit(tmux, "s")
    assert "stopped the sandbox this wizard started" in after
    assert _wait_dead(pid), "the sandbox did not stop"
    assert shell.sandbox() is None


def _apply_from_the_wizard(tmux: Tmux, spec: Path) -> str:
    """Context → the pre-filled screens → Review → Apply (typing the name) → Done."""
    tmux.wait_for("No EKS clusters in this region yet")
    tmux.keys("n")
    for heading in ("Masters:", "Workers:", "CNI:", "IAM mappings", "Kubeconfig:"):
        tmux.wait_for(heading)
        tmux.keys("C-n")
    tmux.wait_for("Plan for playbook 'cluster'", timeout=120)
    tmux.keys("C-a")
    tmux.wait_for("Type the cluster name to approve")
    tmux.keys("s", "m", "o", "k", "e", "Enter")
    tmux.wait_for("smoke applied", timeout=240)
    tmux.keys("Enter")  # Continue, to the summary
    return tmux.wait_for("Cluster smoke is ready")


@pytest.mark.parametrize("choice", ["keep", "stop"])
def test_quickstart_then_kubectl_from_another_shell(tmux: Tmux, shell: Shell, tmp_path: Path, choice: str) -> None:
    """README command 1 through an apply; every command the Done screen shows works from a second shell; then quit."""
    kubeconfig = Path(shell.env["KUBECONFIG"])
    kubeconfig.parent.mkdir()
    kubeconfig.write_text(EXISTING)  # the user's own contexts, which nothing may touch
    spec = tmp_path / "smoke.yaml"
    spec.write_text(SPEC)
    # Wide enough that the temporary paths in the commands shown stay on one line each.
    _start(tmux, shell, "-f", str(spec), cols=220)
    tmux.wait_for("Account 123456789012")
    info = shell.sandbox()
    assert info is not None, "the wizard's sandbox publishes sandbox.json for other terminals"
    shell.seen.add(int(info["pid"]))  # type: ignore[attr-defined]
    done = _apply_from_the_wizard(tmux, spec)

    # What the Done screen suggests, run as shown from another terminal.
    assert f"kubectl --kubeconfig {kubeconfig} --context smoke get nodes" in done
    nodes = shell.kubectl("--context", "smoke", "get", "nodes")
    assert nodes.returncode == 0, nodes.stderr
    assert len([line for line in nodes.stdout.splitlines() if " Ready " in line]) == 2
    assert "eks-assist status smoke --sandbox" in done
    status = shell.eks_assist("status", "smoke", "--sandbox")
    assert status.returncode == 0, status.stderr
    assert "smoke  (ACTIVE)" in status.stdout and "general" in status.stdout
    assert "started an in-process sandbox" not in status.stderr  # it used the wizard's, not a fresh one
    assert "eks-assist access list --cluster smoke --sandbox" in done
    assert shell.eks_assist("access", "list", "--cluster", "smoke", "--sandbox").returncode == 0
    principal = "arn:aws:iam::123456789012:user/moto"
    assert f"eks-assist access check --cluster smoke --principal {principal} --sandbox" in done
    check = shell.eks_assist("access", "check", "--cluster", "smoke", "--principal", principal, "--sandbox")
    assert check.returncode == 0, check.stderr
    assert "AmazonEKSClusterAdminPolicy" in check.stdout
    token = shell.eks_assist("token", "--cluster-name", "smoke", "--sandbox")
    assert token.returncode == 0, token.stderr
    assert json.loads(token.stdout)["status"]["token"].startswith("k8s-aws-v1.")

    after = _quit(tmux, choice[0])
    pid = int(info["pid"])
    without_ours = EXISTING.replace("current-context: other", 'current-context: ""')
    if choice == "keep":
        assert "the sandbox keeps running in the background" in after
        assert "eks-assist sandbox stop" in after
        assert f"kubectl --kubeconfig {kubeconfig} --context smoke get nodes" in after
        # The wizard is gone; the sandbox, its cluster and the context work on.
        time.sleep(1.5)  # longer than the sandbox's check on its owner
        assert _alive(pid) and shell.sandbox()["owner_pid"] is None  # type: ignore[index]
        nodes = shell.kubectl("--context", "smoke", "get", "nodes")
        assert nodes.returncode == 0, nodes.stderr
        assert shell.eks_assist("status", "smoke", "--sandbox").returncode == 0
        # Stopping it later removes the context it kept working.
        stopped = shell.eks_assist("sandbox", "stop")
        assert stopped.returncode == 0, stopped.stderr
        assert f"removed kubeconfig context(s) smoke from {kubeconfig}" in stopped.stdout
    else:
        assert "stopped the sandbox this wizard started" in after
        assert f"Removed kubeconfig context(s) smoke from {kubeconfig}" in after
    assert _wait_dead(pid), "the sandbox did not stop"
    assert shell.sandbox() is None
    # Our entries are gone; the user's are byte-for-byte what they were.
    assert kubeconfig.read_text() == without_ours
    token = shell.eks_assist("token", "--cluster-name", "smoke", "--sandbox")
    assert token.returncode == 1
    assert "no sandbox is running" in token.stderr and "eks-assist sandbox start" in token.stderr
