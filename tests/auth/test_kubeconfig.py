"""Kubeconfig merging: other contexts stay byte-for-byte, mode 0600, idempotent, no secrets."""

from __future__ import annotations

import difflib
import stat
from pathlib import Path

import pytest
import yaml

from assistant.identity import kubeconfig
from assistant.identity.kubeconfig import ClusterInfo, ExecOptions

ARN = "arn:aws:eks:us-east-1:123456789012:cluster/demo"
CLUSTER = ClusterInfo("demo", ARN, "https://127.0.0.1:4600/k8s/demo-1a2b3c4d", "Q0EgZGF0YQ==", "us-east-1")
BUILTIN = ExecOptions(command="/opt/bin/eks-assist")

# Two other contexts, in the styles kubectl and hand editing leave behind: comments, flow maps,
# an indented list, a token user. None of it may change.
EXISTING = """\
apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: T1RIRVI=
    server: https://other.example:6443
  name: other
# staging is managed by hand
- cluster: {server: 'https://staging.example', insecure-skip-tls-verify: true}
  name: staging
contexts:
- context:
    cluster: other
    namespace: team-a
    user: other-admin
  name: other
- context: {cluster: staging, user: staging}   # keep this comment
  name: staging
current-context: other
kind: Config
preferences: {}
users:
  - name: other-admin
    user:
      client-certificate-data: Q0VSVA==
      client-key-data: S0VZ
  - name: staging
    user:
      token: do-not-touch
"""


def _blocks(text: str) -> list[str]:
    """The original text of every entry that is not ours, for byte-for-byte comparison."""
    keep = []
    for block in (
        "- cluster:\n    certificate-authority-data: T1RIRVI=\n    server: https://other.example:6443\n  name: other\n",
        "# staging is managed by hand\n- cluster: {server: 'https://staging.example', insecure-skip-tls-verify: true}\n  name: staging\n",
        "- context:\n    cluster: other\n    namespace: team-a\n    user: other-admin\n  name: other\n",
        "- context: {cluster: staging, user: staging}   # keep this comment\n  name: staging\n",
        "  - name: other-admin\n    user:\n      client-certificate-data: Q0VSVA==\n      client-key-data: S0VZ\n",
        "  - name: staging\n    user:\n      token: do-not-touch\n",
    ):
        assert block in text
        keep.append(block)
    return keep


@pytest.fixture
def existing(tmp_path: Path) -> Path:
    path = tmp_path / "kube" / "config"
    path.parent.mkdir()
    path.write_text(EXISTING)
    path.chmod(0o644)
    return path


def _load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def _by_name(data: dict, section: str, name: str) -> dict:
    return next(i for i in data[section] if i["name"] == name)


def test_merge_keeps_other_contexts_byte_for_byte(existing: Path) -> None:
    originals = _blocks(EXISTING)
    result = kubeconfig.write(CLUSTER, BUILTIN, existing)
    assert (result.op, result.context, result.path) == ("create", ARN, existing)
    text = existing.read_text()
    for block in originals:
        assert block in text
    # Line by line, the only original line that changed is current-context; the rest was only added to.
    removed = [line for line in difflib.ndiff(EXISTING.splitlines(), text.splitlines()) if line.startswith("- ")]
    assert removed == ["- current-context: other"]
    assert stat.S_IMODE(existing.stat().st_mode) == 0o600
    data = _load(existing)
    assert data["current-context"] == ARN
    assert [c["name"] for c in data["contexts"]] == ["other", "staging", ARN]
    assert _by_name(data, "clusters", ARN) == {
        "cluster": {"certificate-authority-data": CLUSTER.ca_data, "server": CLUSTER.endpoint},
        "name": ARN,
    }
    assert _by_name(data, "contexts", ARN) == {"context": {"cluster": ARN, "user": ARN}, "name": ARN}
    assert _by_name(data, "users", ARN) == {
        "name": ARN,
        "user": {
            "exec": {
                "apiVersion": "client.authentication.k8s.io/v1beta1",
                "args": ["token", "--cluster-name", "demo", "--region", "us-east-1"],
                "command": "/opt/bin/eks-assist",
            }
        },
    }
    # the new user entry follows the list's own indentation
    assert f"  - name: {ARN}\n    user:\n      exec:\n" in text
    assert not list(existing.parent.glob(".config.*.tmp"))  # no temp file left behind


