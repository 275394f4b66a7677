"""``eks-assist sandbox`` in the foreground: flags, the state file, and a clean stop on SIGTERM."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from assistant.sandbox import command, statefile

from .helpers import TRUST_EKS, wait_for

REPO = Path(__file__).resolve().parents[2]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="eks-assist sandbox")
    command.add_arguments(parser)
    return parser


def test_defaults() -> None:
    args = _parser().parse_args([])
    assert (args.host, args.port, args.k8s_port, args.latency, args.time_scale) == ("127.0.0.1", 4599, 4600, "fast", 1.0)
    assert (args.fault_throttle, args.fault_5xx, args.fault_latency_ms, args.fault_seed) == (0.0, 0.0, 0, None)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--fault-throttle", "1.5"], "must be between 0 and 1"),
        (["--fault-5xx", "lots"], "expected a number between 0 and 1"),
        (["--time-scale", "0"], "must be greater than 0"),
        (["--latency", "glacial"], "invalid choice"),
        (["--port", "70000"], "must be a port number"),
    ],
)
def test_bad_flags_exit_2(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        _parser().parse_args(argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_rates_that_add_up_to_more_than_one_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    args = _parser().parse_args(["--fault-throttle", "0.6", "--fault-5xx", "0.6"])
    assert command.run(args) == 2
    assert "must not exceed 1" in capsys.readouterr().err


def test_find_running_ignores_a_dead_endpoint(isolated_env: Path) -> None:
    info = statefile.SandboxInfo(
        aws_url="http://127.0.0.1:9", k8s_url="https://127.0.0.1:9", pid=os.getpid(), region="us-east-1",
        access_key_id="x", secret_access_key="y", ca_path=str(isolated_env / "ca.pem"),
    )  # fmt: skip
    statefile.write(info)
    assert statefile.read() == info
    assert statefile.find_running(timeout=0.5) is None


def test_runs_in_the_foreground_and_cleans_up(isolated_env: Path) -> None:
    assert statefile.state_path() == isolated_env / "sandbox.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant.sandbox", "--port", "0", "--k8s-port", "0", "--latency", "none"],
        cwd=REPO,
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:

        def started() -> statefile.SandboxInfo | None:
            assert proc.poll() is None, f"the sandbox exited early: {proc.communicate()}"
            return statefile.find_running()

        info = wait_for(started, timeout=30, what="the sandbox state file")
        assert info.pid == proc.pid
        assert (os.stat(statefile.state_path()).st_mode & 0o777) == 0o600
        assert Path(info.ca_path).read_text().startswith("-----BEGIN CERTIFICATE-----")

        # Under the "none" profile a create is ACTIVE at once; a delete is gone on the next read.
        session = boto3.session.Session(
            aws_access_key_id=info.access_key_id, aws_secret_access_key=info.secret_access_key, region_name=info.region
        )
        iam, ec2, eks = (session.client(s, endpoint_url=info.aws_url) for s in ("iam", "ec2", "eks"))
        role = iam.create_role(RoleName="cli-cluster", AssumeRolePolicyDocument=TRUST_EKS)["Role"]["Arn"]
        vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
        subnets = [
            ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.9.{i}.0/24", AvailabilityZone=f"us-east-1{z}")["Subnet"]["SubnetId"]
            for i, z in enumerate("ab")
        ]
        cluster = eks.create_cluster(name="cli", roleArn=role, resourcesVpcConfig={"subnetIds": subnets})["cluster"]
        assert cluster["status"] == "ACTIVE" and cluster["endpoint"].startswith(info.k8s_url)
        assert eks.delete_cluster(name="cli")["cluster"]["status"] == "DELETING"
        with pytest.raises(eks.exceptions.ResourceNotFoundException):
            eks.describe_cluster(name="cli")
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert f"export AWS_ENDPOINT_URL={info.aws_url}" in out
    assert "export AWS_DEFAULT_REGION=us-east-1" in out
    assert info.k8s_url in out
    assert not statefile.state_path().exists()
    assert not Path(info.ca_path).exists()
    assert statefile.find_running() is None
    assert json.dumps(info.env())  # plain strings, ready for a subprocess environment
