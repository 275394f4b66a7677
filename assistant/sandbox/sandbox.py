"""The sandbox: a local AWS endpoint (moto plus our EKS front) and per-cluster Kubernetes APIs."""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any

from assistant.clock import today as calendar_today
from assistant.errors import EksAssistError, SandboxError
from assistant.sandbox.faults import FaultConfig, FaultInjector
from assistant.sandbox.k8s.auth import Authenticator
from assistant.sandbox.latency import LatencyProfile

if TYPE_CHECKING:
    from assistant.sandbox.eks.front import EksFront
    from assistant.sandbox.http_server import AwsHttpServer
    from assistant.sandbox.k8s.server import KubeApiServer

REGION = "us-east-1"
# moto maps access keys to accounts by shape: 20 upper-case characters. Nothing here is secret.
ACCESS_KEY_ID = "AKIAEKSASSISTSANDBOX"
SECRET_ACCESS_KEY = "eks-assist-sandbox-secret-access-key"

# moto keeps its state in module-level backends, so only one sandbox may run per process.
_running_lock = threading.Lock()
_running: Sandbox | None = None


def running() -> Sandbox | None:
    """The sandbox started in this process and not yet stopped, if any."""
    with _running_lock:
        return _running


def _require_free_port(host: str, port: int) -> None:
    """A clear error for a taken port, before anything starts."""
    if port == 0:
        return
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise SandboxError(f"port {port} on {host} is in use ({exc.strerror}); pass another port, or 0 for any") from None


