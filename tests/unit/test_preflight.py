"""Preflight against real HTTP endpoints: moto's server for EC2/EKS, and tiny local servers for
DescribeClusterVersions (which moto 5.2.5 does not implement) and for Service Quotas refusing
to answer (moto's plain server serves no EKS quotas; the sandbox's do, see tests/integration)."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import boto3
import pytest
from moto.server import ThreadedMotoServer

from assistant.planning import preflight as preflight_module
from assistant.planning.preflight import preflight, preflight_report
from assistant.spec import LoadedSpec, loads_spec

REGION = "us-east-1"
HEAD = "apiVersion: eks-assist/v1\nkind: Cluster\nmetadata: {name: demo, region: us-east-1}\n"


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()
    # stop() only shuts the loop down; close the listening socket too (no ResourceWarning).
    if server._server is not None:
        server._server.server_close()


def _client(service: str, url: str) -> Any:
    return boto3.client(
        service,
        region_name=REGION,
        endpoint_url=url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


class Calls:
    """A client factory that records every operation made, to prove preflight only reads."""

    def __init__(self, urls: dict[str, str]) -> None:
        self.urls = urls
        self.services: list[str] = []
        self.operations: list[str] = []

    def __call__(self, service: str) -> Any:
        self.services.append(service)
        client = _client(service, self.urls[service])
        client.meta.events.register("before-call", self._record)
        return client

    def _record(self, model: Any, **_: Any) -> None:
        self.operations.append(model.name)


class _QuotasRefused(BaseHTTPRequestHandler):
    """Service Quotas (JSON 1.1) that answers every call with one error, as a denying policy or an old endpoint does."""

    code = "AccessDeniedException"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        data = json.dumps({"__type": self.code, "message": "User is not authorized to perform servicequotas:ListServiceQuotas"})
        self.send_response(400)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data.encode())

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        pass


def _serve(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """A local HTTP server with ``handler`` for the duration of a fixture; yields its URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture(scope="module")
def quotas_url() -> Iterator[str]:
    yield from _serve(_QuotasRefused)


@pytest.fixture
def calls(moto_url: str, quotas_url: str) -> Calls:
    return Calls({"ec2": moto_url, "eks": moto_url, "service-quotas": quotas_url})


@pytest.fixture
def ec2(moto_url: str) -> Any:
    return _client("ec2", moto_url)


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    preflight_module.clear_cache()
    yield
    preflight_module.clear_cache()


def _vpc(ec2: Any, cidr: str, subnets: list[tuple[str, str]]) -> tuple[str, list[str]]:
    vpc_id = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    ids = [
        ec2.create_subnet(VpcId=vpc_id, CidrBlock=block, AvailabilityZone=zone)["Subnet"]["SubnetId"] for block, zone in subnets
    ]
    return vpc_id, ids


def _spec(text: str) -> LoadedSpec:
    return loads_spec(HEAD + text, "spec.yaml")


def _messages(loaded: LoadedSpec, factory: Callable[[str], Any]) -> list[str]:
    return [str(p) for p in preflight(loaded, factory)]


def _assert_read_only(calls: Calls) -> None:
    assert calls.operations, "expected some AWS calls"
    for name in calls.operations:
        assert name.startswith(("Describe", "List", "Get")), name


# --------------------------------------------------------------------------- against moto


def test_subnets_all_in_one_az(ec2: Any, calls: Calls) -> None:
    _, (a, b) = _vpc(ec2, "10.10.0.0/16", [("10.10.0.0/24", "us-east-1a"), ("10.10.1.0/24", "us-east-1a")])
    loaded = _spec(f"masters:\n  vpc:\n    existing:\n      subnetIds:\n        - {a}\n        - {b}\n")
    assert _messages(loaded, calls) == [
        "spec.yaml:8:9: masters.vpc.existing.subnetIds: all subnets are in one Availability Zone "
        "(us-east-1a); EKS needs subnets in at least two Availability Zones"
    ]
    _assert_read_only(calls)


