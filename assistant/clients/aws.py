"""AWS access for the engine: one guarded boto3 session per context, standard retries.

Credentials come from boto3's standard chain (``--profile``, ``AWS_*`` env, SSO profiles);
the endpoint from ``AWS_ENDPOINT_URL`` when set. The engine has no sandbox special case:
pointing it at the sandbox is only a matter of that environment (and, for what is written for
other programs to use, such as kubeconfig exec arguments, the :class:`LocalSandbox` handed in).
"""

from __future__ import annotations

import threading
from typing import Any

from assistant.clients import reads
from assistant.clients.local_sandbox import LocalSandbox
from assistant.errors import InputError
from assistant.run.guard import install

USER_AGENT = "eks-assist/0.1"


class AwsContext:
    """Creates and caches guarded boto3 clients for one profile and region."""

    def __init__(
        self,
        region: str | None = None,
        profile: str | None = None,
        max_attempts: int = 10,
        max_pool_connections: int = 10,
        sandbox: LocalSandbox | None = None,
    ) -> None:
        """``max_pool_connections``: HTTP connections per client, one per thread that may call it at once.

        ``sandbox``: the local sandbox the entry point runs against, if any; the engine asks it
        whether an endpoint is the sandbox's (kubeconfig exec arguments) and never imports it.
        """
        import boto3
        import botocore.exceptions
        from botocore.config import Config

        try:
            self.session = boto3.Session(profile_name=profile, region_name=region)
        except botocore.exceptions.ProfileNotFound:
            raise InputError(f"--profile: AWS profile '{profile}' not found in your AWS config") from None
        if not self.session.region_name:
            raise InputError("no AWS region: set metadata.region in the spec, --region, or AWS_REGION")
        self.region: str = self.session.region_name
        self.profile = profile
        self.sandbox = sandbox
        self._config = Config(
            retries={"mode": "standard", "max_attempts": max_attempts},
            user_agent_extra=USER_AGENT,
            connect_timeout=10,
            read_timeout=60,
            max_pool_connections=max_pool_connections,
        )
        install(self.session._session)
        reads.install(self.session._session)
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._account: str | None = None
        self._caller: str | None = None

    def client(self, service: str) -> Any:
        """A cached client; boto3 clients are thread-safe once created, sessions are not."""
        with self._lock:
            if service not in self._clients:
                self._clients[service] = self.session.client(service, config=self._config)
            return self._clients[service]

    def identity(self) -> tuple[str, str]:
        """(account id, caller ARN) from STS."""
        if self._account is None:
            import botocore.exceptions

            try:
                ident = self.client("sts").get_caller_identity()
            except botocore.exceptions.NoCredentialsError:
                raise InputError(
                    "no AWS credentials found: use --profile, AWS_PROFILE, or AWS_ACCESS_KEY_ID/"
                    "AWS_SECRET_ACCESS_KEY (or --sandbox for the local sandbox)"
                ) from None
            self._account, self._caller = ident["Account"], ident["Arn"]
        assert self._caller is not None
        return self._account, self._caller

    @property
    def account(self) -> str:
        return self.identity()[0]


def aws_error_message(exc: BaseException) -> str | None:
    """A plain message for an AWS client error (botocore, boto3, urllib3), or None for other errors."""
    mod = type(exc).__module__
    if not mod.startswith(("botocore", "boto3", "urllib3")):
        return None
    name = type(exc).__name__
    if name == "EndpointConnectionError":
        return f"cannot reach AWS: {exc}. Check your network, AWS_ENDPOINT_URL, or run with --sandbox"
    if name in ("NoCredentialsError", "PartialCredentialsError"):
        return "no AWS credentials found: use --profile, AWS_PROFILE or AWS_ACCESS_KEY_ID (or --sandbox)"
    if name in ("SSOTokenLoadError", "UnauthorizedSSOTokenError", "TokenRetrievalError"):
        return f"AWS SSO login needed: run 'aws sso login' for this profile ({exc})"
    resp = getattr(exc, "response", None)
    if isinstance(resp, dict) and "Error" in resp:
        err = resp["Error"]
        return f"AWS error {err.get('Code')}: {err.get('Message')}"
    return f"AWS error: {exc}"
