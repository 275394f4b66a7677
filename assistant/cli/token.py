"""``eks-assist token``: the kubectl exec plugin. Prints an ExecCredential with an EKS token.

kubectl runs this for every token it needs, so it imports only boto3 and never the engine.
It prints the token (that is its job) and never an access key or secret.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, TextIO

from assistant.awsnames import CLUSTER_NAME, check_role_and_region, shown

EXIT_OK, EXIT_FAILED, EXIT_INPUT = 0, 1, 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``token`` verb's options to ``parser``."""
    parser.add_argument("--cluster-name", required=True, help="EKS cluster name (signed into the token)")
    parser.add_argument("--role-arn", help="assume this IAM role first and sign the token as it")
    parser.add_argument("--region", help="AWS region (default: AWS_REGION / the profile's region)")
    parser.add_argument("--profile", help="AWS profile (default: boto3's standard credential chain)")
    parser.add_argument(
        "--sandbox",
        action="store_true",
        help="sign with the credentials of the running sandbox ('eks-assist sandbox [start]' or the wizard's; "
        "found through its state file)",
    )


def check_arguments(args: argparse.Namespace) -> None:
    """ValueError naming the argument: a token signed for a name EKS cannot have is no use to anyone."""
    if not CLUSTER_NAME.fullmatch(args.cluster_name):
        raise ValueError(f"--cluster-name: {shown(args.cluster_name)} is not an EKS cluster name")
    check_role_and_region(args.role_arn, args.region)


def _session(args: argparse.Namespace) -> tuple[Any, str | None, str | None]:
    """(boto3 session, region, STS endpoint override) for these arguments."""
    import boto3

    if args.sandbox:
        from assistant.sandbox import statefile

        if args.profile:
            raise ValueError("--profile cannot be combined with --sandbox")
        info = statefile.require_running(f"apply cluster '{args.cluster_name}' again")
        session = boto3.Session(
            aws_access_key_id=info.access_key_id,
            aws_secret_access_key=info.secret_access_key,
            region_name=args.region or info.region,
        )
        return session, args.region or info.region, info.aws_url
    import botocore.exceptions

    try:
        session = boto3.Session(profile_name=args.profile, region_name=args.region)
    except botocore.exceptions.ProfileNotFound:
        raise ValueError(f"--profile: AWS profile '{args.profile}' not found in your AWS config") from None
    return session, session.region_name or os.environ.get("AWS_REGION") or None, None


def run(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Print an ExecCredential for ``args.cluster_name``; exit 2 on bad input, 1 if AWS fails."""
    from assistant.errors import SandboxError
    from assistant.identity import tokens as kubeauth

    out = out or sys.stdout
    err = err or sys.stderr
    try:
        check_arguments(args)
        api_version = kubeauth.exec_api_version(os.environ.get("KUBERNETES_EXEC_INFO"))
        session, region, endpoint = _session(args)
        if not region:
            raise ValueError("no AWS region: pass --region or set AWS_REGION")
    except ValueError as exc:
        print(f"eks-assist token: {exc}", file=err)
        return EXIT_INPUT
    except SandboxError as exc:
        # Not bad input: the sandbox the kubeconfig names has stopped, or does not answer.
        print(f"eks-assist token: {exc}", file=err)
        return EXIT_FAILED
    try:
        token = kubeauth.get_token(session, region, args.cluster_name, args.role_arn, endpoint_url=endpoint)
    except Exception as exc:
        import botocore.exceptions

        if isinstance(exc, botocore.exceptions.NoCredentialsError):
            print("eks-assist token: no AWS credentials found: use --profile, AWS_PROFILE or AWS_ACCESS_KEY_ID", file=err)
            return EXIT_FAILED
        if isinstance(exc, botocore.exceptions.BotoCoreError | botocore.exceptions.ClientError):
            # botocore's messages name operations and codes, never secrets.
            print(f"eks-assist token: {exc}", file=err)
            return EXIT_FAILED
        raise
    print(json.dumps(kubeauth.exec_credential(token, api_version)), file=out)
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """Entry point for running the plugin on its own."""
    parser = argparse.ArgumentParser(prog="eks-assist token", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))
