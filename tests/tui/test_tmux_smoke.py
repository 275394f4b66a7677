"""The real ``eks-assist --sandbox`` in a real terminal (tmux): it paints, takes keys, and quits.

tmux runs on a private socket with a fixed window size; the command gets an isolated
environment (its own HOME, state directory and kubeconfig, no AWS settings). The tmux
server is always killed. A missing tmux fails the test: CI installs it (.ci/run).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

COLS, ROWS = 100, 30


class Tmux:
    """A tmux server of our own (``-L``), one session in it."""

    def __init__(self, socket: str) -> None:
        self.base = [shutil.which("tmux") or "tmux", "-L", socket, "-f", "/dev/null"]
        self.session = "wizard"

    def __call__(self, *args: str) -> str:
        return subprocess.run([*self.base, *args], capture_output=True, text=True, check=True, timeout=30).stdout

    def screen(self) -> str:
        return self("capture-pane", "-p", "-t", self.session)

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


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    assert shutil.which("tmux"), "tmux is required for the wizard's terminal smoke test (apt-get install tmux)"
    t = Tmux(f"eks-assist-test-{os.getpid()}")
    try:
        yield t
    finally:
        subprocess.run([*t.base, "kill-server"], capture_output=True, timeout=30)


def test_the_wizard_runs_in_a_real_terminal(tmux: Tmux, tmp_path: Path, catalogue_cache: Path) -> None:
    binary = Path(sys.executable).parent / "eks-assist"
    assert binary.exists(), f"{binary} missing: install the package (pip install -e .)"
    env = {
        "HOME": str(tmp_path / "home"),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
        "EKS_ASSIST_STATE_DIR": str(tmp_path / "state"),
        "KUBECONFIG": str(tmp_path / "kubeconfig"),
        "XDG_CACHE_HOME": str(catalogue_cache),
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    command = "env -i " + " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items()) + f" {shlex.quote(str(binary))} --sandbox"
    tmux("new-session", "-d", "-s", tmux.session, "-x", str(COLS), "-y", str(ROWS), command)

    first = tmux.wait_for("Account 123456789012")
    assert "SANDBOX" in first and "us-east-1" in first and "Clusters in this region" in first
    assert "No EKS clusters in this region yet" in tmux.wait_for("No EKS clusters")

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

    tmux.keys("C-q")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if subprocess.run([*tmux.base, "has-session", "-t", tmux.session], capture_output=True).returncode != 0:
            break
        time.sleep(0.2)
    else:
        raise AssertionError("the wizard did not quit on Ctrl+Q:\n" + tmux.screen())
