"""``sandbox.json``: how other processes find a sandbox running in the foreground.

It lives in ``$EKS_ASSIST_STATE_DIR``, else ``$XDG_STATE_HOME/eks-assist``, else
``~/.local/state/eks-assist``, next to the sandbox CA's PEM file.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

STATE_FILE = "sandbox.json"
CA_FILE = "sandbox-ca.pem"


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


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process, but alive
    return True


def _healthy(aws_url: str, timeout: float) -> bool:
    # The sandbox is on loopback; a proxy from the environment must not get in the way.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"{aws_url}/_sandbox/health", timeout=timeout) as response:
            return bool(json.loads(response.read()).get("ok"))
    except (OSError, ValueError, urllib.error.URLError):
        return False


def find_running(timeout: float = 2.0) -> SandboxInfo | None:
    """The recorded sandbox if its process is alive and its health endpoint answers."""
    info = read()
    if info is None or not _pid_alive(info.pid) or not _healthy(info.aws_url, timeout):
        return None
    return info
