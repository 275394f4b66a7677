"""``eks-assist sandbox`` in the foreground: flags, the state file, and a clean stop on SIGTERM."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.cli import sandbox as sandbox_options
from assistant.errors import SandboxError
from assistant.sandbox import command, statefile

from ..auth.test_kubeconfig import EXISTING
from .helpers import cluster_with_context, published_cluster, stop_sandbox_processes, wait_for

REPO = Path(__file__).resolve().parents[2]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="eks-assist sandbox")
    sandbox_options.add_arguments(parser)
    return parser


def test_cli_options_name_the_sandbox_own_defaults_and_profiles() -> None:
    # The CLI restates these so --help need not import the sandbox; they must not drift apart.
    from assistant.sandbox.latency import PROFILE_NAMES

    assert (sandbox_options.DEFAULT_PORT, sandbox_options.DEFAULT_K8S_PORT) == (command.DEFAULT_PORT, command.DEFAULT_K8S_PORT)
    assert sandbox_options.PROFILE_NAMES == PROFILE_NAMES


def test_defaults() -> None:
    args = _parser().parse_args([])
    assert args.action is None  # no action: serve in the foreground
    assert (args.host, args.port, args.k8s_port, args.latency, args.time_scale) == ("127.0.0.1", 4599, 4600, "fast", 1.0)
    assert (args.fault_throttle, args.fault_5xx, args.fault_latency_ms, args.fault_seed) == (0.0, 0.0, 0, None)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--fault-throttle", "1.5"], "must be between 0 and 1"),
        (["--fault-5xx", "lots"], "expected a number between 0 and 1"),
        (["--time-scale", "0"], "must be greater than 0"),
        (["--latency", "glacial"], "invalid choice"),
        (["--port", "70000"], "must be a port number"),
    ],
)
def test_bad_flags_exit_2(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        _parser().parse_args(argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_rates_that_add_up_to_more_than_one_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    args = _parser().parse_args(["--fault-throttle", "0.6", "--fault-5xx", "0.6"])
    assert command.run(args) == 2
    assert "must not exceed 1" in capsys.readouterr().err


def _info(isolated_env: Path, pid: int, url: str = "http://127.0.0.1:9") -> statefile.SandboxInfo:
    return statefile.SandboxInfo(
        aws_url=url, k8s_url="https://127.0.0.1:9", pid=pid, region="us-east-1",
        access_key_id="x", secret_access_key="y", ca_path=str(isolated_env / "ca.pem"),
    )  # fmt: skip


def test_find_running_ignores_a_dead_sandbox(isolated_env: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    info = _info(isolated_env, int(dead.stdout))
    statefile.write(info)
    assert statefile.read() == info
    assert statefile.find_running(timeout=0.5) is None
    # A lock file nobody holds: the sandbox that made it is gone, whatever its pid is now.
    statefile.write(_info(isolated_env, os.getpid()))
    statefile.lock_path().touch()
    assert statefile.find_running(timeout=0.5) is None


def test_a_live_sandbox_that_does_not_answer_is_an_error_not_a_missing_one(isolated_env: Path) -> None:
    """The recorded process lives but its endpoint is silent: wait, then say so; never report 'none running'."""
    statefile.write(_info(isolated_env, os.getpid()))
    with pytest.raises(SandboxError, match=r"\(pid \d+\) is running, but http://127.0.0.1:9 did not answer for 1 s"):
        statefile.find_running(timeout=0.2, patience=1.0)


def _cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "assistant.cli", *args], capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def background(isolated_env: Path) -> Iterator[list[int]]:
    """Pids of background sandboxes a test starts; each is stopped and waited for afterwards."""
    pids: list[int] = []
    try:
        yield pids
    finally:
        stop_sandbox_processes(pids)


def test_start_status_stop_in_the_background(background: list[int]) -> None:
    started = _cli("sandbox", "start", "--port", "0", "--k8s-port", "0", "-o", "json")
    assert started.returncode == 0, started.stderr
    data = json.loads(started.stdout)
    background.append(data["pid"])
    assert data["state"] == "started" and data["background"] is True and data["owner_pid"] is None
    assert "secret_access_key" not in data
    info = statefile.find_running()
    assert info is not None and info.pid == data["pid"] != os.getpid()
    assert statefile.lock_held()

    status = _cli("sandbox", "status")
    assert status.returncode == 0 and f"running (pid {info.pid}): runs in the background" in status.stdout
    again = _cli("sandbox", "start", "-o", "json")
    assert again.returncode == 0 and json.loads(again.stdout)["state"] == "already running"
    # One sandbox per state directory: a second one is refused, with the one to use.
    second = _cli("sandbox", "--port", "0", "--k8s-port", "0", timeout=60)
    assert second.returncode == 1
    assert f"a sandbox is already running for {statefile.state_dir()} (pid {info.pid}" in second.stderr

    stopped = _cli("sandbox", "stop")
    assert stopped.returncode == 0, stopped.stderr
    assert f"stopped the sandbox (pid {info.pid}); its clusters are gone" in stopped.stdout
    assert not statefile.pid_alive(info.pid) and statefile.read() is None and not statefile.lock_held()
    status = _cli("sandbox", "status")
    assert status.returncode == 1 and "no sandbox is running" in status.stdout
    assert _cli("sandbox", "stop").stdout.endswith("nothing to stop\n")


def test_taken_default_ports_give_free_ones(background: list[int]) -> None:
    import socket

    holders = []
    for port in (sandbox_options.DEFAULT_PORT, sandbox_options.DEFAULT_K8S_PORT):
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", port))
            s.listen()
        except OSError:
            pass  # taken already, by someone else: just as good
        holders.append(s)
    try:
        started = _cli("sandbox", "start", "-o", "json")
        assert started.returncode == 0, started.stderr
        background.append(json.loads(started.stdout)["pid"])
        info = statefile.find_running()
        assert info is not None
        assert not info.aws_url.endswith(f":{sandbox_options.DEFAULT_PORT}") and not info.k8s_url.endswith(
            f":{sandbox_options.DEFAULT_K8S_PORT}"
        )
    finally:
        for s in holders:
            s.close()


def test_a_sandbox_stops_with_its_owner_and_removes_the_contexts_written_for_it(background: list[int], tmp_path: Path) -> None:
    """The wizard's sandbox, when the wizard dies without asking (SIGKILL): gone, and no dangling context left."""
    owner = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    try:
        started = _cli("sandbox", "start", "--port", "0", "--k8s-port", "0", "--owner-pid", str(owner.pid), "-o", "json")
        assert started.returncode == 0, started.stderr
        info = statefile.find_running()
        assert info is not None and info.owner_pid == owner.pid
        background.append(info.pid)
        kubeconfig = tmp_path / "config"
        kubeconfig.write_text(EXISTING)
        cluster_with_context(info, kubeconfig)
        assert "context demo (cluster demo)" in _cli("sandbox", "status").stdout
    finally:
        owner.kill()
        owner.wait()
    wait_for(lambda: not statefile.pid_alive(info.pid), timeout=30, what="the sandbox to notice its owner is gone")
    assert statefile.read() is None and not statefile.lock_held()
    text = kubeconfig.read_text()
    assert text == EXISTING.replace("current-context: other", 'current-context: ""')  # ours gone, the rest byte-for-byte
    log = statefile.log_path().read_text()
    assert f"the wizard that started it (pid {owner.pid}) has exited; stopping" in log
    assert f"removed kubeconfig context(s) demo from {kubeconfig}" in log