def test_unknown_instance_type_with_did_you_mean(calls: Calls) -> None:
    loaded = _spec("workers:\n  - name: general\n    instanceTypes: [m5.large, m5.lage]\n")
    assert _messages(loaded, calls) == [
        "spec.yaml:6:31: workers[0].instanceTypes[1]: unknown instance type 'm5.lage' in us-east-1; did you mean 'm5.large'?"
    ]
    _assert_read_only(calls)
    # The region's listing is cached: a second spec with a typo lists nothing again.
    before = calls.operations.count("DescribeInstanceTypeOfferings")
    again = _spec("workers:\n  - name: general\n    instanceTypes: [t3.mediun]\n")
    assert _messages(again, calls) == [
        "spec.yaml:6:21: workers[0].instanceTypes[0]: unknown instance type 't3.mediun' in us-east-1; did you mean 't3.medium'?"
    ]
    assert calls.operations.count("DescribeInstanceTypeOfferings") == before


def test_missing_security_group(ec2: Any, calls: Calls) -> None:
    _, (a, b) = _vpc(ec2, "10.11.0.0/16", [("10.11.0.0/24", "us-east-1a"), ("10.11.1.0/24", "us-east-1b")])
    loaded = _spec(
        f"masters:\n  vpc:\n    existing:\n      subnetIds: [{a}, {b}]\n      securityGroupIds: [sg-0123456789abcdef0]\n"
    )
    assert _messages(loaded, calls) == [
        "spec.yaml:8:26: masters.vpc.existing.securityGroupIds[0]: "
        "security group 'sg-0123456789abcdef0' does not exist in us-east-1"
    ]


def test_subnets_and_groups_that_do_not_belong(ec2: Any, calls: Calls) -> None:
    vpc_id, (a, b) = _vpc(ec2, "10.12.0.0/16", [("10.12.0.0/24", "us-east-1a"), ("10.12.1.0/24", "us-east-1b")])
    other_vpc, (elsewhere,) = _vpc(ec2, "10.13.0.0/16", [("10.13.0.0/24", "us-east-1c")])
    foreign_sg = ec2.create_security_group(GroupName="foreign", Description="x", VpcId=other_vpc)["GroupId"]
    loaded = _spec(
        "masters:\n"
        "  vpc:\n"
        "    existing:\n"
        "      subnetIds:\n"
        f"        - {a}\n"
        "        - subnet-0123456789abcdef0\n"
        f"      securityGroupIds: [{foreign_sg}]\n"
        "workers:\n"
        "  - name: general\n"
        "    instanceTypes: [m5.large]\n"
        f"    subnetIds: [{b}, {elsewhere}]\n"
    )
    assert _messages(loaded, calls) == [
        "spec.yaml:9:11: masters.vpc.existing.subnetIds[1]: subnet 'subnet-0123456789abcdef0' does not exist in us-east-1",
        f"spec.yaml:10:26: masters.vpc.existing.securityGroupIds[0]: security group '{foreign_sg}' is in "
        f"{other_vpc}, not in the cluster's VPC {vpc_id}",
        f"spec.yaml:14:43: workers[0].subnetIds[1]: subnet '{elsewhere}' is in {other_vpc}, not in the cluster's VPC {vpc_id}",
    ]
    _assert_read_only(calls)


def test_cluster_subnets_in_two_vpcs(ec2: Any, calls: Calls) -> None:
    vpc_a, (a,) = _vpc(ec2, "10.14.0.0/16", [("10.14.0.0/24", "us-east-1a")])
    vpc_b, (b,) = _vpc(ec2, "10.15.0.0/16", [("10.15.0.0/24", "us-east-1b")])
    loaded = _spec(f"masters:\n  vpc:\n    existing:\n      subnetIds: [{a}, {b}]\n")
    assert _messages(loaded, calls) == [
        f"spec.yaml:7:18: masters.vpc.existing.subnetIds: the subnets are in different VPCs ({a} in {vpc_a}, "
        f"{b} in {vpc_b}); EKS needs them all in one VPC"
    ]


def test_service_cidr_overlapping_the_existing_vpc(ec2: Any, calls: Calls) -> None:
    vpc_id, (a, b) = _vpc(ec2, "10.16.0.0/16", [("10.16.0.0/24", "us-east-1a"), ("10.16.1.0/24", "us-east-1b")])
    loaded = _spec(f"masters:\n  vpc: {{existing: {{subnetIds: [{a}, {b}]}}}}\n  serviceCidr: 10.16.128.0/20\n")
    assert _messages(loaded, calls) == [
        f"spec.yaml:6:16: masters.serviceCidr: service CIDR 10.16.128.0/20 overlaps the CIDR 10.16.0.0/16 of {vpc_id}"
    ]


