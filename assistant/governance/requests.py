"""Change requests: a plan waiting for other people's approval, then applied exactly once.

The Slack bot and ``eks-assist apply --request-approval slack`` use this; the rules live here,
not in the front ends:

- **Four eyes.** The requester can never approve their own request.
- **Allowlist.** Approvers come from the policy's environment for the cluster; a failed
  user-group lookup trusts only the named users (fail closed).
- **Quorum.** An environment may need several distinct approvers.
- **Bound to the plan hash.** Apply re-plans; a different hash supersedes the request.
- **Expiry.** A request not decided within its TTL expires.
- **One change per cluster.** A request holds the cluster lock from posting to the end of
  its apply.
- **Exactly once.** Approvals, the quorum and the claim to apply are atomic transitions in the
  store, so double clicks and racing approvers start one apply.
- **Audited.** Every request, decision and refusal goes to the append-only audit log with
  the front end's context (Slack team, channel, message ts, action_ts).
"""

from __future__ import annotations

import builtins
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from assistant.engine import Engine, new_run_id
from assistant.errors import ApprovalError, EksAssistError, InputError, PlanChangedError, RunFailed
from assistant.governance import locks
from assistant.governance.locks import Lock as ClusterLock
from assistant.governance.policy import Policy
from assistant.planning.plan import Op, Plan, render_text
from assistant.spec import LoadedSpec, parse_spec
from assistant.spec.source import SPEC_MAX_BYTES, loads
from assistant.store import Store

# How often a waiting front end re-reads a pending request.
POLL_SECONDS = 1.0

OPEN = ("pending", "approved")
FINAL = ("rejected", "expired", "succeeded", "failed", "superseded", "cancelled")


class NothingToChange(EksAssistError):
    """The plan has no changes, so there is nothing to approve (exit 0)."""

    exit_code = 0


@dataclass
class ChangeRequest:
    """One plan awaiting (or past) approval; its id is also the id of the run that applies it."""

    id: str
    cluster: str
    kind: str  # apply | destroy | resume
    playbook: str
    spec_file: str
    spec_source: str
    plan_hash: str
    plan: dict[str, Any]
    plan_text: str
    summary: dict[str, int]  # create, update, replace, delete, no-op
    changes: list[dict[str, str]]
    warnings: list[str]
    account: str
    region: str
    requester: str
    environment: str
    required_approvals: int
    status: str  # pending | approved | rejected | expired | applying | succeeded | failed | superseded | cancelled
    created_at: float
    expires_at: float
    executor: str  # bot | cli
    origin: dict[str, Any] = field(default_factory=dict)
    resume_of: str = ""
    decided_by: str = ""
    decided_at: float | None = None
    reason: str = ""
    approvals: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ChangeRequest:
        return cls(**row)

    @property
    def lock_key(self) -> locks.LockKey:
        return (self.account, self.region, self.cluster)

    @property
    def needed(self) -> int:
        """Approvals still missing."""
        return max(0, self.required_approvals - len(self.approvals))


@dataclass(frozen=True)
class Decision:
    """What one Approve click did: ``approved`` (quorum reached), ``recorded`` (more needed) or ``duplicate``."""

    outcome: str
    request: ChangeRequest
    needed: int


def _summary(plan: Plan) -> tuple[dict[str, int], list[dict[str, str]]]:
    changes = [{"op": c.op.value, "resource": c.resource, "step": c.step} for c in plan.changes if c.op is not Op.NOOP]
    return plan.counts, changes