def test_rewrite_is_idempotent_and_updates_only_our_entries(existing: Path) -> None:
    kubeconfig.write(CLUSTER, BUILTIN, existing)
    first = existing.read_text()
    mtime = existing.stat().st_mtime_ns
    assert kubeconfig.write(CLUSTER, BUILTIN, existing).op == "no-op"
    assert existing.read_text() == first and existing.stat().st_mtime_ns == mtime

    moved = ClusterInfo("demo", ARN, "https://127.0.0.1:4601/k8s/demo-9", CLUSTER.ca_data, "us-east-1")
    assert kubeconfig.write(moved, BUILTIN, existing).op == "update"
    text = existing.read_text()
    assert text.count(ARN + "\n") == first.count(ARN + "\n")  # replaced in place, not added again
    assert _by_name(_load(existing), "clusters", ARN)["cluster"]["server"] == moved.endpoint
    for block in _blocks(EXISTING):
        assert block in text


def test_alias_names_the_context_and_current_context_moves(existing: Path) -> None:
    result = kubeconfig.write(CLUSTER, BUILTIN, existing, alias="demo")
    assert result.context == "demo"
    data = _load(existing)
    assert data["current-context"] == "demo"
    assert _by_name(data, "contexts", "demo")["context"] == {"cluster": ARN, "user": ARN}
    assert {c["name"] for c in data["clusters"]} == {"other", "staging", ARN}


def test_aws_exec_shape_with_profile(existing: Path) -> None:
    kubeconfig.write(CLUSTER, ExecOptions(kind="aws", profile="platform"), existing)
    user = _by_name(_load(existing), "users", ARN)["user"]
    assert user == {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "args": ["--region", "us-east-1", "eks", "get-token", "--cluster-name", "demo", "--output", "json"],
            "command": "aws",
            "env": [{"name": "AWS_PROFILE", "value": "platform"}],
        }
    }


def test_sandbox_exec_finds_the_sandbox_itself(tmp_path: Path) -> None:
    path = tmp_path / "config"
    kubeconfig.write(CLUSTER, ExecOptions(sandbox=True, sandbox_endpoint="http://127.0.0.1:4599", command="eks-assist"), path)
    user = _by_name(_load(path), "users", ARN)["user"]["exec"]
    assert user["args"][-1] == "--sandbox" and "env" not in user


def test_no_credentials_are_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIASHOULDNOTAPPEAR0")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret-that-must-not-appear")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "session-token-that-must-not-appear")
    path = tmp_path / "config"
    for options in (
        BUILTIN,
        ExecOptions(kind="aws", profile="p"),
        ExecOptions(sandbox=True, sandbox_endpoint="http://127.0.0.1:1"),
    ):
        kubeconfig.write(CLUSTER, options, path)
        text = path.read_text()
        for secret in ("AKIASHOULDNOTAPPEAR0", "secret-that-must-not-appear", "session-token-that-must-not-appear", "k8s-aws-v1"):
            assert secret not in text
        assert "token:" not in text and "AWS_SECRET" not in text and "AWS_ACCESS_KEY" not in text


def test_default_path_is_first_kubeconfig_entry_then_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("KUBECONFIG", raising=False)  # the suite-wide fixture sets one
    assert kubeconfig.default_path() == tmp_path / ".kube" / "config"
    first, second = tmp_path / "a", tmp_path / "b"
    monkeypatch.setenv("KUBECONFIG", f"{first}:{second}")
    assert kubeconfig.default_path() == first
    kubeconfig.write(CLUSTER, BUILTIN)
    assert first.exists() and not second.exists()
    assert stat.S_IMODE(first.stat().st_mode) == 0o600


