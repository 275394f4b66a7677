"""``eks-assist access check|list``: who an IAM principal is inside a cluster, and why.

Read-only: DescribeCluster, ListAccessEntries/DescribeAccessEntry/ListAssociatedAccessPolicies,
and one GET of ``kube-system/aws-auth``. The resolution rules live in :mod:`assistant.identity.access`.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from assistant.identity import access
from assistant.identity.access import Mapping


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``check`` and ``list`` under the ``access`` verb's parser."""
    from assistant.cli.main import _add_aws, _add_output

    sub = parser.add_subparsers(dest="access_verb", metavar="ACTION", required=True)
    p = sub.add_parser("check", help="the Kubernetes username and groups an IAM principal gets, and which rule grants them")
    p.add_argument("--cluster", required=True, help="EKS cluster name")
    p.add_argument(
        "--principal",
        required=True,
        help="IAM role or user ARN, or an assumed-role session ARN (arn:aws:sts::A:assumed-role/R/S)",
    )
    _add_aws(p)
    _add_output(p)
    p = sub.add_parser("list", help="every mapping of the cluster, from aws-auth and from access entries")
    p.add_argument("--cluster", required=True, help="EKS cluster name")
    _add_aws(p)
    _add_output(p)


def read_mappings(aws: Any, cluster: str) -> tuple[str, list[Mapping], list[str]]:
    """(authentication mode, every mapping from both sources, notes) for ``cluster``."""
    import botocore.exceptions

    from assistant.clients.kube import api_client
    from assistant.errors import InputError
    from assistant.identity import awsauth

    eks = aws.client("eks")
    try:
        c = eks.describe_cluster(name=cluster)["cluster"]
    except botocore.exceptions.ClientError as exc:
        if exc.response["Error"]["Code"] == "ResourceNotFoundException":
            raise InputError(f"no EKS cluster named '{cluster}' in {aws.region}") from None
        raise
    mode = (c.get("accessConfig") or {}).get("authenticationMode", "CONFIG_MAP")
    mappings: list[Mapping] = []
    notes: list[str] = []
    if mode != "CONFIG_MAP":
        for page in eks.get_paginator("list_access_entries").paginate(clusterName=cluster):
            for arn in page["accessEntries"]:
                e = eks.describe_access_entry(clusterName=cluster, principalArn=arn)["accessEntry"]
                policies = []
                for pp in eks.get_paginator("list_associated_access_policies").paginate(clusterName=cluster, principalArn=arn):
                    for pol in pp["associatedAccessPolicies"]:
                        scope = pol.get("accessScope") or {}
                        policies.append(
                            {
                                "policy": pol["policyArn"].rsplit("/", 1)[1],
                                "scope": scope.get("type", "cluster"),
                                "namespaces": list(scope.get("namespaces") or []),
                            }
                        )
                mappings.append(
                    Mapping(
                        "access-entry",
                        arn,
                        e.get("username"),
                        list(e.get("kubernetesGroups") or []),
                        policies=policies,
                        type=e.get("type", "STANDARD"),
                    )
                )
    import kubernetes.client

    core = kubernetes.client.CoreV1Api(api_client(aws, cluster))
    try:
        cm = core.read_namespaced_config_map("aws-auth", "kube-system")
    except kubernetes.client.ApiException as exc:
        if exc.status != 404:
            raise
        cm = None
        notes.append("kube-system/aws-auth does not exist")
    if cm is not None:
        doc = awsauth.AwsAuth.parse(dict(cm.data or {}))
        for section in awsauth.SECTIONS:
            for key, value in doc.entries(section).items():
                if section == "mapAccounts":
                    mappings.append(Mapping("aws-auth", key, None, [], section=section))
                else:
                    mappings.append(
                        Mapping("aws-auth", key, value.get("username"), list(value.get("groups") or []), section=section)
                    )
    if mode == "API":
        notes.append("authenticationMode API: EKS ignores aws-auth")
    if mode == "CONFIG_MAP":
        notes.append("authenticationMode CONFIG_MAP: the cluster has no access entries")
    return mode, mappings, notes


def run(args: argparse.Namespace) -> int:
    """Run ``access check`` or ``access list``; exit 0, or 2 for bad input."""
    from assistant.cli.main import _aws

    ctx: dict[str, Any] = {}
    try:
        if args.access_verb == "check":
            access.parse_principal(args.principal)  # malformed → exit 2 before any call
        aws = _aws(args, None, ctx)
        mode, mappings, notes = read_mappings(aws, args.cluster)
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
