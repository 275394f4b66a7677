"""AWS access for the engine: one guarded boto3 session per context, standard retries.

Credentials come from boto3's standard chain (``--profile``, ``AWS_*`` env, SSO profiles);
the endpoint from ``AWS_ENDPOINT_URL`` when set. The engine has no sandbox special case:
pointing it at the sandbox is only a matter of that environment.
"""

from __future__ import annotations

import threading
from typing import Any

from assistant.errors import InputError
from assistant.run.guard import install

USER_AGENT = "eks-assist/0.1"


class AwsContext:
    """Creates and caches guarded boto3 clients for one profile and region."""

    def __init__(
        self, region: str | None = None, profile: str | None = None, max_attempts: int = 10, max_pool_connections: int = 10
    ) -> None:
        """``max_pool_connections``: HTTP connections per client, one per thread that may call it at once."""
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
        self._config = Config(
            retries={"mode": "standard", "max_attempts": max_attempts},
            user_agent_extra=USER_AGENT,
            connect_timeout=10,
            read_timeout=60,
            max_pool_connections=max_pool_connections,
        )
        install(self.session._session)
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
