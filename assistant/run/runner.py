"""The DAG runner: applies an approved plan step by step, concurrently where ``needs`` allow.

For every instance, once its dependencies are done, the runner re-renders its arguments with
the real outputs, re-reads the resource and re-plans it. It then checks the fresh change
against the *approved* one: a step that has converged already (no-op) is fine; one whose op
or values differ from what was approved fails instead of doing something nobody reviewed.
Every transition is journaled before and after the mutating call, so a killed run can be
resumed: resume re-runs the same loop, and the re-reads make it idempotent.

Concurrency. With ``parallelism`` N > 1 every ready step starts at once, on its own thread,
and what is limited is the work: at most N calls in flight per AWS service (and N Kubernetes
requests), as AWS throttles each service on its own (:mod:`assistant.run.gates`, enforced by
the guards' hooks). A step waiting for a resource holds no place between its polls, so any
number of node groups can be CREATING at once. With N = 1 the run is serial the eksctl way:
one step at a time, its wait included.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from assistant.actions import registry
from assistant.actions.base import ActionContext
from assistant.clients.local_sandbox import LocalSandbox
from assistant.errors import EksAssistError, InputError, RunFailed
from assistant.planning.plan import Op, Plan, Unknown, is_unknown
from assistant.planning.planner import Instance, Planning, render_args, step_context
from assistant.playbook import templating
from assistant.run.events import Event, EventSink
from assistant.run.gates import ServiceGates
from assistant.run.guard import approved_apply
from assistant.store import RunRecord, StepRecord, Store


@dataclass
class RunOptions:
    """Tuning for an apply.

    ``parallelism``: calls in flight per AWS service (waiting steps hold none); 1 runs the
    steps one at a time, each with its wait, eksctl-style.
    """

    parallelism: int = 8
    poll_min: float = 2.0
    poll_max: float = 15.0
    wait_timeout: float = 3600.0
    # Seconds to wait for another run's cluster lock before giving up (0: refuse at once).
    lock_timeout: float = 0.0
    # Set from another thread (a UI's Cancel) to stop starting steps and end waits; the run
    # is left "interrupted" and resumable.
    cancel: threading.Event | None = None


def matches(approved: Any, fresh: Any) -> bool:
    """True if ``fresh`` is what was approved; approved unknowns match any value."""
    if isinstance(approved, Unknown):
        return True
    if isinstance(approved, dict) and isinstance(fresh, dict):
        return approved.keys() == fresh.keys() and all(matches(approved[k], fresh[k]) for k in approved)
    if isinstance(approved, list) and isinstance(fresh, list):
        return len(approved) == len(fresh) and all(matches(a, f) for a, f in zip(approved, fresh, strict=True))
    return bool(approved == fresh)


# A step killed after its create call but before it finished (tags, attachments) plans as
# an update towards the same target on resume: that is the approved create, continued.
_CONTINUATIONS = {Op.CREATE: {Op.CREATE, Op.UPDATE}, Op.UPDATE: {Op.UPDATE}, Op.DELETE: {Op.DELETE}, Op.REPLACE: {Op.REPLACE}}


def continues(approved: Op, fresh: Op) -> bool:
    """True if doing ``fresh`` now carries out what was approved as ``approved``."""
    return fresh in _CONTINUATIONS.get(approved, set())


class _NotStarted(Exception):
    """A step that saw the run cancelled before it changed anything: it stays pending."""


def describe_error(exc: BaseException) -> str:
    """A one-line, user-facing description of a failure (AWS error code and message)."""
    resp = getattr(exc, "response", None)
    if isinstance(resp, dict) and "Error" in resp:
        err = resp["Error"]
        return f"{err.get('Code', 'Error')}: {err.get('Message', '')}".strip()
    if isinstance(exc, EksAssistError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


class Runner:
    """Executes one approved run against AWS, journaling to the store and emitting events."""

    def __init__(
        self,
        store: Store,
        client: Callable[[str], Any],
        account: str,
        region: str,
        sink: EventSink,
        options: RunOptions | None = None,
        session: Any = None,
        sandbox: LocalSandbox | None = None,
    ) -> None:
        self.store = store
        self.session = session
        self.sandbox = sandbox
        self.client = client
        self.account = account
        self.region = region
        self.sink = sink
        self.options = options or RunOptions()
        self.cancel_event = self.options.cancel or threading.Event()
        self._t0 = time.monotonic()
        # How far each step got: (journal status, op, resource). A failure report says from
        # this whether the step's AWS call went through, so it names what exists.
        self._reached: dict[str, tuple[str, str, str]] = {}

    def _progress(self, run_id: str, step: str, message: str, fraction: float | None = None) -> None:
        self._emit(run_id, "step_progress", step, message, fraction=fraction)

    def _emit(self, run_id: str, kind: str, step: str = "", message: str = "", **kw: Any) -> None:
        ev = Event(kind=kind, run_id=run_id, step=step, message=message, elapsed=time.monotonic() - self._t0, **kw)
        with contextlib.suppress(Exception):
            self.sink(ev)
        if kind != "step_progress":
            self.store.add_event(run_id, kind, step, message, {"op": kw.get("op", "")})

    def _run_instance(
        self,
        run: RunRecord,
        inst: Instance,
        planning: Planning,
        approved: Plan,
        outputs: dict[str, dict[str, Any]],
    ) -> dict[str, Any]:
        started = time.time()
        if self.cancel_event.is_set():
            raise _NotStarted
        if inst.not_here:
            # Approved as not applicable on this host (see build_plan): nothing to read or write.
            done = StepRecord(run.id, inst.id, "done", Op.NOOP.value, started_at=started, finished_at=time.time())
            self.store.record_step(done)
            self._emit(run.id, "step_done", inst.id, f"{Op.NOOP.value}: {inst.not_here}", op=Op.NOOP.value)
            return {}
        action = registry.get(inst.action_name)()
        ctx = step_context(inst, planning.instances, outputs, planning.base_context)
        actx = ActionContext(
            client=self.client,
            account=self.account,
            region=self.region,
            step=inst.id,
            run_token=run.id,
            progress=functools.partial(self._progress, run.id, inst.id),
            poll_min=self.options.poll_min,
            poll_max=self.options.poll_max,
            wait_timeout=self.options.wait_timeout,
            cancelled=self.cancel_event.is_set,
            session=self.session,
            sandbox=self.sandbox,
        )
        args = render_args(inst, type(action), ctx)
        if is_unknown(args.model_dump()):
            raise RunFailed(f"step {inst.id}: an input is still unknown after its dependencies ran")
        current = action.read(args, actx)
        planned = action.plan(args, current, actx)
        approved_change = approved.change(inst.id)
        if approved_change is None:
            raise RunFailed(f"step {inst.id} is not in the approved plan")
        if planned.op is not Op.NOOP:
            if not continues(approved_change.op, planned.op) or not matches(approved_change.after, planned.after):
                raise RunFailed(
                    f"step {inst.id}: the world changed during apply: approved '{approved_change.op}', "
                    f"now it would '{planned.op}' ({planned.reason}); refusing to do what was not approved"
                )
            if planned.op is Op.REPLACE:
                raise RunFailed(
                    f"step {inst.id}: {planned.resource} needs replacement ({planned.reason}); eks-assist does not "
                    "replace it automatically. Destroy and recreate it, or revert the spec change."
                )
        # Every ready step starts at once, so a cancel often finds steps still reading: they
        # leave the run as they found it, as steps that never started would.
        if self.cancel_event.is_set():
            raise _NotStarted
        self.store.record_step(StepRecord(run.id, inst.id, "applying", planned.op.value, started_at=started))
        self._reached[inst.id] = ("applying", planned.op.value, planned.resource)
        self._emit(run.id, "step_started", inst.id, f"{planned.op.value} {planned.resource}", op=planned.op.value)
        result = dict(planned.outputs) if planned.op is Op.NOOP else action.apply(args, planned, current, actx)
        self.store.record_step(StepRecord(run.id, inst.id, "waiting", planned.op.value, started_at=started, outputs=result))
        self._reached[inst.id] = ("waiting", planned.op.value, planned.resource)
        result = action.wait(args, result, actx)
        if is_unknown(result):
            raise RunFailed(f"step {inst.id}: outputs still unknown after apply: {result}")
        self.store.record_step(
            StepRecord(run.id, inst.id, "done", planned.op.value, started_at=started, finished_at=time.time(), outputs=result)
        )
        self._emit(run.id, "step_done", inst.id, f"{planned.op.value} {planned.resource}: done", op=planned.op.value)
        return result

    def _run_step(self, gates: ServiceGates, *args: Any) -> dict[str, Any]:
        """:meth:`_run_instance` on a step thread; any place it still holds is given back at the end."""
        try:
            return self._run_instance(*args)
        finally:
            gates.release_held()

    def _where(self, step: str) -> str:
        """How far a failed step got, as the start of its error: what it touched may exist now.

        Empty when the step changed nothing (its journal entry then has no op either).
        """
        stage, op, resource = self._reached.get(step, ("", "", ""))
        if not stage or op == Op.NOOP.value:
            return ""
        if stage == "applying":
            return f"failed during the {op} of {resource} (it may be partly done): "
        return f"the {op} of {resource} went through, then: "

    def _done_lines(self, steps: list[str]) -> list[str]:
        """The steps that completed, by what they did (``done: create a, b; no-op c``)."""
        by_op: dict[str, list[str]] = {}
        for step in steps:
            by_op.setdefault(self._reached.get(step, ("", "done", ""))[1], []).append(step)
        return ["done: " + "; ".join(f"{op} {', '.join(ids)}" for op, ids in by_op.items())] if by_op else []

    def execute(self, run: RunRecord, planning: Planning, approved: Plan) -> dict[str, Any]:
        """Apply ``planning`` under the approval for ``approved``; return the playbook outputs."""
        self._t0 = time.monotonic()
        instances = planning.instances
        by_id = {i.id: i for i in instances}
        outputs: dict[str, dict[str, Any]] = {}
        failed: dict[str, str] = {}
        skipped: dict[str, str] = {}
        done: set[str] = set()
        self.store.update_run(run.id, status="applying", error="")
        self._emit(run.id, "run_started", message=f"{run.kind} {run.playbook}: {len(instances)} steps")
        # A resume keeps the steps an earlier attempt finished as "done" (it re-checks them all the
        # same): reset to "pending", a resume killed early would leave a journal saying nothing was done.
        already_done = {s.step for s in self.store.steps(run.id) if s.status == "done"}
        for inst in instances:
            if inst.id not in already_done:
                self.store.record_step(StepRecord(run.id, inst.id, "pending"))
        parallelism = max(1, self.options.parallelism)
        gates = ServiceGates(parallelism)
        # A thread per step: the gates, not the pool, limit the work, so a step that waits
        # never keeps a ready one from starting. Serial runs keep one step in flight.
        workers = 1 if parallelism == 1 else max(1, len(instances))
        with approved_apply(approved.hash, run.id, gates) as scope:
            pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="eks-assist-step")
            running: dict[Future[dict[str, Any]], str] = {}
            try:
                while True:
                    settled = done | set(failed) | set(skipped)
                    for inst in instances:
                        if inst.id in settled or inst.id in running.values():
                            continue
                        bad = [d for d in inst.deps if d in failed or d in skipped]
                        if bad:
                            reason = f"skipped: needs {bad[0]}, which did not complete"
                            skipped[inst.id] = reason
                            self.store.record_step(StepRecord(run.id, inst.id, "skipped", error=reason))
                            self._emit(run.id, "step_skipped", inst.id, reason)
                            continue
                        if self.cancel_event.is_set():
                            continue
                        if all(d in done for d in inst.deps):
                            copied = contextvars.copy_context()
                            fut = pool.submit(copied.run, self._run_step, gates, run, inst, planning, approved, outputs)
                            running[fut] = inst.id
                    if not running:
                        break
                    finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
                    for fut in finished:
                        iid = running.pop(fut)
                        try:
                            outputs[iid] = fut.result()
                            done.add(iid)
                        except _NotStarted:
                            pass
                        except InputError as exc:
                            failed[iid] = str(exc)
                        except Exception as exc:
                            failed[iid] = describe_error(exc)
                        if iid in failed:
                            failed[iid] = self._where(iid) + failed[iid]
                            op = self._reached.get(iid, ("", "", ""))[1]
                            self.store.record_step(
                                StepRecord(run.id, iid, "failed", op, finished_at=time.time(), error=failed[iid])
                            )
                            self._emit(run.id, "step_failed", iid, failed[iid])
            except KeyboardInterrupt:
                self.cancel_event.set()
                for fut in running:
                    fut.cancel()
                self.store.update_run(run.id, status="interrupted", error="cancelled by user")
                # The front end that got the Ctrl-C says how to resume (it knows its own flags).
                message = "cancelled; resume with: eks-assist resume " + run.id
                self._emit(run.id, "run_failed", message=message, data={"interrupted": True})
                raise
            finally:
                pool.shutdown(wait=True, cancel_futures=True)
                # Audited however the run ends: the calls an interrupted run made happened all the same.
                self.store.audit(
                    "mutating-calls", run.id, run.approver, approved.hash, {"calls": list(scope.calls), "retries": scope.retries}
                )
        pending = [i for i in by_id if i not in done and i not in failed and i not in skipped]
        if failed or pending or self.cancel_event.is_set():
            lines = [f"{k}: {v}" for k, v in failed.items()] + [f"{k}: {v}" for k, v in skipped.items()]
            lines += self._done_lines([i for i in by_id if i in done])
            if pending:
                lines.append("not started: " + ", ".join(pending))
            if self.cancel_event.is_set():
                lines.append("cancelled")
            msg = "; ".join(lines) or "incomplete"
            # A cancel that lands inside a wait fails that step with "cancelled"; the run as a
            # whole was stopped on purpose, and resumes the same way.
            cancelled = self.cancel_event.is_set()
            self.store.update_run(run.id, status="interrupted" if cancelled else "failed", error=msg)
            self._emit(run.id, "run_failed", message=msg)
            raise RunFailed(
                f"{len(failed)} step(s) failed, {len(skipped)} skipped, {len(done)} done:\n  "
                + "\n  ".join(lines)
                + f"\nResume with: eks-assist resume {run.id}",
                run_id=run.id,
            )
        # Playbook outputs see every step's outputs, as a step with no foreach item would.
        ctx = (
            step_context(Instance("_outputs", instances[0].step), instances, outputs, planning.base_context) if instances else {}
        )
        final: dict[str, Any] = {}
        for name, tmpl in planning.playbook.outputs.items():
            try:
                final[name] = templating.render(tmpl, ctx)
            except templating.TemplateError:
                final[name] = None
        self.store.update_run(run.id, status="succeeded", outputs=final)
        self._emit(run.id, "run_done", message="converged", data={"outputs": final})
        return final
