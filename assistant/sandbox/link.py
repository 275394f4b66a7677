"""The engine's view of the local sandbox (:class:`~assistant.clients.local_sandbox.LocalSandbox`).

Entry points that run against a sandbox pass a :class:`SandboxLink` to the engine; the engine
itself never imports this package.
"""

from __future__ import annotations

from assistant.sandbox import statefile


def _same(a: str, b: str) -> bool:
    return a.rstrip("/") == b.rstrip("/")


class SandboxLink:
    """The sandbox running in this process, or the one published in the state directory."""

    def serves(self, aws_url: str | None) -> bool:
        """True when ``aws_url`` is the AWS endpoint of the in-process or the published sandbox."""
        if not aws_url:
            return False
        info = statefile.read()
        if info is not None and _same(info.aws_url, aws_url):
            return True
        from assistant.sandbox.sandbox import running

        current = running()
        try:
            return current is not None and _same(current.aws_url, aws_url)
        except Exception:
            # Stopping between the lookup and the read: its servers are gone, so it serves nothing.
            return False

    def record_context(self, path: str, cluster_arn: str, cluster_name: str, context: str, server: str, aws_url: str) -> None:
        """Record a context for a cluster of the published sandbox; others (an in-process sandbox's) are not recorded."""
        info = statefile.read()
        if info is None or not server.startswith(info.k8s_url.rstrip("/") + "/"):
            return
        if aws_url and not _same(aws_url, info.aws_url):
            return
        statefile.record_kubeconfig(statefile.KubeconfigRecord(path, cluster_arn, cluster_name, context, server))
