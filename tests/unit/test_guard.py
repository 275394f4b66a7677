"""The mutation guard refuses every non-read-only AWS call outside an approved apply."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from assistant.clients.aws import AwsContext
from assistant.errors import GuardViolation
from assistant.run.guard import approved_apply, is_read_only


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    srv = ThreadedMotoServer(port=0, verbose=False)
    srv.start()
    host, port = srv.get_host_and_port()
    yield f"http://{host}:{port}"
    srv.stop()


@pytest.fixture
def aws(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> AwsContext:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAGUARDTEST0000000")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "guard-test-secret")
    return AwsContext(region="us-east-1")


@pytest.mark.parametrize(
    ("service", "op", "ro"),
    [
        ("ec2", "DescribeVpcs", True),
        ("eks", "ListClusters", True),
        ("iam", "GetRole", True),
        ("sts", "GetCallerIdentity", True),
        ("sts", "AssumeRole", True),
        ("ec2", "CreateVpc", False),
        ("eks", "UpdateClusterConfig", False),
        ("iam", "AttachRolePolicy", False),
        ("eks", "TagResource", False),
        ("ec2", "ModifyVpcAttribute", False),
        ("ec2", "DeleteVpc", False),
    ],
)
def test_read_only_classification(service: str, op: str, ro: bool) -> None:
    assert is_read_only(service, op) is ro


def test_mutation_outside_apply_is_refused_before_sending(aws: AwsContext) -> None:
    ec2 = aws.client("ec2")
    before = len(ec2.describe_vpcs()["Vpcs"])
    with pytest.raises(GuardViolation) as exc:
        ec2.create_vpc(CidrBlock="10.9.0.0/16")
    assert str(exc.value) == (
        "refused ec2:CreateVpc: mutating AWS calls are only allowed inside an approved apply (plan is read-only)"
    )
    assert exc.value.exit_code == 3
    assert len(ec2.describe_vpcs()["Vpcs"]) == before


def test_mutation_inside_apply_is_allowed_and_recorded(aws: AwsContext) -> None:
    ec2 = aws.client("ec2")
    with approved_apply("ab" * 32, "run-1") as scope:
        vpc = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
        ec2.delete_vpc(VpcId=vpc)
    assert [c["operation"] for c in scope.calls] == ["CreateVpc", "DeleteVpc"]
    assert all(c.get("requestId") for c in scope.calls)


class _Raw:
    """The body of a canned HTTP response, shaped as botocore reads one."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: object) -> Iterator[bytes]:
        yield self.body


def _create_vpc_xml(request_id: str | None) -> bytes:
    rid = f"<requestId>{request_id}</requestId>" if request_id is not None else ""
    return (
        f'<CreateVpcResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">{rid}'
        "<vpc><vpcId>vpc-1</vpcId></vpc></CreateVpcResponse>"
    ).encode()


@pytest.mark.parametrize(
    ("body_id", "headers", "recorded"),
    [
        (None, {}, None),  # nothing says which request this was: none, not a stand-in
        ("", {}, None),
        ("7a62c49f-347e-4fc4-9331-6e8eEXAMPLE", {}, "7a62c49f-347e-4fc4-9331-6e8eEXAMPLE"),  # EC2: from the body
        (None, {"x-amzn-RequestId": "hdr-1"}, "hdr-1"),  # JSON and REST protocols: from the header
        (None, {"x-amz-request-id": "s3-style-2"}, "s3-style-2"),
    ],
)
def test_the_audit_records_the_responses_own_request_id_or_none(
    aws: AwsContext, body_id: str | None, headers: dict[str, str], recorded: str | None
) -> None:
    """Field report 13. The answer is canned at the HTTP layer (botocore's before-send), so parsing is real."""
    from botocore.awsrequest import AWSResponse

    ec2 = aws.session.client("ec2", region_name="us-east-1")
    canned = AWSResponse("https://ec2.us-east-1.amazonaws.com/", 200, headers, _Raw(_create_vpc_xml(body_id)))
    ec2.meta.events.register("before-send.ec2.CreateVpc", lambda **_: canned)
    with approved_apply("ab" * 32, "run-1") as scope:
        ec2.create_vpc(CidrBlock="10.7.0.0/16")
    assert scope.calls == [{"service": "ec2", "operation": "CreateVpc", "requestId": recorded}]


def test_scope_does_not_leak_into_other_threads(aws: AwsContext) -> None:
    ec2 = aws.client("ec2")
    errors: list[BaseException] = []

    def other() -> None:
        try:
            ec2.create_vpc(CidrBlock="10.7.0.0/16")
        except BaseException as exc:
            errors.append(exc)

    with approved_apply("cd" * 32, "run-2"):
        t = threading.Thread(target=other)
        t.start()
        t.join()
    assert len(errors) == 1 and isinstance(errors[0], GuardViolation)


def test_an_apply_gives_back_each_calls_place_whether_it_succeeds_or_fails(
    aws: AwsContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    import botocore.exceptions

    from assistant.run.gates import ServiceGates

    gates = ServiceGates(1)
    with approved_apply("h" * 64, "run-gates", gates):
        aws.client("ec2").describe_vpcs()
        assert gates.in_flight("ec2") == 0 and gates.peak == {"ec2": 1}
        with pytest.raises(botocore.exceptions.ClientError):
            aws.client("ec2").delete_vpc(VpcId="vpc-00000000")
        assert gates.in_flight("ec2") == 0
        # No answer at all (after-call-error): the place comes back too.
        monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        unreachable = AwsContext(region="us-east-1", max_attempts=1)
        with pytest.raises(botocore.exceptions.EndpointConnectionError):
            unreachable.client("eks").list_clusters()
        assert gates.in_flight("eks") == 0
    # Outside an apply nothing is limited or counted.
    aws.client("ec2").describe_vpcs()
    assert gates.peak == {"ec2": 1, "eks": 1}


def test_gates_limit_each_service_on_its_own_and_reuse_a_place_a_thread_still_holds() -> None:
    from assistant.run.gates import ServiceGates

    gates = ServiceGates(1)
    gates.acquire("eks")
    gates.acquire("eks")  # a missed release: reused, not waited for
    gates.acquire("ec2")  # another service has its own place
    assert (gates.in_flight("eks"), gates.in_flight("ec2")) == (1, 1)
    taken = threading.Event()

    def other() -> None:
        with gates.hold("eks"):
            taken.set()

    thread = threading.Thread(target=other)
    thread.start()
    assert not taken.wait(0.2), "a second thread got the only EKS place"
    gates.release_held()  # the step ends: what it holds is given back
    thread.join(10)
    assert taken.is_set() and gates.in_flight("eks") == 0 and gates.in_flight("ec2") == 0
