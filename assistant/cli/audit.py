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
    from assistant.cli.common import add_output_option

    parser.add_argument("--limit", type=int, default=50, metavar="N", help="newest N entries (default 50)")
    parser.add_argument("--run", metavar="ID", help="only entries of this run or change request")
    parser.add_argument("--event", metavar="NAME", help="only this event (e.g. request-approved, mutating-calls)")
    add_output_option(parser)


def add_locks_arguments(parser: argparse.ArgumentParser) -> None:
    """``eks-assist locks`` lists; ``eks-assist locks release CLUSTER`` frees a stuck lock."""
    from assistant.cli.common import add_output_option

    sub = parser.add_subparsers(dest="locks_verb", metavar="ACTION")
    p = sub.add_parser("list", help="every cluster lock and who holds it (the default)")
    add_output_option(p)
    p = sub.add_parser("release", help="release a stuck lock; a pending change request holding it is cancelled")
    p.add_argument("cluster", help="EKS cluster name")
    p.add_argument("--region", help="the lock's region, when the cluster name is locked in several")
    add_output_option(p)
    add_output_option(parser)


def _ts(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(ts)) if ts else "-"


# The text view fits a 100-column terminal; `-o json` has every field of every entry.
WIDTH = 100


def _fit(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters, with "…" where it was cut."""
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


def _calls_summary(data: dict[str, Any]) -> str:
    """``14 AWS calls (14 request ids), 2 Kubernetes: ec2:CreateVpc, iam:CreateRole x2, …``."""
    calls = data.get("calls", [])
    aws = [c for c in calls if c.get("service") != "kubernetes"]
    k8s = len(calls) - len(aws)
    with_ids = sum(1 for c in aws if c.get("requestId"))
    counts: dict[str, int] = {}
    for c in calls:
        name = f"{c.get('service')}:{c.get('operation')}"
        counts[name] = counts.get(name, 0) + 1
    head = f"{len(aws)} AWS call(s) ({with_ids} request ids)"
    if k8s:
        head += f", {k8s} Kubernetes"
    if data.get("retries"):
        head += f", {data['retries']} retries"
    ops = ", ".join(name + (f" x{n}" if n > 1 else "") for name, n in counts.items())
    return f"{head}: {ops}" if ops else head


def _summary(entry: dict[str, Any]) -> str:
    data = entry["data"]
    if entry["event"] == "mutating-calls":
        return _calls_summary(data)
    keys = ("cluster", "kind", "method", "reason", "team", "channel", "message_ts", "action_ts", "count", "fresh")
    text = " ".join(f"{k}={data[k]}" for k in keys if data.get(k) not in (None, "", {}))
    return " ".join(text.split())  # a reason with line breaks stays on its entry's line


def _who(actor: str) -> str:
    """The person, without the AWS caller ARN the CLI appends in parentheses (`-o json` has it)."""
    return actor.split(" (", 1)[0] or "-"


def run_audit(args: argparse.Namespace) -> int:
    """Print the audit log, newest first: one line per entry, at most 100 columns."""
    from assistant.errors import InputError
    from assistant.store import open_store

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
    event_w = min(25, max(len("EVENT"), *(len(r["event"]) for r in rows)))
    run_w = min(22, max(len("RUN/REQUEST"), *(len(r["run_id"] or "-") for r in rows)))
    who_w = min(12, max(len("WHO"), *(len(_who(r["actor"] or "")) for r in rows)))
    print(f"{'WHEN (UTC)':20}  {'EVENT':{event_w}}  {'RUN/REQUEST':{run_w}}  {'WHO':{who_w}}  DETAIL")
    for r in rows:
        head = (
            f"{_ts(r['ts']):20}  {_fit(r['event'], event_w):{event_w}}  {_fit(r['run_id'] or '-', run_w):{run_w}}  "
            f"{_fit(_who(r['actor'] or ''), who_w):{who_w}}"
        )
        detail = _summary(r)
        if len(head) + 2 + len(detail) <= WIDTH:
            print(f"{head}  {detail}".rstrip())
        else:
            # Too long for the line: the detail gets a line of its own, cut to fit (-o json has it whole).
            print(head)
            print(_fit(f"    {detail}", WIDTH))
    return 0


def run_locks(args: argparse.Namespace) -> int:
    """List the cluster locks, or release one."""
    from assistant.governance import locks
    from assistant.governance.requests import release_cluster_lock
    from assistant.store import open_store

    if args.locks_verb == "release" and args.region is not None:
        from assistant.awsnames import region_problem
        from assistant.errors import InputError

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