class Requests:
    """Change requests over a store, under one approval policy."""

    def __init__(self, store: Store, policy: Policy, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.policy = policy
        self.clock = clock

    # -- opening ---------------------------------------------------------------------
    def open(
        self,
        engine: Engine,
        loaded: LoadedSpec,
        *,
        playbook: str = "cluster",
        kind: str = "apply",
        requester: str,
        executor: str = "bot",
        origin: dict[str, Any] | None = None,
    ) -> ChangeRequest:
        """Plan (read-only), take the cluster lock and record a pending request."""
        if executor not in ("bot", "cli"):
            raise InputError(f"executor must be 'bot' or 'cli', got '{executor}'")
        cluster = loaded.spec.metadata.name
        env_name, env = self.policy.environment_for(cluster)
        plan = engine.plan(loaded, playbook, preflight=(kind == "apply")).plan
        if not plan.has_changes:
            raise NothingToChange(f"the plan for '{cluster}' has no changes; nothing to approve")
        return self._record(
            plan,
            cluster=cluster,
            kind=kind,
            playbook=playbook,
            spec_file=loaded.file,
            spec_source=loaded.source,
            requester=requester,
            env=(env_name, env.requiredApprovals),
            executor=executor,
            origin=origin or {},
            resume_of="",
        )

    def open_resume(
        self, engine: Engine, run_id: str, *, requester: str, executor: str = "bot", origin: dict[str, Any] | None = None
    ) -> ChangeRequest:
        """A request to resume a failed run: approving it continues the run under its original plan."""
        run = engine.get_run(run_id)
        if run.status == "succeeded":
            raise InputError(f"run {run.id} already succeeded; nothing to resume")
        plan = Plan.from_canonical(run.plan)
        data, locator = loads(run.spec_source, run.spec_file, SPEC_MAX_BYTES)
        cluster = parse_spec(data, locator, source=run.spec_source).spec.metadata.name
        env_name, env = self.policy.environment_for(cluster)
        return self._record(
            plan,
            cluster=cluster,
            kind="resume",
            playbook=run.playbook,
            spec_file=run.spec_file,
            spec_source=run.spec_source,
            requester=requester,
            env=(env_name, env.requiredApprovals),
            executor=executor,
            origin=origin or {},
            resume_of=run.id,
        )

    def _record(self, plan: Plan, *, env: tuple[str, int], **fields: Any) -> ChangeRequest:
        now = self.clock()
        env_name, required = env
        summary, changes = _summary(plan)
        req = ChangeRequest(
            id=new_run_id(),
            plan_hash=plan.hash,
            plan=plan.canonical(),
            plan_text=render_text(plan),
            summary=summary,
            changes=changes,
            warnings=list(plan.warnings),
            account=plan.account,
            region=plan.region,
            environment=env_name,
            required_approvals=required,
            status="pending",
            created_at=now,
            expires_at=now + self.policy.ttl_seconds(env_name),
            **fields,
        )
        # The lock expires with the request, so an undecided request never blocks forever.
        locks.acquire(self.store, req.lock_key, req.id, req.requester, expires_at=req.expires_at, now=now)
        row = asdict(req)
        row.pop("approvals")
        try:
            self.store.create_request(row)
        except BaseException:
            locks.release(self.store, req.lock_key, req.id)
            raise
        self._audit("requested", req, req.requester, {"kind": req.kind, "environment": env_name, "origin": req.origin})
        return req

    # -- reading ---------------------------------------------------------------------
    def get(self, request_id: str) -> ChangeRequest:
        """A request by id; InputError if there is none."""
        row = self.store.get_request(request_id)
        if row is None:
            raise InputError(f"no change request '{request_id}'")
        return ChangeRequest.from_row(row)

    def list(self, limit: int = 50, status: str | None = None) -> list[ChangeRequest]:
        """Newest first."""
        return [ChangeRequest.from_row(r) for r in self.store.list_requests(limit, status)]

    def attach(self, request_id: str, **origin: Any) -> None:
        """Remember where the request was posted (Slack team, channel, message ts)."""
        req = self.get(request_id)
        self.store.update_request(request_id, origin={**req.origin, **origin})

    # -- deciding --------------------------------------------------------------------
    def _expire_if_due(self, req: ChangeRequest) -> None:
        if req.status == "pending" and self.clock() >= req.expires_at:
            if self.store.transition_request(req.id, ("pending",), "expired", decided_at=self.clock()):
                locks.release(self.store, req.lock_key, req.id)
                self._audit("expired", req, "", {})
            raise ApprovalError(f"request {req.id} expired at {_when(req.expires_at)}; request the change again")

    def _check_decider(self, req: ChangeRequest, who: str, groups: set[str] | None, verb: str, context: dict[str, Any]) -> None:
        def refuse(reason: str) -> None:
            self._audit(f"{verb}-refused", req, who, {"reason": reason, **context})
            raise ApprovalError(reason)

        if req.status not in ("pending",):
            decided = f" by {req.decided_by}" if req.decided_by else ""
            refuse(f"request {req.id} is already {req.status}{decided}; nothing was changed")
        if who == req.requester:
            refuse(f"you requested {req.id}; someone else must {verb} it (four-eyes rule)")
        if not self.policy.is_approver(req.environment, who, groups):
            lookup = " (the user-group lookup failed, so only named approvers count)" if groups is None else ""
            refuse(f"{who} is not an approver for environment '{req.environment}'{lookup}")

    def approve(self, request_id: str, approver: str, *, groups: set[str] | None, context: dict[str, Any]) -> Decision:
        """Record ``approver``'s approval; the one that completes the quorum gets outcome ``approved``."""
        req = self.get(request_id)
        if approver in {a["approver"] for a in req.approvals}:
            # A double click, or Slack retrying the action: the first click already counted.
            return Decision("duplicate", req, req.needed)
        self._expire_if_due(req)
        self._check_decider(req, approver, groups, "approve", context)
        outcome, count = self.store.add_request_approval(req.id, approver, self.clock())
        req = self.get(request_id)
        if outcome == "not-pending":
            raise ApprovalError(f"request {req.id} is already {req.status}; nothing was changed")
        if outcome != "duplicate":
            self._audit("approved" if outcome == "approved" else "approval-recorded", req, approver, {"count": count, **context})
        return Decision(outcome, req, req.needed)

    def reject(
        self, request_id: str, who: str, *, reason: str = "", groups: set[str] | None, context: dict[str, Any]
    ) -> ChangeRequest:
        """Reject a pending request (an approver other than the requester); releases the cluster lock."""
        req = self.get(request_id)
        self._expire_if_due(req)
        self._check_decider(req, who, groups, "reject", context)
        reason = reason.strip()[:500]
        now = self.clock()
        if not self.store.transition_request(req.id, ("pending",), "rejected", decided_by=who, decided_at=now, reason=reason):
            req = self.get(request_id)
            raise ApprovalError(f"request {req.id} is already {req.status}; nothing was changed")
        locks.release(self.store, req.lock_key, req.id)
        req = self.get(request_id)
        self._audit("rejected", req, who, {"reason": reason, **context})
        return req

    def cancel(self, request_id: str, who: str) -> ChangeRequest:
        """The requester withdraws a request that has not started applying."""
        req = self.get(request_id)
        if who != req.requester:
            raise ApprovalError(f"only the requester ({req.requester}) can cancel {req.id}")
        if not self.store.transition_request(req.id, OPEN, "cancelled", decided_by=who, decided_at=self.clock()):
            raise ApprovalError(f"request {req.id} is already {self.get(request_id).status}; nothing was changed")
        locks.release(self.store, req.lock_key, req.id)
        self._audit("cancelled", req, who, {})
        return self.get(request_id)

    def claim(self, request_id: str) -> bool:
        """Move an approved request to applying; True for exactly one caller."""
        won = self.store.transition_request(request_id, ("approved",), "applying")
        if won:
            self._audit("apply-claimed", self.get(request_id), "", {})
        return won

    # -- applying --------------------------------------------------------------------
    def execute(self, engine: Engine, request_id: str) -> tuple[str, dict[str, Any]]:
        """Apply a claimed request under its approval; returns (run id, outputs).

        A changed plan supersedes the request (PlanChangedError re-raised, so the caller can
        open a fresh one); a failed run marks it failed (RunFailed re-raised, resumable).
        """
        req = self.get(request_id)
        if req.status != "applying":
            raise ApprovalError(f"request {req.id} is {req.status}, not claimed for apply; nothing was changed")
        approvers = ", ".join(a["approver"] for a in req.approvals)
        who = f"{approvers} (requested by {req.requester})"
        # The lock now belongs to this apply, not to the request's TTL.
        self.store.update_lock(req.id, expires_at=None)
        try:
            if req.kind == "resume":
                run_id, outputs = engine.resume(req.resume_of, lock_holder=req.id)
            else:
                data, locator = loads(req.spec_source, req.spec_file, SPEC_MAX_BYTES)
                loaded = parse_spec(data, locator, source=req.spec_source)
                run_id, outputs = engine.apply(
                    loaded, req.plan_hash, who, "request", playbook=req.playbook, kind=req.kind, run_id=req.id, lock_holder=req.id
                )
        except PlanChangedError as exc:
            self._finish(req, "superseded", str(exc))
            raise
        except RunFailed as exc:
            self._finish(req, "failed", str(exc))
            raise
        except BaseException as exc:
            self._finish(req, "failed", f"{type(exc).__name__}: {exc}")
            raise
        self._finish(req, "succeeded", "")
        return run_id, outputs

    def _finish(self, req: ChangeRequest, status: str, reason: str) -> None:
        self.store.transition_request(req.id, ("applying",), status, reason=reason[:2000])
        locks.release(self.store, req.lock_key, req.id)
        self._audit(status, req, "", {"reason": reason[:2000]} if reason else {})

    # -- housekeeping ----------------------------------------------------------------
    def expire_due(self) -> builtins.list[ChangeRequest]:
        """Expire every pending request past its TTL (releasing its lock); returns them."""
        out = []
        for req in self.list(limit=500, status="pending"):
            try:
                self._expire_if_due(req)
            except ApprovalError:
                out.append(self.get(req.id))
        self.settle_orphans()
        return out

    def settle_orphans(self, grace: float = 600.0) -> builtins.list[ChangeRequest]:
        """Requests left 'applying' by a process that died: mark them failed (their run is resumable).

        A request is orphaned when its run ended without the applier recording it, when the
        run's process is gone, or when no run started within ``grace`` seconds of the claim.
        """
        out = []
        for req in self.list(limit=500, status="applying"):
            run = self.store.get_run(req.resume_of or req.id)
            if run is not None and run.status in ("succeeded", "failed", "interrupted"):
                status = "succeeded" if run.status == "succeeded" else "failed"
                reason = "" if status == "succeeded" else f"run {run.id} ended {run.status}: {run.error}"
            elif run is not None and run.status == "applying" and run.pid and not locks.pid_alive(run.pid):
                status, reason = "failed", f"the process applying run {run.id} stopped; resume run {run.id}"
            elif run is None and self.clock() - (req.decided_at or req.created_at) > grace:
                status, reason = "failed", "the apply never started (the claiming process stopped)"
            else:
                continue
            self._finish(req, status, reason)
            out.append(self.get(req.id))
        return out

    def locks(self) -> builtins.list[ClusterLock]:
        """Every cluster lock."""
        return locks.held(self.store)

    def release_lock(self, cluster: str, *, admin: str, region: str | None = None) -> ClusterLock:
        """An admin releases a stuck lock; a pending request holding it is cancelled."""
        if admin not in self.policy.admins:
            raise ApprovalError(f"{admin} is not an admin in the approval policy; only admins can release locks")
        return release_cluster_lock(self.store, cluster, region=region, actor=admin, requests=self)

    def _audit(self, event: str, req: ChangeRequest, actor: str, data: dict[str, Any]) -> None:
        self.store.audit(
            f"request-{event}",
            req.id,
            actor,
            req.plan_hash,
            {"cluster": req.cluster, "account": req.account, "region": req.region, "requester": req.requester, **data},
        )


def wait_for_approval(requests: Requests, request_id: str, cancelled: Callable[[], bool] = lambda: False) -> ChangeRequest:
    """Poll until the request is approved (returned) or decided otherwise (ApprovalError); then claim it.

    ``cancelled()`` turning true withdraws the request (the wizard's Cancel).
    """
    while True:
        requests.expire_due()
        req = requests.get(request_id)
        if req.status == "approved":
            break
        if req.status != "pending":
            why = f" by {req.decided_by}" if req.decided_by else ""
            reason = f": {req.reason}" if req.reason else ""
            raise ApprovalError(f"request {req.id} was {req.status}{why}{reason}; nothing was changed")
        if cancelled():
            requests.cancel(request_id, req.requester)
            raise ApprovalError(f"request {req.id} was withdrawn while waiting for approval; nothing was changed")
        time.sleep(POLL_SECONDS)
    if not requests.claim(request_id):
        raise ApprovalError(f"request {request_id} was already claimed by another process; not applying it twice")
    return req


def execute_and_report(
    requests: Requests, engine: Engine, request_id: str, notify: Any, where: str, *, warn: Callable[[str], None]
) -> tuple[str, dict[str, Any]]:
    """Apply a claimed request, then show the outcome on its Slack message and thread.

    ``warn`` hears when Slack could not be told: the run's result stands either way.
    """
    try:
        run_id, outputs = requests.execute(engine, request_id)
    except Exception as exc:
        _reply(notify, requests.get(request_id), f"Apply of {request_id} did not finish: {str(exc).splitlines()[0]}", warn)
        raise
    _reply(
        notify,
        requests.get(request_id),
        f"Applied (run {run_id}) from the {where}. Endpoint: {outputs.get('endpoint') or '-'}",
        warn,
    )
    return run_id, outputs


def _reply(notify: Any, req: ChangeRequest, text: str, warn: Callable[[str], None]) -> None:
    # The approval message shows the request's final state (applied, failed, superseded) and
    # the thread says what happened. Both are courtesies: the run's result stands either way.
    try:
        notify.update_request(req, note=text)
        notify.post_text(req, text)
    except Exception as exc:
        warn(f"could not post to Slack: {exc}")


def release_cluster_lock(
    store: Store, cluster: str, *, region: str | None, actor: str, requests: Requests | None = None
) -> locks.Lock:
    """Release ``cluster``'s lock (in ``region`` when several regions hold one); audited."""
    matches = [lk for lk in locks.held(store) if lk.cluster == cluster and (region is None or lk.region == region)]
    if not matches:
        raise InputError(f"no lock is held on cluster '{cluster}'" + (f" in {region}" if region else ""))
    if len(matches) > 1:
        regions = ", ".join(m.region for m in matches)
        raise InputError(f"cluster '{cluster}' is locked in several regions ({regions}); pass --region")
    lock = matches[0]
    locks.release(store, lock.key, lock.holder)
    row = store.get_request(lock.holder)
    if row is not None and row["status"] in OPEN:
        store.transition_request(lock.holder, OPEN, "cancelled", decided_by=actor, decided_at=time.time(), reason="lock released")
    store.audit("lock-released", lock.holder, actor, "", {"cluster": cluster, "region": lock.region, "account": lock.account})
    return lock


def _when(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(ts))
