"""Background housekeeping: expire requests past their TTL, and apply approved requests nobody claimed.

Expiry also happens when someone clicks on an expired request; the sweep makes sure the message
says "Expired" even if nobody does. An approved request that the bot must apply but never
claimed (the bot stopped between the quorum and the claim) is claimed and applied here; the
claim is atomic, so this can never start a second apply.
"""

from __future__ import annotations

import logging
import threading

from .changes import ChangeFlow

log = logging.getLogger(__name__)


class Housekeeper:
    """Runs :meth:`sweep` at start and then every ``interval`` seconds on a daemon thread."""

    def __init__(self, flow: ChangeFlow, interval: float) -> None:
        self.flow = flow
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.interval > 0 and self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="eks-housekeeping", daemon=True)
            self._thread.start()

    def sweep(self) -> None:
        """One round: expire what is due, then claim and apply orphaned approvals."""
        self.flow.expire_due()
        self.flow.apply_orphans()

    def _loop(self) -> None:
        while True:
            try:
                self.sweep()
            except Exception:  # keep sweeping; the next round may find the store back
                log.exception("housekeeping failed")
            if self._stop.wait(self.interval):
                return

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
