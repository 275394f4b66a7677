"""Live progress in a Slack thread: one message, edited in place as the run's events arrive.

The engine calls the sink from its worker threads, so :meth:`ThreadProgress.__call__` only
records the event and wakes a flusher; it never waits on Slack. The flusher edits the message
with ``chat.update``, at most once per pacing slot for the channel (about once a second), so a
burst of step events becomes one edit showing them all. The final state is always written.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from slack_sdk.errors import SlackClientError

from assistant.run.events import Event

from .blocks import progress_blocks
from .messenger import Messenger

log = logging.getLogger(__name__)

_STATE = {"step_started": "running", "step_done": "done", "step_failed": "failed", "step_skipped": "skipped"}


class ThreadProgress:
    """An engine event sink that keeps one threaded Slack message up to date."""

    def __init__(self, messenger: Messenger, channel: str, thread_ts: str, title: str) -> None:
        self.messenger = messenger
        self.channel = channel
        self.thread_ts = thread_ts
        self.title = title
        self.ts: str | None = None
        self.state = "running"
        self.steps: dict[str, dict[str, Any]] = {}
        self.updates = 0
        self._t0 = time.monotonic()
        self._lock = threading.Lock()
        self._dirty = threading.Event()
        self._closing = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Post the progress message in the thread and start the flusher."""
        text, blocks = self._render()
        self.ts = self.messenger.post(self.channel, text, blocks, thread_ts=self.thread_ts)
        self._thread = threading.Thread(target=self._flush_loop, name=f"progress-{self.thread_ts}", daemon=True)
        self._thread.start()

    def __call__(self, ev: Event) -> None:
        with self._lock:
            if ev.kind in _STATE and ev.step:
                st = self.steps.setdefault(ev.step, {"state": "pending", "message": "", "elapsed": 0.0, "t0": ev.elapsed})
                st["state"] = _STATE[ev.kind]
                st["message"] = ev.message
                if ev.kind == "step_started":
                    st["t0"] = ev.elapsed
                else:
                    st["elapsed"] = max(0.0, ev.elapsed - st["t0"])
            elif ev.kind == "step_progress" and ev.step in self.steps:
                st = self.steps[ev.step]
                pct = f" {ev.fraction * 100:.0f}%" if ev.fraction is not None else ""
                st["message"] = f"{ev.message}{pct}"
                st["elapsed"] = max(0.0, ev.elapsed - st["t0"])
            elif ev.kind == "run_failed":
                self.state = "failed"
            elif ev.kind == "run_done":
                self.state = "done"
            else:
                return
        self._dirty.set()

    def finish(self, state: str) -> None:
        """Write the final state (``done`` or ``failed``) and stop the flusher."""
        with self._lock:
            self.state = state
            self._closing = True
        self._dirty.set()
        if self._thread is not None:
            self._thread.join(timeout=60)

    def _render(self) -> tuple[str, list[dict[str, Any]]]:
        with self._lock:
            steps = {k: {kk: vv for kk, vv in v.items() if kk != "t0"} for k, v in self.steps.items()}
            state = self.state
        text = f"{self.title}: {state}"
        return text, progress_blocks(self.title, steps, time.monotonic() - self._t0, state)

    def _flush_loop(self) -> None:
        while True:
            self._dirty.wait()
            self._dirty.clear()
            with self._lock:
                closing = self._closing
            text, blocks = self._render()
            try:
                assert self.ts is not None
                self.messenger.update(self.channel, self.ts, text, blocks)
                self.updates += 1
            except SlackClientError as exc:  # progress is best effort; the run must go on
                log.warning("progress update failed: %s", exc)
            if closing and not self._dirty.is_set():
                return
