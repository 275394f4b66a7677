"""A request signed for a region that does not exist gets AWS's answer at once, in every protocol.

It used to reach moto, which has no backend for ``us-east-7``: werkzeug's HTML 500 page, a
``KeyError`` traceback in the sandbox's log for each attempt, and botocore retrying half a
minute before it printed "Unable to parse response ... invalid XML". What the sandbox cannot
serve at all (an operation or route moto lacks) must not come back as HTML either.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from assistant.sandbox import Sandbox

# The services a plan or apply calls, one per protocol at least: rest-json (eks), ec2, query
# (sts, iam, autoscaling) and json (service-quotas).
CALLS: list[tuple[str, str, dict[str, Any], str]] = [
    ("eks", "list_clusters", {}, "InvalidSignatureException"),
    ("eks", "describe_cluster_versions", {}, "InvalidSignatureException"),
    ("ec2", "describe_vpcs", {}, "SignatureDoesNotMatch"),
    ("sts", "get_caller_identity", {}, "SignatureDoesNotMatch"),
    ("iam", "list_roles", {}, "SignatureDoesNotMatch"),
    ("autoscaling", "describe_auto_scaling_groups", {}, "SignatureDoesNotMatch"),
    ("service-quotas", "list_service_quotas", {"ServiceCode": "eks"}, "InvalidSignatureException"),
]


def _client(sandbox: Sandbox, service: str, region: str) -> Any:
    env = sandbox.env()
    # botocore's standard retry mode with its default attempts: a retryable answer would show.
    return boto3.session.Session().client(
        service,
        region_name=region,
        endpoint_url=sandbox.aws_url,
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        config=Config(retries={"mode": "standard"}),
    )


@pytest.mark.parametrize(("service", "operation", "params", "code"), CALLS, ids=[f"{c[0]}:{c[1]}" for c in CALLS])
def test_unknown_region_is_refused_like_aws(
    sandbox: Sandbox,
    service: str,
    operation: str,
    params: dict[str, Any],
    code: str,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ClientError) as exc:
        getattr(_client(sandbox, service, "us-east-7"), operation)(**params)
    response = exc.value.response
    assert response["Error"]["Code"] == code
    assert response["Error"]["Message"] == "Credential should be scoped to a valid region, not 'us-east-7'. "
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert response["ResponseMetadata"]["RetryAttempts"] == 0  # not retryable: no half-minute storm
    logged = [r for r in caplog.records if r.exc_info or "Traceback" in r.getMessage()]
    assert logged == []
    assert "Traceback" not in capfd.readouterr().err


def test_a_real_region_other_than_the_default_is_served(sandbox: Sandbox) -> None:
    # The check is on existence, not on the sandbox's default region.
    assert _client(sandbox, "eks", "eu-west-1").list_clusters()["clusters"] == []
    assert _client(sandbox, "sts", "ap-southeast-2").get_caller_identity()["Account"]


@pytest.mark.parametrize(
    ("service", "call", "code", "status"),
    [
        # Flask's "404 Not Found" page for a route moto lacks (the EKS Pod Identity API).
        ("eks", lambda c: c.list_pod_identity_associations(clusterName="any"), "UnknownOperationException", 404),
        # moto's NotImplementedError for an operation it routes but does not serve.
        ("ssm", lambda c: c.list_nodes(), "UnknownOperationException", 400),
    ],
    ids=["eks-route-moto-lacks", "ssm-operation-moto-lacks"],
)
def test_what_moto_cannot_serve_is_an_aws_error_not_html(
    sandbox: Sandbox, service: str, call: Callable[[Any], Any], code: str, status: int
) -> None:
    with pytest.raises(ClientError) as exc:
        call(_client(sandbox, service, "us-east-1"))
    response = exc.value.response
    assert response["Error"]["Code"] == code
    assert "<html" not in str(response).lower()
    assert response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert response["ResponseMetadata"]["RetryAttempts"] == 0
