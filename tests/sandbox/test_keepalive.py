"""boto3 keeps its connections to the sandbox: one TCP connection for a run of calls, not one per call.

werkzeug's development server, which served the AWS port before, answered every request with
``Connection: close``: planning a large spec opened 2,191 connections for 2,191 calls. Each test
here counts the connections urllib3 opens under botocore, new ones and reopened dropped ones alike.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from assistant.sandbox import FaultConfig, Sandbox
from assistant.sandbox.faults import AwsCall
from assistant.sandbox.http_server import THREADS

from ..conftest import REPO
from .helpers import unique

CALLS = 20


class Connections(logging.Handler):
    """Counts the TCP connections urllib3 opens: "Starting new ..." and "Resetting dropped connection"."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.opened = 0
        self._lock = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith(("Starting new HTTP", "Resetting dropped connection")):
            with self._lock:
                self.opened += 1


@pytest.fixture
def connections() -> Iterator[Connections]:
    logger = logging.getLogger("urllib3.connectionpool")
    handler, level = Connections(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def _expect_error(code: str, call: Callable[[], Any]) -> None:
    with pytest.raises(ClientError) as exc:
        call()
    assert exc.value.response["Error"]["Code"] == code


# Per protocol: a read that succeeds, and one the sandbox refuses as AWS would (the error
# answers must keep the connection as well as the successes).
SEQUENCES: dict[str, Callable[[Any], None]] = {
    "eks": lambda eks: (
        eks.list_clusters(maxResults=5),
        eks.describe_cluster_versions(),
        _expect_error("ResourceNotFoundException", lambda: eks.list_nodegroups(clusterName=unique("missing"), maxResults=3)),
    ),
    "ec2": lambda ec2: (
        ec2.describe_vpcs(),
        _expect_error("InvalidVpcID.NotFound", lambda: ec2.describe_vpcs(VpcIds=["vpc-0123456789abcdef0"])),
    ),
    "iam": lambda iam: (iam.list_roles(), _expect_error("NoSuchEntity", lambda: iam.get_role(RoleName=unique("missing")))),
    "sts": lambda sts: (sts.get_caller_identity(),),
    "service-quotas": lambda sq: (sq.list_service_quotas(ServiceCode="eks"),),
}


@pytest.mark.parametrize("service", list(SEQUENCES))
def test_sequential_calls_use_one_connection(service: str, aws: Callable[..., Any], connections: Connections) -> None:
    client = aws(service)
    calls = 0
    while calls < CALLS:
        calls += len(SEQUENCES[service](client))  # type: ignore[arg-type]
    assert connections.opened == 1, f"{calls} {service} calls opened {connections.opened} connections"


def test_an_operation_the_sandbox_lacks_keeps_the_connection(aws: Callable[..., Any], connections: Connections) -> None:
    eks = aws("eks", retries={"mode": "standard", "total_max_attempts": 1})
    for _ in range(CALLS // 2):
        # EKS Pod Identity: moto has no route for it, and the guard answers as AWS would.
        with pytest.raises(ClientError):
            eks.list_pod_identity_associations(clusterName=unique("missing"))
        eks.list_clusters()
    assert connections.opened == 1


def test_injected_faults_keep_the_connection(sandbox: Sandbox, aws: Callable[..., Any], connections: Connections) -> None:
    sandbox.set_faults(FaultConfig(throttle=0.3, error5xx=0.2, seed=20261206))
    # No retries, so no backoff sleeps: each fault comes back as an error, and the next call,
    # like a retry, goes over the same connection.
    ec2 = aws("ec2", retries={"mode": "standard", "total_max_attempts": 1})
    codes = []
    for _ in range(CALLS):
        try:
            ec2.describe_vpcs()
            codes.append("ok")
        except ClientError as exc:
            codes.append(exc.response["Error"]["Code"])
    assert {"ok", "RequestLimitExceeded", "ServiceUnavailable"} <= set(codes), codes
    assert connections.opened == 1


def test_as_many_calls_as_the_server_has_threads_are_served_at_once(
    sandbox: Sandbox, aws: Callable[..., Any], connections: Connections
) -> None:
    # Each call waits inside the sandbox until all of them are inside: were the server's pool
    # smaller, the calls past it would wait for a thread and the barrier would break.
    barrier = threading.Barrier(THREADS, timeout=30)
    broken: list[AwsCall] = []

    def everyone_inside(call: AwsCall) -> None:
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            broken.append(call)

    sts = aws("sts", max_pool_connections=THREADS, retries={"mode": "standard", "total_max_attempts": 1})
    sts.get_caller_identity()  # load the model once, before the threads race
    opened_before = connections.opened
    sandbox.set_faults(FaultConfig(after_call=everyone_inside))
    answered: list[str] = []

    def call() -> None:
        answered.append(sts.get_caller_identity()["Account"])

    def round_of_calls() -> None:
        threads = [threading.Thread(target=call) for _ in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)

    round_of_calls()
    assert broken == [], f"{len(broken)} of {THREADS} calls never saw all the others inside the sandbox"
    # A second round goes over the connections the first one opened.
    round_of_calls()
    assert broken == [] and len(answered) == 2 * THREADS
    assert connections.opened - opened_before <= THREADS


# Run in a process of its own: a second sandbox cannot start beside this package's, and what
# reaches stderr there is what a user of `eks-assist sandbox` would see (no test logging setup).
LIFECYCLE = """
import http.client, socket, threading
import boto3
from botocore.config import Config
from assistant.errors import SandboxError
from assistant.sandbox import FaultConfig, Sandbox
from assistant.sandbox.http_server import THREADS

def clients(sb, pool):
    env = sb.env()
    session = boto3.session.Session(env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], region_name="us-east-1")
    config = Config(max_pool_connections=pool, retries={"mode": "standard", "total_max_attempts": 1})
    return session.client("sts", endpoint_url=sb.aws_url, config=config), session.client("eks", endpoint_url=sb.aws_url, config=config)

with Sandbox() as sb:
    port = sb._servers()[0].server_port
    sts, eks = clients(sb, THREADS + 16)
    sts.get_caller_identity()
    # A burst past the server's threads, each call sleeping inside it: the rest wait in its queue.
    sb.set_faults(FaultConfig(latency_ms=300))
    burst = [threading.Thread(target=sts.get_caller_identity) for _ in range(THREADS + 16)]
    for t in burst:
        t.start()
    for t in burst:
        t.join()
    sb.set_faults(FaultConfig())
    # What AWS would answer, never HTML: a route moto lacks, HEAD, an unsigned request.
    try:
        eks.list_pod_identity_associations(clusterName="none")
    except eks.exceptions.ClientError as exc:
        assert exc.response["ResponseMetadata"]["HTTPStatusCode"] == 404, exc.response
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for method in ("HEAD", "GET", "HEAD"):
        conn.request(method, "/no/such/route")
        answer = conn.getresponse()
        body = answer.read()
        assert "html" not in (answer.getheader("Content-Type") or ""), answer.getheaders()
        assert (body == b"") == (method == "HEAD"), (method, body)
    conn.close()
    sb.stop()
    sb.stop()
# The port is free at once, and a client that kept a connection to the old sandbox reaches the new one.
with Sandbox(port=port) as again:
    assert again.aws_url.endswith(f":{port}")
    assert sts.get_caller_identity()["Account"]
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        again.stop()
        try:
            Sandbox(port=taken).start()
        except SandboxError as exc:
            print(exc)
"""


def test_a_sandbox_serves_stops_and_restarts_without_a_word_on_stderr() -> None:
    done = subprocess.run([sys.executable, "-c", LIFECYCLE], cwd=REPO, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout.strip().endswith("is in use (Address already in use); pass another port, or 0 for any")
