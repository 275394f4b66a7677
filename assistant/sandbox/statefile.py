"""``sandbox.json``: how other processes find a running sandbox, and what it leaves behind.

It lives in ``$EKS_ASSIST_STATE_DIR``, else ``$XDG_STATE_HOME/eks-assist``, else
``~/.local/state/eks-assist``, next to:

- ``sandbox-ca.pem``: the sandbox CA, which kubeconfigs and tools point at;
- ``sandbox.lock``: held (``flock``) by the sandbox process for its whole life, so that
  "is one running?" has a true answer even while it starts or is too busy to answer;
- ``sandbox-kubeconfigs.json``: the kubeconfig entries written for its clusters, which the
  sandbox removes when it stops (its clusters are gone with it);
- ``sandbox.log``: the output of a sandbox started in the background.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from assistant.errors import SandboxError

STATE_FILE = "sandbox.json"
CA_FILE = "sandbox-ca.pem"
LOCK_FILE = "sandbox.lock"
LOG_FILE = "sandbox.log"
KUBECONFIGS_FILE = "sandbox-kubeconfigs.json"

# How long a client waits for a sandbox that runs (its lock is held) but does not answer yet:
# it may be starting, or busy under load. Past this, it fails with the reason instead of
# quietly starting a private sandbox that knows none of the clusters.
PATIENCE = 30.0


@dataclass(frozen=True)
class SandboxInfo:
    """Where a running sandbox listens and how to talk to it."""

    aws_url: str
    k8s_url: str
    pid: int
    region: str
    access_key_id: str
    secret_access_key: str
    ca_path: str
    # The process (the wizard) that started this sandbox and stops it when it quits, unless the
    # user keeps it; None when it runs on its own.
    owner_pid: int | None = None
    # Started with ``eks-assist sandbox start``: detached, its output in ``sandbox.log``.
    background: bool = False

    def env(self) -> dict[str, str]:
        """Environment variables that point boto3-based tools at this sandbox."""
        return {
            "AWS_ENDPOINT_URL": self.aws_url,
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
        }


def state_dir() -> Path:
    """The directory that holds the state file."""
    explicit = os.environ.get("EKS_ASSIST_STATE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_STATE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "state"
    return base / "eks-assist"


def state_path() -> Path:
    """The full path of ``sandbox.json``."""
    return state_dir() / STATE_FILE


def lock_path() -> Path:
    """The full path of ``sandbox.lock``."""
    return state_dir() / LOCK_FILE


def log_path() -> Path:
    """Where a background sandbox writes its output."""
    return state_dir() / LOG_FILE


def _atomic_write(path: Path, text: str) -> None:
    from assistant.store import ensure_state_dir

    # The store's state directory: a file in its place, or no permission, is said in plain words.
    ensure_state_dir(path.parent)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        # The file names credentials; even sandbox ones stay private to the user.
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_ca(ca_pem: str) -> Path:
    """Store the CA next to the state file so kubeconfigs and tools can point at it."""
    path = state_dir() / CA_FILE
    _atomic_write(path, ca_pem)
    return path


def write(info: SandboxInfo) -> Path:
    """Publish a running sandbox (atomically, mode 0600)."""
    path = state_path()
    _atomic_write(path, json.dumps(asdict(info), indent=2) + "\n")
    return path


def read() -> SandboxInfo | None:
    """The recorded sandbox, whether or not it still runs; None if absent or unreadable."""
    try:
        data = json.loads(state_path().read_text())
        return SandboxInfo(**data)
    except (OSError, ValueError, TypeError):
        return None


def remove(pid: int | None = None) -> None:
    """Delete the state file and CA, but only if they belong to ``pid`` (default: this process)."""
    owner = os.getpid() if pid is None else pid
    info = read()
    if info is None or info.pid != owner:
        return
    for path in (state_path(), Path(info.ca_path)):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


# -- the lock: is a sandbox running for this state directory? -------------------------------


def hold_lock() -> int | None:
    """Take ``sandbox.lock`` for this process's life: the fd to keep open, or None if another process holds it."""
    from assistant.store import ensure_state_dir

    path = lock_path()
    ensure_state_dir(path.parent)  # a file in its place, or no permission, said in plain words
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def release_lock(fd: int) -> None:
    """Give up the lock taken with :func:`hold_lock`."""
    with contextlib.suppress(OSError):
        fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)


def lock_held() -> bool:
    """True while some process (a sandbox, running or starting) holds ``sandbox.lock``."""
    try:
        fd = os.open(lock_path(), os.O_RDONLY)
    except OSError:
        return False
    try:
        # flock locks belong to the open file: this probe conflicts even with a lock held by
        # this same process through another descriptor.
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing drops the probe's lock, if it got one
    return False