def test_instance_architecture_must_match_the_ami_type(calls: Calls) -> None:
    loaded = _spec(
        "workers:\n"
        "  - name: graviton\n"
        "    instanceTypes: [t4g.medium]\n"
        "  - name: intel\n"
        "    instanceTypes: [m5.large]\n"
        "    amiType: BOTTLEROCKET_ARM_64\n"
    )
    assert _messages(loaded, calls) == [
        "spec.yaml:6:21: workers[0].instanceTypes[0]: instance type 't4g.medium' runs arm64, but amiType "
        "AL2023_x86_64_STANDARD is for x86_64; use amiType AL2023_ARM_64_STANDARD",
        "spec.yaml:8:21: workers[1].instanceTypes[0]: instance type 'm5.large' runs x86_64, but amiType "
        "BOTTLEROCKET_ARM_64 is for arm64; use amiType BOTTLEROCKET_x86_64",
    ]


def test_good_existing_vpc_passes_and_version_check_is_skipped_on_moto(
    ec2: Any, calls: Calls, caplog: pytest.LogCaptureFixture
) -> None:
    vpc_id, (a, b) = _vpc(ec2, "10.17.0.0/16", [("10.17.0.0/24", "us-east-1a"), ("10.17.1.0/24", "us-east-1b")])
    sg = ec2.create_security_group(GroupName="cluster", Description="x", VpcId=vpc_id)["GroupId"]
    loaded = _spec(
        "masters:\n"
        '  version: "1.33"\n'
        f"  vpc: {{existing: {{subnetIds: [{a}, {b}], securityGroupIds: [{sg}]}}}}\n"
        "  serviceCidr: 172.20.0.0/16\n"
        "workers:\n"
        f"  - {{name: arm, instanceTypes: [m6g.large], amiType: AL2023_ARM_64_STANDARD, subnetIds: [{a}]}}\n"
        "  - {name: spot, instanceTypes: [t3.medium, t3a.medium], capacityType: SPOT}\n"
    )
    with caplog.at_level(logging.INFO, logger="assistant.planning.preflight"):
        assert _messages(loaded, calls) == []
    # moto answers DescribeClusterVersions with 404: preflight says it cannot check, and moves on.
    assert "DescribeClusterVersions" in calls.operations
    assert "cannot check the Kubernetes version" in caplog.text
    _assert_read_only(calls)


def test_new_vpc_without_workers_needs_no_ec2(calls: Calls) -> None:
    assert _messages(_spec(""), calls) == []
    assert sorted(calls.services) == ["eks", "service-quotas"]


# --------------------------------------------------------------------------- quotas


@pytest.mark.parametrize(
    ("code", "source"),
    [
        ("AccessDeniedException", "documented default (Service Quotas answered AccessDeniedException)"),
        ("UnknownOperationException", "documented default (this endpoint does not serve Service Quotas)"),
    ],
)
def test_quotas_fall_back_to_the_documented_defaults(calls: Calls, code: str, source: str) -> None:
    _QuotasRefused.code = code
    workers = "".join(f"  - {{name: ng{i}, instanceTypes: [t3.medium]}}\n" for i in range(31))
    problems, lines = preflight_report(_spec("workers:\n" + workers), calls)
    assert [str(p) for p in problems] == [
        "spec.yaml:35:5: workers[30]: cluster demo would have 31 managed node groups (none in the cluster yet, and the "
        f"spec's), over the EKS quota 'Managed node groups per cluster' (L-6D54EA21) of 30 ({source}); request an "
        "increase in the Service Quotas console or with `aws service-quotas request-service-quota-increase --service-code "
        "eks --quota-code L-6D54EA21 --desired-value 31 --region us-east-1`, or use fewer, larger node groups"
    ]
    assert f"quota Nodes per managed node group (L-BD136A63): 2 of 450 (the largest max size; {source})" in lines
    assert (
        "quota Public endpoint access CIDR ranges per cluster (L-93A74D60): 1 of 40 (the spec's publicCidrs; fixed by EKS, not adjustable)"
        in lines
    )
    _assert_read_only(calls)


