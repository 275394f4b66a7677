"""Change requests in Slack: post for approval, decide, apply with progress, re-plan, resume.

The rules (four eyes, allowlist, quorum, TTL, plan-hash binding, cluster locks, exactly-once
apply, audit) live in :mod:`assistant.governance.requests`. This module does the Slack half of each step:

1. **Open.** The engine plans (read-only) and records a pending request holding the cluster
   lock; the approval message is posted, and the full plan goes in its thread when it is too
   long for the message.
2. **Decide.** An Approve click looks up the clicker's user groups (fail closed), asks the
   engine, and edits the message in place: "1 of 2", or approved, with who and when.
   Refusals are told to the clicker only.
3. **Apply.** The approval that completes the quorum claims the request (one winner, however
   many clicks) and the apply runs on a worker thread, reporting progress in the thread.
4. **Drift.** If the fresh plan differs from the approved one, the engine refuses; the bot
   says so and posts a new request with the fresh plan.
5. **Failure.** The error goes in the thread with a Resume button, which opens a resume
   request that needs approval like any other.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackClientError

from assistant.errors import ApprovalError, EksAssistError, InputError, PlanChangedError, RunFailed

from . import blocks as bk
from .approvers import GroupDirectory
from .engines import Engines
from .messenger import Messenger
from .progress import ThreadProgress

if TYPE_CHECKING:
    from assistant.governance.requests import ChangeRequest, Requests
    from assistant.spec import LoadedSpec

log = logging.getLogger(__name__)


class ChangeFlow:
    """The bot's side of change requests, over the engine's :class:`~assistant.governance.requests.Requests`."""

    def __init__(
        self,
        requests: Requests,
        engines: Engines,
        messenger: Messenger,
        directory: GroupDirectory,
        *,
        apply_workers: int = 4,
    ) -> None:
        self.requests = requests
        self.engines = engines
        self.messenger = messenger
        self.directory = directory
        # Applies take minutes: they get their own threads, never Bolt's listener pool.
        self._pool = ThreadPoolExecutor(max_workers=apply_workers, thread_name_prefix="eks-apply")
        self.applies: list[Future[None]] = []

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    # -- 1. open -----------------------------------------------------------------------------
    def open_and_post(
        self, loaded: LoadedSpec, *, playbook: str, kind: str, requester: str, channel: str, team: str
    ) -> ChangeRequest:
        """Plan ``loaded``, record the request (taking the cluster lock) and post it in ``channel``."""
        engine = self.engines.engine(loaded.spec.metadata.region)
        req = self.requests.open(
            engine,
            loaded,
            playbook=playbook,
            kind=kind,
            requester=requester,
            executor="bot",
            origin={"team": team, "channel": channel},
        )
        return self.post_request(req, channel)

    def post_request(self, req: ChangeRequest, channel: str) -> ChangeRequest:
        """Post the approval message (and the full plan in its thread if needed); remember where."""
        try:
            ts = self.messenger.post(channel, bk.request_text(req), bk.approval_blocks(req))
        except SlackClientError:
            # Nobody can approve a request nobody can see: withdraw it and free the cluster.
            self._withdraw(req, "the approval message could not be posted")
            raise
        self.requests.attach(req.id, channel=channel, ts=ts)
        if not bk.diff_fits_inline(req):
            self.messenger.post_long(channel, ts, req.plan_text, filename=f"plan-{req.id}.txt", title=f"Plan for {bk.title(req)}")
        return self.requests.get(req.id)

    def _withdraw(self, req: ChangeRequest, why: str) -> None:
        try:
            self.requests.cancel(req.id, req.requester)
        except EksAssistError as exc:
            log.error("could not withdraw request %s after %s: %s", req.id, why, exc)

    def request_resume(self, run_id: str, *, requester: str, channel: str, team: str) -> ChangeRequest:
        """A Resume click: a new request to continue ``run_id``, approval-gated like any change."""
        run = self.engines.store.get_run(run_id)
        if run is None:
            raise InputError(f"no run '{run_id}'")
        engine = self.engines.engine(run.region)
        req = self.requests.open_resume(
            engine, run_id, requester=requester, executor="bot", origin={"team": team, "channel": channel}
        )
        return self.post_request(req, channel)

    # -- 2. decide ---------------------------------------------------------------------------
    def _groups(self, req: ChangeRequest, user: str) -> set[str] | None:
        env = self.requests.policy.environments.get(req.environment)
        wanted = list(env.approvers.groups) if env is not None else []
        if not wanted:
            return set()
        return self.directory.groups_of(user, wanted)

    def approve(self, request_id: str, user: str, context: dict[str, Any]) -> None:
        """An Approve click; refusals go to the clicker only, decisions edit the message."""
        channel = str(context.get("channel") or "")
        req = self.requests.get(request_id)
        groups = self._groups(req, user)
        try:
            decision = self.requests.approve(request_id, user, groups=groups, context=context)
        except ApprovalError as exc:
            self.messenger.ephemeral(channel, user, f":no_entry: Not approved: {exc}")
            self.refresh(self.requests.get(request_id))  # an expiry found on the way shows at once
            return
        if decision.outcome == "duplicate":
            self.messenger.ephemeral(channel, user, f"You already approved request `{request_id}`; nothing more to do.")
            return
        req = decision.request
        if decision.outcome == "approved" and req.executor == "bot" and self.requests.claim(request_id):
            self.refresh(self.requests.get(request_id))
            self.applies.append(self._pool.submit(self._apply_logged, request_id))
            return
        note = "The requesting command line applies it now." if decision.outcome == "approved" and req.executor == "cli" else None
        self.refresh(req, note)

    def reject(self, request_id: str, user: str, reason: str, context: dict[str, Any]) -> None:
        """A Reject submission (with an optional reason)."""
        channel = str(context.get("channel") or "")
        req = self.requests.get(request_id)
        try:
            req = self.requests.reject(request_id, user, reason=reason, groups=self._groups(req, user), context=context)
        except ApprovalError as exc:
            self.messenger.ephemeral(channel, user, f":no_entry: Not rejected: {exc}")
            self.refresh(self.requests.get(request_id))
            return
        self.refresh(req)

    def refresh(self, req: ChangeRequest, note: str | None = None) -> None:
        """Edit the request's approval message in place to show its current state."""
        channel, ts = req.origin.get("channel"), req.origin.get("ts")
        if not channel or not ts:
            return
        try:
            self.messenger.update(str(channel), str(ts), bk.request_text(req), bk.approval_blocks(req, extra_status=note))
        except SlackClientError as exc:
            log.warning("could not update the message of request %s: %s", req.id, exc)

    def apply_orphans(self) -> list[str]:
        """Claim and apply approved requests that the bot should apply but nobody claimed.

        That happens when the bot stopped between the quorum and the claim. The claim is atomic,
        so a click being handled at the same moment and this sweep never both apply.
        """
        started = []
        for req in self.requests.list(limit=100, status="approved"):
            if req.executor == "bot" and self.requests.claim(req.id):
                self.refresh(self.requests.get(req.id))
                self.applies.append(self._pool.submit(self._apply_logged, req.id))
                started.append(req.id)
        return started

    def expire_due(self) -> list[ChangeRequest]:
        """Expire requests past their TTL and show it on their messages."""
        expired = self.requests.expire_due()
        for req in expired:
            self.refresh(req)
        return expired

    # -- 3. apply ----------------------------------------------------------------------------
    def _apply_logged(self, request_id: str) -> None:
        try:
            self.apply(request_id)
        except Exception:  # a worker thread has nobody to raise to
            log.exception("apply of request %s failed unexpectedly", request_id)

    def _say(self, req: ChangeRequest, text: str, blocks: list[dict[str, Any]] | None = None) -> None:
        channel, ts = str(req.origin.get("channel") or ""), req.origin.get("ts")
        if not channel:
            return
        try:
            self.messenger.post(channel, text, blocks, thread_ts=str(ts) if ts else None)
        except SlackClientError as exc:
            log.warning("could not post to the thread of request %s: %s", req.id, exc)

    def apply(self, request_id: str) -> None:
        """Run a claimed request, reporting in its thread; handles drift and failure."""
        req = self.requests.get(request_id)
        channel, ts = str(req.origin.get("channel") or ""), str(req.origin.get("ts") or "")
        progress = ThreadProgress(self.messenger, channel, ts, bk.title(req)) if channel and ts else None
        if progress is not None:
            try:
                progress.start()
            except SlackClientError as exc:
                log.warning("could not post progress for %s: %s", req.id, exc)
                progress = None
        engine = self.engines.engine(req.region, sink=progress or (lambda ev: None))
        try:
            run_id, outputs = self.requests.execute(engine, request_id)
        except PlanChangedError as exc:
            self._finish(progress, "failed")
            self.refresh(self.requests.get(request_id))
            self._say(req, f":no_entry: Refused: {exc}")
            self._replan(req)
            return
        except RunFailed as exc:
            self._finish(progress, "failed")
            self.refresh(self.requests.get(request_id))
            run_id = exc.run_id or req.id
            self._say(req, f"{bk.title(req)} failed: {exc}", bk.failure_blocks(req, run_id, str(exc)))
            return
        except EksAssistError as exc:
            self._finish(progress, "failed")
            self.refresh(self.requests.get(request_id))
            self._say(req, f":no_entry: {bk.title(req)} was refused: {exc}")
            return
        except Exception as exc:
            self._finish(progress, "failed")
            self.refresh(self.requests.get(request_id))
            self._say(req, f":x: {bk.title(req)} stopped on an internal error ({type(exc).__name__}); see the bot's log")
            raise
        self._finish(progress, "done")
        status = self._status(engine, req) if req.kind != "destroy" else None
        self._say(req, f"{bk.title(req)} finished", bk.summary_blocks(req, run_id, outputs, status))
        self.refresh(self.requests.get(request_id))

    @staticmethod
    def _finish(progress: ThreadProgress | None, state: str) -> None:
        if progress is not None:
            progress.finish(state)

    @staticmethod
    def _status(engine: Any, req: ChangeRequest) -> dict[str, Any] | None:
        try:
            return dict(engine.status(req.cluster))
        except Exception as exc:  # the summary is a courtesy; the apply already succeeded
            log.warning("status of %s after apply failed: %s", req.cluster, exc)
            return None

    # -- 4. drift ----------------------------------------------------------------------------
    def _replan(self, old: ChangeRequest) -> None:
        """Post a fresh request for the same change, planned against the world as it is now."""
        channel, team = str(old.origin.get("channel") or ""), str(old.origin.get("team") or "")
        opener: Callable[[], ChangeRequest]
        if old.kind == "resume":
            engine = self.engines.engine(old.region)

            def opener() -> ChangeRequest:
                return self.requests.open_resume(
                    engine, old.resume_of, requester=old.requester, origin={"team": team, "channel": channel}
                )
        else:
            from assistant.spec import loads_spec

            loaded = loads_spec(old.spec_source, old.spec_file)
            engine = self.engines.engine(loaded.spec.metadata.region)

            def opener() -> ChangeRequest:
                return self.requests.open(
                    engine,
                    loaded,
                    playbook=old.playbook,
                    kind=old.kind,
                    requester=old.requester,
                    origin={"team": team, "channel": channel},
                )

        try:
            fresh = opener()
        except EksAssistError as exc:
            if exc.exit_code == 0:  # NothingToChange: the drift already did what was asked
                self._say(old, f"The fresh plan has nothing left to change: {exc}")
            else:
                self._say(old, f"Could not plan {bk.title(old)} again: {exc}")
            return
        fresh = self.post_request(fresh, channel)
        self._say(old, f"Posted the fresh plan as request `{fresh.id}` for a new approval.")
