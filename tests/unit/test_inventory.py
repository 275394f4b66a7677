"""assistant.inventory without AWS: the version fallback and the catalogue cache's expiry."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import botocore.exceptions
import pytest

from assistant import inventory
from assistant.inventory import FALLBACK_VERSIONS, InstanceTypeInfo, kubernetes_versions


class _NoVersionsEks:
    def describe_cluster_versions(self, **_: Any) -> Any:
        raise botocore.exceptions.ClientError({"Error": {"Code": "404", "Message": "Not Found"}}, "DescribeClusterVersions")


class _Aws:
    """Just enough of AwsContext for the code under test."""

    region = "eu-west-1"

    def __init__(self, clients: dict[str, Any]) -> None:
        self.clients = clients

    def client(self, service: str) -> Any:
        return self.clients[service]

    def identity(self) -> tuple[str, str]:
        return "111122223333", "arn:aws:iam::111122223333:user/me"


def test_versions_fall_back_to_the_documented_list() -> None:
    versions, source = kubernetes_versions(_Aws({"eks": _NoVersionsEks()}))
    assert source == "fallback"
    assert tuple(v.version for v in versions) == FALLBACK_VERSIONS
    assert [v.version for v in versions if v.default] == ["1.33"]


class _Ec2:
    def __init__(self) -> None:
        self.calls = 0

    def get_paginator(self, name: str) -> Any:
        assert name == "describe_instance_types"
        self.calls += 1
        it = {
            "InstanceType": "m5.large",
            "VCpuInfo": {"DefaultVCpus": 2},
            "MemoryInfo": {"SizeInMiB": 8192},
            "Hypervisor": "nitro",
            "ProcessorInfo": {"SupportedArchitectures": ["x86_64"]},
            "NetworkInfo": {"MaximumNetworkInterfaces": 3, "Ipv4AddressesPerInterface": 10},
        }
        return type("P", (), {"paginate": lambda self: [{"InstanceTypes": [it]}]})()


def test_catalogue_is_cached_until_it_expires(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    ec2 = _Ec2()
    aws = _Aws({"ec2": ec2})
    now = [1000.0]
    first = inventory.instance_types(aws, clock=lambda: now[0])
    assert first == [InstanceTypeInfo("m5.large", 2, 8192, 29, 110, ("x86_64",), True, False)]
    now[0] += inventory.CATALOGUE_TTL - 1
    assert inventory.instance_types(aws, clock=lambda: now[0]) == first and ec2.calls == 1
    now[0] += 2
    inventory.instance_types(aws, clock=lambda: now[0])
    assert ec2.calls == 2
    [cache] = (tmp_path / "eks-assist").iterdir()
    assert cache.name == "instance-types-aws-111122223333-eu-west-1.json"
    assert json.loads(cache.read_text())["format"] == inventory.CATALOGUE_FORMAT