def test_a_busy_sandbox_is_waited_for_not_replaced(background: list[int]) -> None:
    """Under load the health check can miss its window: a --sandbox command waits for the running one.

    Before, it quietly started an empty in-process sandbox and said the cluster did not exist.
    """
    started = _cli("sandbox", "start", "--port", "0", "--k8s-port", "0", "--latency", "none", "-o", "json")
    assert started.returncode == 0, started.stderr
    info = statefile.find_running()
    assert info is not None
    background.append(info.pid)
    cluster_with_context(info, Path(os.environ["KUBECONFIG"]))
    os.kill(info.pid, signal.SIGSTOP)  # as busy as a sandbox gets: it answers nothing
    try:
        status = subprocess.Popen(
            [sys.executable, "-m", "assistant.cli", "status", "demo", "--sandbox"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        time.sleep(4)  # well past the health check's 2 s
        assert status.poll() is None, status.communicate()  # still waiting for the sandbox, not answering without it
    finally:
        os.kill(info.pid, signal.SIGCONT)
    out, err = status.communicate(timeout=120)
    assert status.returncode == 0, err
    assert "demo  (ACTIVE)" in out
    assert "in-process sandbox" not in err


def test_runs_in_the_foreground_and_cleans_up(isolated_env: Path) -> None:
    assert statefile.state_path() == isolated_env / "sandbox.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant.sandbox", "--port", "0", "--k8s-port", "0", "--latency", "none"],
        cwd=REPO,
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:

        def started() -> statefile.SandboxInfo | None:
            assert proc.poll() is None, f"the sandbox exited early: {proc.communicate()}"
            return statefile.find_running()

        info = wait_for(started, timeout=30, what="the sandbox state file")
        assert info.pid == proc.pid
        assert (os.stat(statefile.state_path()).st_mode & 0o777) == 0o600
        assert Path(info.ca_path).read_text().startswith("-----BEGIN CERTIFICATE-----")

        # Under the "none" profile a create is ACTIVE at once; a delete is gone on the next read.
        eks, cluster = published_cluster(info, "cli")
        assert cluster["status"] == "ACTIVE" and cluster["endpoint"].startswith(info.k8s_url)
        assert eks.delete_cluster(name="cli")["cluster"]["status"] == "DELETING"
        with pytest.raises(eks.exceptions.ResourceNotFoundException):
            eks.describe_cluster(name="cli")
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert f"export AWS_ENDPOINT_URL={info.aws_url}" in out
    assert "export AWS_DEFAULT_REGION=us-east-1" in out
    assert info.k8s_url in out
    assert not statefile.state_path().exists()
    assert not Path(info.ca_path).exists()
    assert statefile.find_running() is None
    assert json.dumps(info.env())  # plain strings, ready for a subprocess environment
