"""The ``after_call`` hook: it hears of every AWS call once the sandbox has carried it out, before the answer leaves.

The crash drill kills its client from this hook, so what it must guarantee is tested here over
HTTP: the change is already in the sandbox when the hook runs, the client is still waiting for
its answer, and each protocol's operation name, status and mutating flag come through.
"""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from assistant.sandbox import FaultConfig, Sandbox
from assistant.sandbox.faults import AwsCall

from .helpers import TRUST_EC2, Network, create_cluster, unique

NO_RETRIES = {"retries": {"mode": "standard", "max_attempts": 1}}


def test_every_protocol_names_its_operation(aws: Callable[..., Any], sandbox: Sandbox, network: Network) -> None:
    calls: list[AwsCall] = []
    sandbox.set_faults(FaultConfig(after_call=calls.append))
    role = unique("observed")
    aws("iam").create_role(RoleName=role, AssumeRolePolicyDocument=TRUST_EC2)
    aws("ec2").describe_vpcs()
    aws("ec2").create_tags(Resources=[network.vpc_id], Tags=[{"Key": "observed", "Value": "yes"}])
    aws("sts").get_caller_identity()
    cluster = unique("observed")
    create_cluster(aws("eks"), network, cluster)
    aws("eks").describe_cluster(name=cluster)
    with pytest.raises(ClientError):
        aws("iam", **NO_RETRIES).create_role(RoleName=role, AssumeRolePolicyDocument=TRUST_EC2)

    seen = [(c.service, c.operation, c.mutating, c.applied) for c in calls]
    assert seen == [
        ("iam", "CreateRole", True, True),
        ("ec2", "DescribeVpcs", False, False),
        ("ec2", "CreateTags", True, True),
        ("sts", "GetCallerIdentity", False, False),
        ("eks", "CreateCluster", True, True),
        ("eks", "DescribeCluster", False, False),
        ("iam", "CreateRole", True, False),  # EntityAlreadyExists: nothing was applied
    ]
    assert calls[-1].status == 409 and all(c.status == 200 for c in calls[:-1])


def test_the_hook_runs_after_the_change_and_before_the_answer(aws: Callable[..., Any], sandbox: Sandbox) -> None:
    entered, release = threading.Event(), threading.Event()

    def hold(call: AwsCall) -> None:
        if call.operation == "CreateRole":
            entered.set()
            assert release.wait(20), "the test never released the answer"

    sandbox.set_faults(FaultConfig(after_call=hold))
    role = unique("held")
    answer: dict[str, Any] = {}
    creating = threading.Thread(
        target=lambda: answer.update(aws("iam").create_role(RoleName=role, AssumeRolePolicyDocument=TRUST_EC2))
    )
    creating.start()
    try:
        assert entered.wait(20), "the hook never ran"
        # The role exists (another request sees it) while its creator still has no answer.
        assert aws("iam").get_role(RoleName=role)["Role"]["RoleName"] == role
        assert creating.is_alive() and not answer
    finally:
        release.set()
        creating.join(20)
    assert answer["Role"]["RoleName"] == role


def test_the_hook_is_in_process_only(aws: Callable[..., Any], sandbox: Sandbox) -> None:
    calls: list[AwsCall] = []
    config = FaultConfig(after_call=calls.append)
    assert config.to_dict() == FaultConfig().to_dict() and "after_call" not in config.to_dict()
    with pytest.raises(ValueError, match="unknown fault setting"):
        FaultConfig.from_dict({"after_call": "print"})
    with pytest.raises(ValueError, match="callable"):
        FaultConfig(after_call="print")  # type: ignore[arg-type]

    sandbox.set_faults(config)
    aws("sts").get_caller_identity()
    assert len(calls) == 1
    # A configuration posted to the control endpoint replaces the hook: it cannot carry one.
    request = urllib.request.Request(f"{sandbox.aws_url}/_sandbox/faults", data=json.dumps({}).encode(), method="POST")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: no proxy
    with opener.open(request, timeout=10) as response:
        assert "after_call" not in json.loads(response.read())["config"]
    aws("sts").get_caller_identity()
    assert len(calls) == 1
