"""``eks-assist access check|list``: who an IAM principal is inside a cluster, and why.

Read-only: DescribeCluster, ListAccessEntries/DescribeAccessEntry/ListAssociatedAccessPolicies,
and one GET of ``kube-system/aws-auth``. The resolution rules live in :mod:`assistant.identity.access`.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assistant.identity.access import Mapping


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``check`` and ``list`` under the ``access`` verb's parser."""
    from assistant.cli.common import add_aws_options, add_output_option

    sub = parser.add_subparsers(dest="access_verb", metavar="ACTION", required=True)
    p = sub.add_parser("check", help="the Kubernetes username and groups an IAM principal gets, and which rule grants them")
    p.add_argument("--cluster", required=True, help="EKS cluster name")
    p.add_argument(
        "--principal",
        required=True,
        help="IAM role or user ARN, or an assumed-role session ARN (arn:aws:sts::A:assumed-role/R/S)",
    )
    add_aws_options(p)
    add_output_option(p)
    p = sub.add_parser("list", help="every mapping of the cluster, from aws-auth and from access entries")
    p.add_argument("--cluster", required=True, help="EKS cluster name")
    add_aws_options(p)
    add_output_option(p)


def run(args: argparse.Namespace) -> int:
    """Run ``access check`` or ``access list``; exit 0, or 2 for bad input."""
    from assistant.cli.common import aws_context
    from assistant.identity import access

    ctx: dict[str, Any] = {}
    try:
        if args.access_verb == "check":
            access.parse_principal(args.principal)  # malformed → exit 2 before any call
        aws = aws_context(args, None, ctx)
        mode, mappings, notes = access.read_mappings(aws, args.cluster)
        if args.access_verb == "list":
            return _list(args, mode, mappings, notes)
        return _check(args, mode, mappings)
    finally:
        sb = ctx.get("sandbox")
        if sb is not None:
            sb.stop()


def _list(args: argparse.Namespace, mode: str, mappings: list[Mapping], notes: list[str]) -> int:
    if args.output == "json":
        out = {"cluster": args.cluster, "authenticationMode": mode, "mappings": [m.to_json() for m in mappings], "notes": notes}
        print(json.dumps(out, indent=2, sort_keys=True))
        return 0
    print(f"Cluster {args.cluster}: authenticationMode {mode}")
    for n in notes:
        print(f"  note: {n}")
    if not mappings:
        print("  no mappings")
    for m in mappings:
        where = m.section if m.source == "aws-auth" else f"access entry ({m.type})"
        groups = ", ".join(m.groups) or "-"
        line = f"  {m.source:<12} {m.arn}  username={m.username or '-'}  groups={groups}  [{where}]"
        for p in m.policies:
            scope = p["scope"] if p["scope"] == "cluster" else f"namespaces {', '.join(p['namespaces'])}"
            line += f"\n{'':15}policy {p['policy']} ({scope})"
        print(line)
    return 0


def _check(args: argparse.Namespace, mode: str, mappings: list[Mapping]) -> int:
    from assistant.identity import access

    result = access.resolve(args.principal, mode, mappings)
    result["cluster"] = args.cluster
    if args.output == "json":
        print(json.dumps(result, indent=2, sort_keys=True))
        return 0
    if result["mapped"]:
        rule = result["rule"]
        where = f"aws-auth {rule['section']}" if rule["source"] == "aws-auth" else "access entry"
        print(f"{args.principal} is mapped on {args.cluster} (authenticationMode {mode})")
        print(f"  username: {result['username']}")
        print(f"  groups:   {', '.join(result['groups']) or '-'}")
        print(f"  granted by: {where} for {rule['arn']}")
        for p in result["accessPolicies"]:
            scope = "cluster" if p["scope"] == "cluster" else f"namespaces {', '.join(p['namespaces'])}"
            print(f"  access policy: {p['policy']} ({scope})")
        for n in result["notes"]:
            print(f"  note: {n}")
        return 0
    print(f"{args.principal} is NOT mapped on {args.cluster} (authenticationMode {mode})")
    for n in result["notes"]:
        print(f"  {n}")
    for miss in result["nearMisses"]:
        print(f"  near miss: {miss}")
    sys.stdout.flush()
    return 0
