"""``eks-assist audit`` and ``eks-assist locks``: the append-only audit log and the cluster locks.

Both read the local store; ``locks release`` is the one write, and it is audited.
"""

from __future__ import annotations

import argparse
import getpass
import json
import time
from typing import Any


def add_audit_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``eks-assist audit``."""
    from .cli import _add_output

    parser.add_argument("--limit", type=int, default=50, metavar="N", help="newest N entries (default 50)")
    parser.add_argument("--run", metavar="ID", help="only entries of this run or change request")
    parser.add_argument("--event", metavar="NAME", help="only this event (e.g. request-approved, mutating-calls)")
    _add_output(parser)


def add_locks_arguments(parser: argparse.ArgumentParser) -> None:
    """``eks-assist locks`` lists; ``eks-assist locks release CLUSTER`` frees a stuck lock."""
    from .cli import _add_output

    sub = parser.add_subparsers(dest="locks_verb", metavar="ACTION")
    p = sub.add_parser("list", help="every cluster lock and who holds it (the default)")
    _add_output(p)
    p = sub.add_parser("release", help="release a stuck lock; a pending change request holding it is cancelled")
    p.add_argument("cluster", help="EKS cluster name")
    p.add_argument("--region", help="the lock's region, when the cluster name is locked in several")
    _add_output(p)
    _add_output(parser)


def _ts(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(ts)) if ts else "-"


def _summary(entry: dict[str, Any]) -> str:
    data = entry["data"]
    if entry["event"] == "mutating-calls":
        calls = data.get("calls", [])
        # Kubernetes API servers return no request id; AWS calls show theirs for support cases.
        ids = ", ".join(
            f"{c['service']}:{c['operation']}" + ("" if c["service"] == "kubernetes" else f"={c.get('requestId') or '?'}")
            for c in calls[:6]
        )
        more = f" (+{len(calls) - 6} more)" if len(calls) > 6 else ""
        retries = f"; {data['retries']} AWS retries" if data.get("retries") else ""
        return f"{len(calls)} call(s): {ids}{more}{retries}"
    keys = ("cluster", "kind", "method", "reason", "team", "channel", "message_ts", "action_ts", "count", "fresh")
    return " ".join(f"{k}={data[k]}" for k in keys if data.get(k) not in (None, "", {}))


def run_audit(args: argparse.Namespace) -> int:
    """Print the audit log, newest first."""
    from .errors import InputError
    from .store import open_store

    if args.limit < 1:
        raise InputError("--limit must be at least 1")
    store = open_store()
    rows = store.audit_log(limit=100_000 if (args.run or args.event) else args.limit)
    rows = [r for r in rows if r["run_id"].startswith(args.run or "") and (not args.event or r["event"] == args.event)]
    rows = rows[: args.limit]
    if args.output == "json":
        print(json.dumps(rows, indent=2, sort_keys=True, default=str))
        return 0
    if not rows:
        print("The audit log is empty." if not (args.run or args.event) else "No audit entries match.")
        return 0
    print(f"{'WHEN':20}  {'EVENT':26}  {'RUN/REQUEST':22}  {'ACTOR':24}  {'PLAN':12}  DETAIL")
    for r in rows:
        print(
            f"{_ts(r['ts']):20}  {r['event']:26}  {r['run_id'] or '-':22}  {(r['actor'] or '-')[:24]:24}  "
            f"{(r['plan_hash'] or '-')[:12]:12}  {_summary(r)}"
        )
    return 0


def run_locks(args: argparse.Namespace) -> int:
    """List the cluster locks, or release one."""
    from . import locks
    from .requests import release_cluster_lock
    from .store import open_store

    if args.locks_verb == "release" and args.region is not None:
        from .argcheck import region_problem
        from .errors import InputError

        problem = region_problem(args.region)
        if problem:
            raise InputError(f"--region: {problem}")
    store = open_store()
    if args.locks_verb == "release":
        actor = f"{getpass.getuser()} (local)"
        lock = release_cluster_lock(store, args.cluster, region=args.region, actor=actor)
        if args.output == "json":
            print(json.dumps({"released": lock.__dict__}, indent=2, sort_keys=True, default=str))
        else:
            print(f"Released the lock on {lock.cluster} ({lock.account}/{lock.region}) held by {lock.holder} for {lock.owner}.")
        return 0
    held = locks.held(store)
    if args.output == "json":
        print(json.dumps([lk.__dict__ for lk in held], indent=2, sort_keys=True, default=str))
        return 0
    if not held:
        print("No cluster is locked.")
        return 0
    print(f"{'CLUSTER':24}  {'ACCOUNT/REGION':28}  {'HELD BY':22}  {'FOR':20}  {'SINCE':20}  EXPIRES")
    for lk in held:
        print(
            f"{lk.cluster:24}  {lk.account + '/' + lk.region:28}  {lk.holder:22}  {lk.owner[:20]:20}  "
            f"{_ts(lk.since):20}  {_ts(lk.expires_at) if lk.expires_at else 'while applying'}"
        )
    return 0
