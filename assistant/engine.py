"""The engine's front door: validate, plan, apply, resume and status, for every front end.

The CLI, the terminal wizard and the Slack bot all call these functions; none of them
has provisioning logic of its own. The approval gate lives here, not in the UIs.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from assistant.clients.aws import AwsContext
from assistant.clients.reads import caching_reads
from assistant.governance import approval as approvals
from assistant.governance import locks
from assistant.network.capacity import capacity_warnings
from assistant.planning.plan import Plan
from assistant.planning.planner import Planning, build_plan
from assistant.run.events import EventSink, discard
from assistant.run.runner import Runner, RunOptions
from assistant.spec import LoadedSpec, load_spec, parse_spec
from assistant.spec.source import SPEC_MAX_BYTES, loads

from .clock import today as calendar_today
from .errors import ApprovalError, InputError, PlanChangedError, RunFailed, SpecFieldError
from .playbook import load_playbook
from .store import RunRecord, Store
from .tags import partition_of

DESTROY_PLAYBOOK = "teardown"


@contextlib.contextmanager
def located(loaded: LoadedSpec) -> Iterator[None]:
    """Turn a planning-time :class:`SpecFieldError` into a problem at its field in the spec file."""
    try:
        yield
    except SpecFieldError as exc:
        raise InputError(loaded.problem(exc.spec_path, exc.message)) from None


def new_run_id() -> str:
    """Sortable, unique run id such as ``20261124-001822-3fa9c1``."""
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + "-" + secrets.token_hex(3)


@dataclass
class Engine:
    """One engine bound to an AWS context and a store."""

    aws: AwsContext
    store: Store
    sink: EventSink = discard
    options: RunOptions | None = None
    # False when the front end applies on a server (the Slack bot): it writes no kubeconfig from
    # a spec there, and its plans say so. The front end decides; the engine never guesses.
    write_kubeconfig: bool = True
    today: Callable[[], dt.date] = calendar_today  # the day version-support warnings are judged on

    # -- validate / plan -------------------------------------------------------------
    def check_spec(self, loaded: LoadedSpec) -> list[str]:
        """Preflight checks that need read-only AWS calls (instance types, versions, subnets, quotas).

        Returns what the quota checks found, one line per quota, for the plan to show.
        """
        from assistant.planning.preflight import preflight_report

        if loaded.spec.metadata.region != self.aws.region:
            raise InputError(
                loaded.locator.problem(
                    ("metadata", "region"),
                    f"spec region '{loaded.spec.metadata.region}' differs from the AWS region in use "
                    f"'{self.aws.region}' (from --region/AWS_REGION); make them agree",
                )
            )
        problems, quota_lines = preflight_report(loaded, self.aws.client)
        if problems:
            raise InputError(problems)
        return quota_lines

    def plan(self, loaded: LoadedSpec, playbook: str = "cluster", *, preflight: bool = True) -> Planning:
        """Read-only: check the spec against AWS and plan ``playbook`` for it."""
        # Preflight and steps share one read cache: the same instance types, versions and
        # cluster are asked about in both.
        with caching_reads():
            return self._plan(loaded, playbook, preflight)

    def _plan(self, loaded: LoadedSpec, playbook: str, preflight: bool) -> Planning:
        pb = load_playbook(playbook)
        info = self.check_spec(loaded) if preflight else []
        account, _ = self.aws.identity()
        spec = loaded.spec.canonical()
        # Subnets too small for the node groups at max scale, and a version in (or near) extended
        # support; read-only, and moot for teardown.
        warnings: list[str] = []
        if playbook != DESTROY_PLAYBOOK:
            from assistant.planning.preflight import version_warnings

            warnings = capacity_warnings(spec, self.aws.client)
            warnings += version_warnings(loaded.spec.masters.version, self.aws.client, self.today())
        with located(loaded):
            planning = build_plan(
                pb,
                spec,
                self.aws.client,
                account,
                self.aws.region,
                warnings=warnings,
                session=self.aws.session,
                sandbox=self.aws.sandbox,
                no_local_files=self._no_local_files(loaded, playbook, account),
            )
        planning.plan.info = info
        return planning

    def _no_local_files(self, loaded: LoadedSpec, playbook: str, account: str) -> str:
        """Why steps that write a file on this host do not run here; empty when they do."""
        if self.write_kubeconfig:
            return ""
        if playbook == DESTROY_PLAYBOOK:
            name = loaded.spec.metadata.name
            arn = f"arn:{partition_of(self.aws.region)}:eks:{self.aws.region}:{account}:cluster/{name}"
            context = loaded.spec.kubeconfig.alias or arn
            return (
                "this front end applies on a server and edits no kubeconfig there; on your machine run: "
                f"kubectl config delete-context {context}; kubectl config delete-cluster {arn}; "
                f"kubectl config delete-user {arn}"
            )
        return (
            "this front end applies on a server and writes no kubeconfig there; on your machine run: "
            f"eks-assist kubeconfig --cluster {loaded.spec.metadata.name} --region {self.aws.region}"
        )

    # -- apply -----------------------------------------------------------------------
    def apply(
        self,
        loaded: LoadedSpec,
        approved_hash: str,
        approver: str,
        method: str,
        playbook: str = "cluster",
        kind: str = "apply",
        run_id: str | None = None,
        lock_holder: str | None = None,
    ) -> tuple[str, dict[str, Any]]:
        """Re-plan, refuse unless the fresh hash is the approved one, then run. Returns (run id, outputs).

        ``run_id`` lets a change request name its run before it starts (default: a new id).
        The cluster's lock is taken for the run, unless ``lock_holder`` (a change request)
        already holds it on the run's behalf; another holder refuses the apply (exit 3).
        """
        run_id = run_id or new_run_id()
        account, _ = self.aws.identity()
        key = (account, self.aws.region, loaded.spec.metadata.name)
        # Lock first, then re-plan: a plan checked before the lock could be stale by the time
        # the lock is ours (another run may have applied in between), and its removals would
        # undo that run's work.
        locks.acquire(self.store, key, lock_holder or run_id, approver, pid=os.getpid(), wait=self._lock_timeout)
        try:
            planning = self.plan(loaded, playbook, preflight=(kind == "apply"))
            fresh = planning.plan
            try:
                approvals.check(approvals.Approval(approved_hash, approver, method), fresh)
            except ApprovalError as exc:
                self.store.audit("apply-refused", "", approver, approved_hash, {"fresh": fresh.hash, "reason": str(exc)})
                raise
            return self._start(loaded, fresh, planning, run_id, approver, method, playbook, kind)
        finally:
            if lock_holder is None:
                locks.release(self.store, key, run_id)

    def _start(
        self,
        loaded: LoadedSpec,
        fresh: Plan,
        planning: Planning,
        run_id: str,
        approver: str,
        method: str,
        playbook: str,
        kind: str,
    ) -> tuple[str, dict[str, Any]]:
        run = RunRecord(
            id=run_id,
            kind=kind,
            status="applying",
            playbook=playbook,
            spec_file=loaded.file,
            spec_source=loaded.source,
            plan=fresh.canonical(),
            plan_hash=fresh.hash,
            account=fresh.account,
            region=fresh.region,
            profile=self.aws.profile,
            created_at=time.time(),
            updated_at=time.time(),
            pid=os.getpid(),
            approver=approver,
        )
        self.store.create_run(run)
        self.store.record_approval(fresh.hash, run.id, approver, method)
        self.store.audit("approved", run.id, approver, fresh.hash, {"method": method, "kind": kind})
        outputs = self._runner().execute(run, planning, fresh)
        return run.id, outputs

    def resume(self, run_id: str, lock_holder: str | None = None) -> tuple[str, dict[str, Any]]:
        """Continue a failed or killed run under its original approval (taking the cluster lock like apply)."""
        run = self.get_run(run_id)
        if run.status == "succeeded":
            raise InputError(f"run {run.id} already succeeded; nothing to resume")
        if run.status == "applying" and run.pid and run.pid != os.getpid() and locks.pid_alive(run.pid):
            raise InputError(f"run {run.id} is still running (process {run.pid}); wait for it, or stop it first")
        approved = Plan.from_canonical(run.plan)
        if approved.region != self.aws.region:
            raise ApprovalError(f"run {run.id} was approved for region {approved.region}, not {self.aws.region}")
        data, locator = loads(run.spec_source, run.spec_file, SPEC_MAX_BYTES)
        loaded = parse_spec(data, locator, source=run.spec_source)
        pb = load_playbook(run.playbook)
        if pb.digest != approved.playbook_digest:
            raise PlanChangedError(
                run.plan_hash,
                "playbooks-changed",
                f"the '{run.playbook}' playbooks changed since run {run.id} was approved; plan and approve again",
            )
        account, _ = self.aws.identity()
        if account != approved.account:
            raise ApprovalError(f"run {run.id} was approved for account {approved.account}, not {account}")
        with located(loaded):
            planning = build_plan(
                pb,
                loaded.spec.canonical(),
                self.aws.client,
                account,
                self.aws.region,
                session=self.aws.session,
                sandbox=self.aws.sandbox,
                no_local_files=self._no_local_files(loaded, run.playbook, account),
            )
        key = (account, self.aws.region, loaded.spec.metadata.name)
        locks.acquire(self.store, key, lock_holder or run.id, run.approver, pid=os.getpid(), wait=self._lock_timeout)
        try:
            self.store.update_run(run.id, pid=os.getpid())
            self.store.audit("resumed", run.id, run.approver, run.plan_hash, {})
            outputs = self._runner().execute(run, planning, approved)
        finally:
            if lock_holder is None:
                locks.release(self.store, key, run.id)
        return run.id, outputs

    def last_spec(self, cluster: str) -> LoadedSpec:
        """The spec of the newest successful apply of ``cluster`` in this region (for destroy from a UI)."""
        for run in self.store.list_runs(limit=1000):  # newest first
            if run.status != "succeeded" or run.region != self.aws.region or run.kind not in ("apply", "destroy"):
                continue
            data, locator = loads(run.spec_source, run.spec_file, SPEC_MAX_BYTES)
            loaded = parse_spec(data, locator, source=run.spec_source)
            if loaded.spec.metadata.name != cluster:
                continue
            if run.kind == "destroy":
                raise InputError(
                    f"cluster '{cluster}' in {self.aws.region} was destroyed by run {run.id}; there is nothing to change"
                )
            return loaded
        raise InputError(
            f"no successful eks-assist apply of cluster '{cluster}' in {self.aws.region} is recorded here; "
            f"destroy it with: eks-assist destroy -f <its spec file>"
        )

    @property
    def _lock_timeout(self) -> float:
        return self.options.lock_timeout if self.options else 0.0

    def _runner(self) -> Runner:
        account, _ = self.aws.identity()
        return Runner(
            self.store,
            self.aws.client,
            account,
            self.aws.region,
            self.sink,
            self.options,
            session=self.aws.session,
            sandbox=self.aws.sandbox,
        )

    def get_run(self, run_id: str) -> RunRecord:
        """A run by id or unique prefix."""
        matches = self.store.find_runs(run_id)
        exact = [r for r in matches if r.id == run_id]
        if exact:
            return exact[0]
        if not matches:
            raise InputError(f"no run '{run_id}' (see: eks-assist runs)")
        if len(matches) > 1:
            raise InputError(f"run id prefix '{run_id}' is ambiguous: {', '.join(r.id for r in matches[:5])}")
        return matches[0]

    # -- status ----------------------------------------------------------------------
    def status(self, cluster: str) -> dict[str, Any]:
        """Cluster, endpoint, version and node groups with their status (read-only)."""
        import botocore.exceptions

        eks = self.aws.client("eks")
        try:
            c = eks.describe_cluster(name=cluster)["cluster"]
        except botocore.exceptions.ClientError as exc:
            if exc.response["Error"]["Code"] == "ResourceNotFoundException":
                raise InputError(f"no EKS cluster named '{cluster}' in {self.aws.region}") from None
            raise
        groups = []
        for page in eks.get_paginator("list_nodegroups").paginate(clusterName=cluster):
            for name in page["nodegroups"]:
                ng = eks.describe_nodegroup(clusterName=cluster, nodegroupName=name)["nodegroup"]
                sc = ng.get("scalingConfig", {})
                groups.append(
                    {
                        "name": name,
                        "status": ng.get("status"),
                        "instanceTypes": ng.get("instanceTypes", []),
                        "capacityType": ng.get("capacityType"),
                        "amiType": ng.get("amiType"),
                        "min": sc.get("minSize"),
                        "desired": sc.get("desiredSize"),
                        "max": sc.get("maxSize"),
                        "version": ng.get("version"),
                    }
                )
        return {
            "name": c["name"],
            "arn": c.get("arn"),
            "status": c.get("status"),
            "version": c.get("version"),
            "endpoint": c.get("endpoint"),
            "region": self.aws.region,
            "authenticationMode": (c.get("accessConfig") or {}).get("authenticationMode"),
            "nodeGroups": groups,
        }


def load(path: str) -> LoadedSpec:
    """Load and statically validate a spec file (no AWS calls)."""
    return load_spec(path)


__all__ = ["DESTROY_PLAYBOOK", "Engine", "RunFailed", "load", "new_run_id"]
