"""``eks-assist kubeconfig``: write a cluster's context into a kubeconfig, like ``aws eks update-kubeconfig``.

Read-only on AWS (one DescribeCluster); writing a local file needs no approval.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from assistant.awsnames import CLUSTER_NAME, check_role_and_region, shown

EXIT_OK, EXIT_FAILED, EXIT_INPUT = 0, 1, 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``kubeconfig`` verb's options to ``parser``."""
    parser.add_argument("--cluster", required=True, help="EKS cluster name")
    parser.add_argument("--path", help="kubeconfig file (default: first file in $KUBECONFIG, else ~/.kube/config)")
    parser.add_argument("--alias", help="context name (default: the cluster ARN)")
    parser.add_argument(
        "--exec",
        dest="exec_kind",
        choices=("aws", "builtin"),
        default="builtin",
        help="token plugin: 'builtin' runs 'eks-assist token', 'aws' runs 'aws eks get-token' (default: %(default)s)",
    )
    parser.add_argument("--role-arn", help="the plugin assumes this IAM role before signing the token")
    parser.add_argument("--region", help="AWS region (default: AWS_REGION / the profile's region)")
    parser.add_argument("--profile", help="AWS profile; also written as AWS_PROFILE into the plugin's environment")
    parser.add_argument(
        "--sandbox",
        action="store_true",
        help="the cluster lives in the running sandbox ('eks-assist sandbox [start]' or the wizard's)",
    )
    parser.add_argument("-o", "--output", choices=("text", "json"), default="text", help="output format (default: text)")


def check_arguments(args: argparse.Namespace) -> None:
    """ValueError naming the argument, before any AWS call or file access."""
    if not CLUSTER_NAME.fullmatch(args.cluster):
        raise ValueError(
            f"--cluster: {shown(args.cluster)} is not an EKS cluster name (1-100 letters, digits, '-' and '_', "
            "starting with a letter or digit)"
        )
    check_role_and_region(args.role_arn, args.region)
    if args.path is not None and not args.path.strip():
        raise ValueError("--path: the path is empty")
    # The alias becomes the context name kubectl lists and matches; a control character or an
    # empty name there is a mistake (or a trick) and never what was meant.
    if args.alias is not None and (not args.alias.strip() or len(args.alias) > 253 or not args.alias.isprintable()):
        raise ValueError(f"--alias: {shown(args.alias)} is not a usable context name (1-253 printable characters)")


def _eks_client(args: argparse.Namespace) -> tuple[Any, str, str | None]:
    """(EKS client, region, sandbox endpoint or None)."""
    if args.sandbox:
        import boto3

        from assistant.sandbox import statefile

        if args.profile:
            raise ValueError("--profile cannot be combined with --sandbox")
        info = statefile.require_running(f"apply cluster '{args.cluster}' and run this again")
        region = args.region or info.region
        session = boto3.Session(
            aws_access_key_id=info.access_key_id, aws_secret_access_key=info.secret_access_key, region_name=region
        )
        return session.client("eks", endpoint_url=info.aws_url), region, info.aws_url
    from assistant.clients.aws import AwsContext
    from assistant.errors import InputError
    from assistant.identity.kubeconfig import is_sandbox_endpoint
    from assistant.sandbox.link import SandboxLink

    try:
        aws = AwsContext(region=args.region, profile=args.profile)
    except InputError as exc:
        raise ValueError("; ".join(str(p) for p in exc.problems)) from None
    client = aws.client("eks")
    endpoint = client.meta.endpoint_url
    return client, aws.region, endpoint if is_sandbox_endpoint(endpoint, SandboxLink()) else None


def cluster_info(client: Any, name: str, region: str) -> Any:
    """The :class:`~assistant.identity.kubeconfig.ClusterInfo` of an ACTIVE cluster; ValueError otherwise."""
    import botocore.exceptions

    from assistant.identity.kubeconfig import ClusterInfo

    try:
        c = client.describe_cluster(name=name)["cluster"]
    except botocore.exceptions.ClientError as exc:
        if exc.response["Error"]["Code"] == "ResourceNotFoundException":
            raise ValueError(f"no EKS cluster named '{name}' in {region}") from None
        raise
    if not c.get("endpoint") or not (c.get("certificateAuthority") or {}).get("data"):
        raise ValueError(f"cluster '{name}' is {c.get('status')}: it has no endpoint yet; try again when it is ACTIVE")
    return ClusterInfo(name, c["arn"], c["endpoint"], c["certificateAuthority"]["data"], region)


def run(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Write the kubeconfig entries; exit 2 on bad input or an unusable file, 1 if AWS fails."""
    from assistant.errors import SandboxError
    from assistant.identity import kubeconfig
    from assistant.sandbox.link import SandboxLink

    out = out or sys.stdout
    err = err or sys.stderr
    try:
        check_arguments(args)
        client, region, sandbox_endpoint = _eks_client(args)
        info = cluster_info(client, args.cluster, region)
        options = kubeconfig.ExecOptions(
            kind=args.exec_kind,
            profile=args.profile,
            role_arn=args.role_arn,
            sandbox=sandbox_endpoint is not None,
            sandbox_endpoint=sandbox_endpoint,
        )
        result = kubeconfig.write(info, options, args.path, args.alias, sandbox=SandboxLink())
    except (ValueError, OSError) as exc:
        print(f"eks-assist kubeconfig: {exc}", file=err)
        return EXIT_INPUT
    except SandboxError as exc:
        print(f"eks-assist kubeconfig: {exc}", file=err)
        return EXIT_FAILED
    except Exception as exc:
        import botocore.exceptions

        if isinstance(exc, botocore.exceptions.BotoCoreError | botocore.exceptions.ClientError):
            print(f"eks-assist kubeconfig: {exc}", file=err)
            return EXIT_FAILED
        raise
    if args.output == "json":
        print(json.dumps({"op": result.op, "path": str(result.path), "context": result.context}), file=out)
    else:
        verb = {"create": "Added new context", "update": "Updated context", "no-op": "Context unchanged:"}[result.op]
        print(f"{verb} {result.context} in {result.path}", file=out)
    return EXIT_OK