class Sandbox:
    """One in-process sandbox. ``start()``/``stop()``, or use it as a context manager.

    Starting resets moto's state: a new sandbox is empty.
    """

    def __init__(
        self,
        latency: str = "fast",
        time_scale: float = 1.0,
        faults: FaultConfig | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        k8s_port: int = 0,
        authenticator: Authenticator | None = None,
        clock: Callable[[], float] | None = None,
        credentials: tuple[str, str] | None = None,
        today: Callable[[], dt.date] | None = None,
    ) -> None:
        try:
            self.profile = LatencyProfile(latency, time_scale)
        except ValueError as exc:
            raise SandboxError(str(exc)) from exc
        self._faults = FaultInjector(faults)
        self._host = host
        self._port = port
        self._k8s_port = k8s_port
        self._authenticator = authenticator
        # State changes fall due on this clock; tests can pass one they can pause.
        self._clock = clock or time.monotonic
        # The calendar EKS version support follows (default: UTC date, or EKS_ASSIST_TODAY).
        self._today = today or calendar_today
        try:
            self._today()
        except EksAssistError as exc:
            raise SandboxError(str(exc)) from None
        # The key pair clients use; drills pass recognisable fake ones to scan for leaks.
        self._access_key_id, self._secret_access_key = credentials or (ACCESS_KEY_ID, SECRET_ACCESS_KEY)
        if not (len(self._access_key_id) == 20 and self._access_key_id.isalnum() and self._access_key_id.isupper()):
            # moto maps access keys to accounts by shape; any other shape lands in another account.
            raise SandboxError(f"sandbox access key id must be 20 upper-case letters and digits, got {self._access_key_id!r}")
        self._ca_pem: str | None = None
        self._aws_server: AwsHttpServer | None = None
        self._kube: KubeApiServer | None = None
        self._eks: EksFront | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> Sandbox:
        """Generate the CA, start the Kubernetes API server, then serve AWS; returns self."""
        global _running
        with _running_lock:
            if _running is not None:
                raise SandboxError("a sandbox is already running in this process; stop it first")
            _running = self
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        # Heavy imports stay here so importing the package (and the CLI) stays cheap.
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        from assistant.sandbox import moto_state
        from assistant.sandbox.certs import generate_tls
        from assistant.sandbox.eks.lifecycle import Lifecycle
        from assistant.sandbox.eks_auth import CreatorRecordingEksFront, EksAuthenticator
        from assistant.sandbox.front import SandboxFront
        from assistant.sandbox.guard import AwsErrorGuard
        from assistant.sandbox.http_server import AwsHttpServer
        from assistant.sandbox.k8s.server import KubeApiServer
        from assistant.sandbox.k8s_bridge import KubeBridge

        moto_state.reset()
        hosts = ("127.0.0.1", "localhost") + ((self._host,) if self._host not in ("127.0.0.1", "localhost", "0.0.0.0") else ())
        tls = generate_tls(hosts)
        self._ca_pem = tls.ca_pem
        self._kube = KubeApiServer(
            tls, self._host, self._k8s_port, authenticator=self._authenticator, before_request=self._settle
        )
        self._kube.start()
        lifecycle = Lifecycle(self.profile, KubeBridge(self._kube, tls.ca_pem), clock=self._clock)
        moto_app = DomainDispatcherApplication(create_backend_app)
        # The EKS front also notes each cluster's creator: EKS makes it admin in CONFIG_MAP mode.
        self._eks = CreatorRecordingEksFront(lifecycle, moto_app, today=self._today)
        if self._authenticator is None:
            # By default the Kubernetes APIs authenticate like EKS: real tokens, mapped callers only.
            self._kube.authenticator = EksAuthenticator(
                self._kube,
                lock=self._eks.lock,
                default_keys={self._access_key_id: self._secret_access_key},
                sts_hosts=self._sts_hosts,
            )
        # The guard is outermost: an unknown region is refused before faults or moto see it.
        app = AwsErrorGuard(SandboxFront(moto_app, self._eks, self, self._faults))
        _require_free_port(self._host, self._port)
        try:
            # Keep-alive: botocore reuses its connections (werkzeug's dev server closed each one).
            server = AwsHttpServer(app, self._host, self._port)
        except OSError as exc:  # taken since the check above
            raise SandboxError(f"cannot serve the AWS endpoint on {self._host}:{self._port}") from exc
        self._aws_server = server
        server.start()

    def stop(self) -> None:
        """Stop both servers. Safe to call twice."""
        global _running
        if self._aws_server is not None:
            self._aws_server.stop()
            self._aws_server = None
        if self._kube is not None:
            self._kube.stop()
            self._kube = None
        with _running_lock:
            if _running is self:
                _running = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    # -- addresses and credentials ---------------------------------------------------------------

    def _servers(self) -> tuple[AwsHttpServer, KubeApiServer, EksFront]:
        if self._aws_server is None or self._kube is None or self._eks is None:
            raise SandboxError("the sandbox is not running; call start() first")
        return self._aws_server, self._kube, self._eks

    @property
    def aws_url(self) -> str:
        """``http://host:port`` of the AWS endpoint."""
        aws_server, _kube, _eks = self._servers()
        host = "127.0.0.1" if self._host in ("0.0.0.0", "") else self._host
        return f"http://{host}:{aws_server.server_port}"

    @property
    def k8s_url(self) -> str:
        """``https://host:port`` of the Kubernetes API server (clusters live under ``/k8s/...``)."""
        return self._servers()[1].url

    @property
    def ca_pem(self) -> str:
        """PEM of the sandbox CA, which signs the Kubernetes API's certificate."""
        if self._ca_pem is None:
            raise SandboxError("the sandbox is not running; call start() first")
        return self._ca_pem

    @property
    def region(self) -> str:
        """The default region."""
        return REGION

    def env(self) -> dict[str, str]:
        """Environment variables that point any boto3-based tool at this sandbox."""
        return {
            "AWS_ENDPOINT_URL": self.aws_url,
            "AWS_ACCESS_KEY_ID": self._access_key_id,
            "AWS_SECRET_ACCESS_KEY": self._secret_access_key,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
        }

    # -- faults, state ---------------------------------------------------------------------------

    def set_faults(self, faults: FaultConfig) -> None:
        """Replace the fault configuration (a seed restarts the dice)."""
        self._faults.configure(faults)

    def fault_counts(self) -> dict[str, int]:
        """Requests seen and faults injected so far."""
        return self._faults.counts()

    def _sts_hosts(self) -> set[str]:
        """Hosts a token's presigned URL may name: this sandbox's AWS endpoint."""
        if self._aws_server is None:
            return set()
        port = self._aws_server.server_port
        return {f"127.0.0.1:{port}", f"localhost:{port}", f"{self._host}:{port}"}

    def _settle(self) -> None:
        if self._eks is not None:
            self._eks.settle()

    def inventory(self) -> dict[str, Any]:
        """A snapshot of all AWS and Kubernetes state, after settling due state changes."""
        from assistant.sandbox.inventory import snapshot

        _aws_server, kube, eks = self._servers()
        with eks.lock:
            eks.lifecycle.advance()
            return snapshot(kube)

    def health(self) -> dict[str, Any]:
        """What ``/_sandbox/health`` reports."""
        return {
            "ok": True,
            "aws_url": self.aws_url,
            "k8s_url": self.k8s_url,
            "region": REGION,
            "today": self._today().isoformat(),
            "latency": self.profile.to_dict(),
            "faults": {"config": self._faults.config.to_dict(), "counts": self._faults.counts()},
        }