def pid_alive(pid: int) -> bool:
    """True if a process with this id runs (someone else's counts; a zombie, which has exited, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process, but alive
    try:
        # "pid (comm) S ...": a zombie has exited and only waits for its parent to collect it.
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True  # no /proc to ask: kill(0) is all there is


def healthy(aws_url: str, timeout: float) -> bool:
    """True if the sandbox at ``aws_url`` answers its health endpoint within ``timeout`` seconds."""
    # The sandbox is on loopback; a proxy from the environment must not get in the way.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"{aws_url}/_sandbox/health", timeout=timeout) as response:
            return bool(json.loads(response.read()).get("ok"))
    except (OSError, ValueError, urllib.error.URLError):
        return False


def _unreachable(info: SandboxInfo | None, patience: float) -> str:
    if info is None or not pid_alive(info.pid):
        return (
            f"a sandbox holds {lock_path()} but published no usable state file in {patience:g} s "
            f"(see {log_path()} if it runs in the background). Wait and try again, or stop it: eks-assist sandbox stop"
        )
    return (
        f"the sandbox in {state_path()} (pid {info.pid}) is running, but {info.aws_url} did not answer for "
        f"{patience:g} s: it may be overloaded or stuck. Wait and try again, or restart it: "
        "eks-assist sandbox stop, then eks-assist sandbox start"
    )


def find_running(timeout: float = 2.0, patience: float = PATIENCE) -> SandboxInfo | None:
    """The published sandbox if it runs and answers; None if no sandbox runs.

    A sandbox that runs (its lock is held, or its recorded process lives and predates the
    lock) but does not answer is waited for, up to ``patience`` seconds: it may be starting or
    busy. After that: :class:`SandboxError` saying so, never None, so that no caller mistakes a
    busy sandbox for a missing one.
    """
    deadline = time.monotonic() + patience
    while True:
        info = read()
        alive = info is not None and pid_alive(info.pid)
        if info is not None and alive and healthy(info.aws_url, timeout):
            return info
        # No lock file at all: a sandbox published by an older eks-assist, or in-process by a
        # test harness; its live process is all we can go on.
        running = lock_held() or (alive and not lock_path().exists())
        if not running:
            return None
        if time.monotonic() >= deadline:
            raise SandboxError(_unreachable(info, patience))
        time.sleep(0.25)


# -- kubeconfig entries written for the sandbox's clusters ------------------------------------


@dataclass(frozen=True)
class KubeconfigRecord:
    """One cluster's entries in one kubeconfig file, written while this sandbox ran."""

    path: str
    arn: str
    cluster: str
    context: str
    server: str  # the cluster's endpoint as written: removal requires the entry to still point there


@contextlib.contextmanager
def _records_locked() -> Iterator[Path]:
    path = state_dir() / KUBECONFIGS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path.with_name(f".{path.name}.lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield path
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _read_records(path: Path) -> list[KubeconfigRecord]:
    try:
        return [KubeconfigRecord(**r) for r in json.loads(path.read_text())]
    except (OSError, ValueError, TypeError):
        return []


def record_kubeconfig(record: KubeconfigRecord) -> None:
    """Remember that ``record``'s entries were written for a cluster of the running sandbox."""
    with _records_locked() as path:
        records = [r for r in _read_records(path) if (r.path, r.arn) != (record.path, record.arn)]
        _atomic_write(path, json.dumps([asdict(r) for r in [*records, record]], indent=2) + "\n")


def kubeconfig_records() -> list[KubeconfigRecord]:
    """The kubeconfig entries written for the sandbox's clusters (still there or not)."""
    # Written atomically: a read needs no lock (and must not create the state directory).
    return _read_records(state_dir() / KUBECONFIGS_FILE)


def take_kubeconfig_records() -> list[KubeconfigRecord]:
    """The records, and forget them: the caller removes their entries now."""
    with _records_locked() as path:
        records = _read_records(path)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        return records


def require_running(then: str) -> SandboxInfo:
    """The running sandbox, for a command that cannot do without one; SandboxError saying what to do if none runs.

    ``then`` finishes the advice: what to do once a sandbox runs again.
    """
    info = find_running()
    if info is None:
        raise SandboxError(
            f"no sandbox is running (none is recorded in {state_path()}); a sandbox's clusters are gone when it stops. "
            f"Start one with 'eks-assist sandbox start' (or the wizard: 'eks-assist --sandbox'), then {then}"
        )
    return info
