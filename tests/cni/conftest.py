"""Fixtures for the CNI tests: moto's instance-type data in-process, and the shared sandbox/cli."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from ..cli.conftest import cli  # noqa: F401 - re-exported fixture
from ..integration.conftest import sandbox  # noqa: F401 - re-exported fixture


@pytest.fixture(scope="module")
def ec2_client() -> Iterator[Callable[[str], Any]]:
    """A ``client(service)`` backed by moto in-process: AWS's real DescribeInstanceTypes data, no network."""
    import boto3
    from moto import mock_aws

    with mock_aws():
        clients: dict[str, Any] = {}

        def client(service: str) -> Any:
            if service not in clients:
                clients[service] = boto3.client(
                    service, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
                )
            return clients[service]

        yield client
