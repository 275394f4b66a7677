"""What the engine may ask of a local sandbox, without knowing the sandbox.

The engine never imports ``assistant.sandbox``: an entry point (the CLI, the wizard, the bot)
that decides a sandbox is in play hands the engine an object of this shape through
:class:`~assistant.clients.aws.AwsContext`. Without one, every endpoint is treated as real AWS.
"""

from __future__ import annotations

from typing import Protocol


class LocalSandbox(Protocol):
    """A local AWS + Kubernetes stand-in that kubeconfig entries may point at."""

    def serves(self, aws_url: str | None) -> bool:
        """True when ``aws_url`` is this sandbox's AWS endpoint."""
        ...

    def record_context(self, path: str, cluster_arn: str, cluster_name: str, context: str, server: str, aws_url: str) -> None:
        """Remember a context written for one of the sandbox's clusters; the sandbox removes it when it stops."""
        ...
