"""Engines for the bot: one AWS context per region, shared; a fresh Engine per task.

A spec names its own region, so the bot plans each catalogue spec in that region. Commands
that name only a cluster (status, access, map-role, destroy) use the bot's default region
(``--region``, then ``AWS_REGION``). AWS contexts are cached because creating boto3 clients is
slow and they are thread-safe once created; an Engine is cheap, and each apply gets its own so
that its progress events go to its own Slack thread.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from assistant.errors import InputError
from assistant.run.events import EventSink, discard

if TYPE_CHECKING:
    from assistant.clients.aws import AwsContext
    from assistant.engine import Engine
    from assistant.run.runner import RunOptions
    from assistant.store import Store


class Engines:
    """Hands out engines over one store, with AWS contexts cached per region."""

    def __init__(
        self,
        store: Store,
        *,
        default_region: str | None,
        profile: str | None = None,
        options: RunOptions | None = None,
        max_pool_connections: int = 10,
    ) -> None:
        """``max_pool_connections``: per AWS client, as many as the bot's threads that may share it."""
        self.store = store
        self.max_pool_connections = max_pool_connections
        self.default_region = default_region
        self.profile = profile
        self.options = options
        self._aws: dict[str, AwsContext] = {}
        self._lock = threading.Lock()

    def aws(self, region: str | None = None) -> AwsContext:
        """The AWS context for ``region`` (default: the bot's region)."""
        from assistant.clients.aws import AwsContext
        from assistant.sandbox.link import SandboxLink

        region = region or self.default_region
        if not region:
            raise InputError("the bot has no default AWS region: start it with --region or AWS_REGION")
        with self._lock:
            if region not in self._aws:
                self._aws[region] = AwsContext(
                    region=region,
                    profile=self.profile,
                    max_pool_connections=self.max_pool_connections,
                    sandbox=SandboxLink(),
                )
            return self._aws[region]

    def engine(self, region: str | None = None, sink: EventSink = discard) -> Engine:
        """A new engine in ``region`` whose progress events go to ``sink``."""
        from assistant.engine import Engine

        # The bot applies on a server, nobody's workstation: it never writes a kubeconfig from a
        # spec (a catalogue spec's kubeconfig.path could otherwise name any file the bot can write).
        return Engine(self.aws(region), self.store, sink=sink, options=self.options, write_kubeconfig=False)