@pytest.mark.parametrize(
    "text",
    [
        "",
        "# only a comment\n",
        "apiVersion: v1\nkind: Config\nclusters: []\ncontexts:\nusers: null\n",
        '{"apiVersion": "v1", "kind": "Config", "clusters": [{"name": "x", "cluster": {"server": "https://x"}}]}',
    ],
    ids=["empty", "comment", "empty-lists", "json"],
)
def test_merge_into_unusual_files(tmp_path: Path, text: str) -> None:
    path = tmp_path / "config"
    path.write_text(text)
    kubeconfig.write(CLUSTER, BUILTIN, path)
    data = _load(path)
    assert _by_name(data, "contexts", ARN) and _by_name(data, "users", ARN) and data["current-context"] == ARN
    assert kubeconfig.write(CLUSTER, BUILTIN, path).op == "no-op"


def test_not_a_kubeconfig_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "config"
    path.write_text("- just\n- a list\n")
    with pytest.raises(kubeconfig.KubeconfigError, match="not a kubeconfig"):
        kubeconfig.write(CLUSTER, BUILTIN, path)
    assert path.read_text() == "- just\n- a list\n"


def test_locks_like_kubectl_and_leaves_no_lock_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "config"
    kubeconfig.write(CLUSTER, BUILTIN, path)
    # kubectl refuses to edit a kubeconfig whose <file>.lock exists, so none may be left over
    assert not (tmp_path / "config.lock").exists()
    (tmp_path / "config.lock").write_text("")  # a kubectl writing right now
    monkeypatch.setattr(kubeconfig, "KUBECTL_LOCK_WAIT", 0.2)
    with pytest.raises(kubeconfig.KubeconfigError, match="another kubectl is writing the file"):
        kubeconfig.write(CLUSTER, ExecOptions(kind="aws"), path)
    assert (tmp_path / "config.lock").exists()
    assert _by_name(_load(path), "users", ARN)["user"]["exec"]["command"] == "/opt/bin/eks-assist"


def test_a_lock_left_by_a_killed_writer_is_taken_over(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A writer SIGKILLed inside the lock leaves <file>.lock behind; the next eks-assist write takes it over."""
    import signal
    import subprocess
    import sys

    path = tmp_path / "config"
    holder = "import os, signal, sys\nfrom pathlib import Path\nfrom assistant.identity import kubeconfig\n"
    holder += "with kubeconfig._locked(Path(sys.argv[1])):\n    os.kill(os.getpid(), signal.SIGKILL)\n"
    killed = subprocess.run([sys.executable, "-c", holder, str(path)], check=False)
    assert killed.returncode == -signal.SIGKILL
    assert (tmp_path / "config.lock").exists()  # what the kill left behind
    monkeypatch.setattr(kubeconfig, "KUBECTL_LOCK_WAIT", 0.2)
    assert kubeconfig.write(CLUSTER, BUILTIN, path).op == "create"
    assert not (tmp_path / "config.lock").exists()
    assert not list(tmp_path.glob(".config.lock.*"))


def test_concurrent_writers_lose_no_update(existing: Path) -> None:
    import threading

    clusters = [
        ClusterInfo(
            f"c{i}", f"arn:aws:eks:us-east-1:123456789012:cluster/c{i}", f"https://127.0.0.1:1/k8s/c{i}", "Q0E=", "us-east-1"
        )
        for i in range(8)
    ]
    errors: list[BaseException] = []

    def write(info: ClusterInfo) -> None:
        try:
            kubeconfig.write(info, BUILTIN, existing)
        except BaseException as exc:  # surfaced below; a thread must not swallow it
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(c,)) for c in clusters]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    names = {c["name"] for c in _load(existing)["contexts"]}
    assert names == {"other", "staging", *(c.arn for c in clusters)}
    for block in _blocks(EXISTING):
        assert block in existing.read_text()