# --------------------------------------------------------------------------- DescribeClusterVersions


class _EksVersions(BaseHTTPRequestHandler):
    """Answers GET /cluster-versions (rest-json) in two pages, like EKS; records the queries."""

    pages: dict[str | None, dict[str, Any]] = {
        None: {
            "clusterVersions": [
                {
                    "clusterVersion": "1.33",
                    "clusterType": "eks",
                    "versionStatus": "STANDARD_SUPPORT",
                    "status": "standard-support",
                },
                {"clusterVersion": "1.24", "clusterType": "eks", "versionStatus": "UNSUPPORTED", "status": "unsupported"},
            ],
            "nextToken": "page-2",
        },
        "page-2": {
            "clusterVersions": [
                {
                    "clusterVersion": "1.31",
                    "clusterType": "eks",
                    "versionStatus": "EXTENDED_SUPPORT",
                    "status": "extended-support",
                },
                {
                    "clusterVersion": "1.32",
                    "clusterType": "eks",
                    "versionStatus": "STANDARD_SUPPORT",
                    "status": "standard-support",
                },
            ],
        },
    }
    status = 200
    seen: list[str] = []

    def do_GET(self) -> None:
        url = urlparse(self.path)
        type(self).seen.append(self.path)
        if url.path != "/cluster-versions":
            self._send(404, {"message": "not found"}, "ResourceNotFoundException")
        elif self.status != 200:
            self._send(
                self.status, {"message": "User is not authorized to perform eks:DescribeClusterVersions"}, "AccessDeniedException"
            )
        else:
            token = parse_qs(url.query).get("nextToken", [None])[0]
            self._send(200, self.pages[token])

    def _send(self, status: int, body: dict[str, Any], error_type: str | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if error_type:
            self.send_header("x-amzn-ErrorType", error_type)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        pass


@pytest.fixture
def versions_url() -> Iterator[str]:
    _EksVersions.seen = []
    _EksVersions.status = 200
    yield from _serve(_EksVersions)


def test_version_not_offered_lists_the_offered_ones(moto_url: str, versions_url: str, quotas_url: str) -> None:
    calls = Calls({"ec2": moto_url, "eks": versions_url, "service-quotas": quotas_url})
    loaded = _spec('masters:\n  version: "1.29"\n')
    assert _messages(loaded, calls) == [
        "spec.yaml:5:12: masters.version: Kubernetes version '1.29' is not offered by EKS in us-east-1; offered: 1.31, 1.32, 1.33"
    ]
    # Both pages were read, over real HTTP (the quota checks' cluster lookups come after).
    pages = [p for p in _EksVersions.seen if urlparse(p).path == "/cluster-versions"]
    assert len(pages) == 2 and "nextToken=page-2" in pages[1]
    _assert_read_only(calls)


def test_unsupported_version_counts_as_not_offered(moto_url: str, versions_url: str, quotas_url: str) -> None:
    calls = Calls({"ec2": moto_url, "eks": versions_url, "service-quotas": quotas_url})
    loaded = _spec('masters: {version: "1.24"}\n')
    assert _messages(loaded, calls) == [
        "spec.yaml:4:20: masters.version: Kubernetes version '1.24' is not offered by EKS in us-east-1; offered: 1.31, 1.32, 1.33"
    ]


def test_offered_version_passes(moto_url: str, versions_url: str, quotas_url: str) -> None:
    calls = Calls({"ec2": moto_url, "eks": versions_url, "service-quotas": quotas_url})
    assert _messages(_spec('masters: {version: "1.32"}\n'), calls) == []


def test_version_check_denied_is_reported(moto_url: str, versions_url: str, quotas_url: str) -> None:
    _EksVersions.status = 403
    calls = Calls({"ec2": moto_url, "eks": versions_url, "service-quotas": quotas_url})
    assert _messages(_spec('masters: {version: "1.32"}\n'), calls) == [
        "spec.yaml:4:20: masters.version: could not check the Kubernetes version: AccessDeniedException: "
        "User is not authorized to perform eks:DescribeClusterVersions"
    ]
