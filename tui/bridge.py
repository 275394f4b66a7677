"""The wizard's only way into the engine: plan, apply, resume, and events back as Messages.

Every call here blocks (AWS, the runner), so screens call these from Textual thread workers
(``@work(thread=True, exclusive=True)``). The engine reports progress to a sink on its own
threads; the sink here turns each :class:`~assistant.run.events.Event` into a :class:`RunEvent`
message posted to the screen that started the run (``post_message`` is thread-safe), so
the UI never freezes and never touches widgets from another thread.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from textual.message import Message
from textual.message_pump import MessagePump

from assistant.engine import Engine, new_run_id
from assistant.errors import EksAssistError, InputError
from assistant.planning.planner import Planning
from assistant.run.events import Event
from assistant.run.runner import RunOptions, describe_error
from assistant.spec import LoadedSpec

from .connection import Connection, SlackRoute


class RunEvent(Message):
    """One engine event (step started, progress, done, failed, ...), delivered on the UI thread."""

    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event


@dataclass
class RunHandle:
    """A run the wizard started: its id (chosen up front) and the event that cancels it."""

    run_id: str
    cancel: threading.Event


def plain_error(exc: BaseException) -> str:
    """An error in plain words: our own messages as they are, AWS errors as the CLI words them."""
    if isinstance(exc, InputError):
        return "\n".join(str(p) for p in exc.problems)
    if isinstance(exc, EksAssistError):
        return str(exc)
    from assistant.clients.aws import aws_error_message

    return aws_error_message(exc) or describe_error(exc)


def _warn_on_stderr(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


class Bridge:
    """Engine calls for one connection; runs report to ``target`` as :class:`RunEvent` messages."""

    def __init__(self, conn: Connection, *, parallelism: int = 8, run_ids: Callable[[], str] = new_run_id) -> None:
        self.conn = conn
        self.parallelism = parallelism
        self.run_ids = run_ids

    def engine(self, target: MessagePump | None = None, cancel: threading.Event | None = None) -> Engine:
        poll_min, poll_max = self.conn.poll_bounds()
        options = RunOptions(
            cancel=cancel or threading.Event(), parallelism=self.parallelism, poll_min=poll_min, poll_max=poll_max
        )

        def sink(event: Event) -> None:
            if target is not None:
                target.post_message(RunEvent(event))

        return Engine(self.conn.aws, self.conn.store, sink=sink, options=options)

    # -- read-only ------------------------------------------------------------------------
    def plan(self, loaded: LoadedSpec, playbook: str = "cluster", *, preflight: bool = True) -> Planning:
        """The plan a reviewer sees (read-only; the guard refuses anything else)."""
        return self.engine().plan(loaded, playbook, preflight=preflight)

    def last_spec(self, cluster: str) -> LoadedSpec:
        """The spec of the cluster's last successful apply from here (for destroy)."""
        return self.engine().last_spec(cluster)

    # -- runs -----------------------------------------------------------------------------
    def new_handle(self) -> RunHandle:
        return RunHandle(self.run_ids(), threading.Event())

    def apply(
        self, target: MessagePump, handle: RunHandle, loaded: LoadedSpec, plan_hash: str, *, kind: str = "apply"
    ) -> tuple[str, dict[str, Any]]:
        """Apply the approved plan; the engine re-plans and refuses if the hash changed (PlanChangedError)."""
        playbook = "teardown" if kind == "destroy" else "cluster"
        return self.engine(target, handle.cancel).apply(
            loaded, plan_hash, self.conn.approver, "tui", playbook=playbook, kind=kind, run_id=handle.run_id
        )

    def apply_via_slack(
        self,
        target: MessagePump,
        handle: RunHandle,
        loaded: LoadedSpec,
        route: SlackRoute,
        say: Callable[[str], None],
        *,
        kind: str = "apply",
    ) -> tuple[str, dict[str, Any]]:
        """Ask someone else to approve in Slack, wait for the decision, then apply exactly that plan.

        The same engine path as ``eks-assist apply --request-approval slack``: a change request
        (which locks the cluster), posted by slackbot.notify; approvals happen in Slack. Cancel
        while waiting withdraws the request. ``handle.run_id`` becomes the request id.
        """
        from assistant.governance.requests import Requests, execute_and_report, wait_for_approval
        from assistant.plugins import notifier

        notify = notifier("slack")

        engine = self.engine(target, handle.cancel)
        requests = Requests(self.conn.store, route.policy)
        playbook = "teardown" if kind == "destroy" else "cluster"
        req = requests.open(engine, loaded, playbook=playbook, kind=kind, requester=route.requester, executor="cli")
        handle.run_id = req.id
        try:
            posted = notify.post_request(req, route.policy)
        except Exception as exc:
            requests.cancel(req.id, route.requester)
            raise EksAssistError(f"could not post request {req.id} to Slack ({exc}); it was withdrawn, nothing changed") from None
        requests.attach(req.id, **posted)
        say(
            f"Approval requested in Slack (channel {posted.get('channel')}): request {req.id}, "
            f"{req.required_approvals} approval(s) needed from environment '{req.environment}'. Waiting…"
        )
        approved = wait_for_approval(requests, req.id, cancelled=handle.cancel.is_set)
        say(f"Approved by {', '.join(a['approver'] for a in approved.approvals)}. Applying.")
        return execute_and_report(requests, engine, req.id, notify, "wizard", warn=_warn_on_stderr)

    def resume(self, target: MessagePump, handle: RunHandle) -> tuple[str, dict[str, Any]]:
        """Continue a failed or interrupted run under its original approval."""
        return self.engine(target, handle.cancel).resume(handle.run_id)


__all__ = ["Bridge", "RunEvent", "RunHandle", "plain_error"]
