"""The package works installed from a wheel (playbooks inside it), and `--sandbox` starts an
in-process sandbox when none is running."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from ..conftest import EXAMPLES, REPO

pytestmark = pytest.mark.slow


def test_playbooks_load_from_an_installed_wheel(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(REPO)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = wheels.glob("eks_assist-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert {f"assistant/_playbooks/{n}.yaml" for n in ("masters", "workers", "cluster", "teardown")} <= set(names)
    assert "assistant/sandbox/eks/kubernetes_versions.toml" in names  # the sandbox's version catalogue is data
    # Test doubles (the mock Slack API) live in tests/, and are not shipped.
    assert not [n for n in names if n.startswith("tests/") or n.endswith("/testing.py")], names
    target = tmp_path / "site"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(target)  # a wheel is a zip laid out as site-packages
    code = (
        "import assistant, json\n"
        "from assistant.playbook import available, load_playbook, playbooks_dir\n"
        "print(json.dumps({'file': assistant.__file__, 'dir': str(playbooks_dir()), "
        "'steps': {n: len(load_playbook(n).steps) for n in available()}}))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(target)
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, check=True)
    info = json.loads(out.stdout)
    assert info["file"].startswith(str(target))
    assert info["dir"] == str(target / "assistant" / "_playbooks")
    assert info["steps"] == {
        "cluster": 16,
        "cni": 3,
        "iam-mappings": 2,
        "kubeconfig": 1,
        "masters": 7,
        "teardown": 11,
        "workers": 3,
    }


def test_sandbox_flag_starts_one_in_process_when_none_runs(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
    r = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "plan", "-f", str(EXAMPLES / "demo.yaml"), "--sandbox", "-o", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    assert "started an in-process sandbox at http://127.0.0.1:" in r.stderr
    assert f"its kubeconfig goes to {os.environ['EKS_ASSIST_STATE_DIR']}/sandbox-kubeconfig" in r.stderr
    plan = json.loads(r.stdout)
    assert plan["summary"]["create"] == 13 and plan["account"] == "123456789012"
    # a fresh sandbox is deterministic: the same spec plans to the same hash
    again = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "plan", "-f", str(EXAMPLES / "demo.yaml"), "--sandbox", "-o", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
    )
    assert json.loads(again.stdout)["hash"] == plan["hash"]
