"""The ``kubeconfig.write`` action and ``playbooks/kubeconfig.yaml``: plan is read-only, apply writes once."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
import yaml

from assistant.clients.aws import AwsContext
from assistant.engine import Engine
from assistant.planning.plan import Op
from assistant.sandbox import Sandbox
from assistant.sandbox.link import SandboxLink
from assistant.spec import load_spec
from assistant.store import open_store

from ..cli.conftest import CliRunner
from ..integration.conftest import DEMO, CallLog, sandbox  # noqa: F401 - re-exported fixture

pytestmark = pytest.mark.slow
ARN = "arn:aws:eks:us-east-1:123456789012:cluster/demo"


def _spec(tmp_path: Path, **kubeconfig: object) -> str:
    text = Path(DEMO).read_text() + "\n" + yaml.safe_dump({"kubeconfig": kubeconfig})
    path = tmp_path / "spec.yaml"
    path.write_text(text)
    return str(path)


def _plan(cli: CliRunner, spec: str) -> dict:
    r = cli("plan", "-f", spec, "--playbook", "kubeconfig", "-o", "json")
    assert r.code == 0, r.err
    return json.loads(r.out)


def test_kubeconfig_playbook_plans_then_writes_once(sandbox: Sandbox, cli: CliRunner, tmp_path: Path) -> None:  # noqa: F811
    # A spec may write its kubeconfig under the home directory (or to a file in $KUBECONFIG).
    config = Path.home() / "kube" / "config"
    spec = _spec(tmp_path, path=str(config), alias="demo")

    # before the cluster exists, its endpoint is known only after apply
    early = _plan(cli, spec)
    assert [c["op"] for c in early["changes"]] == ["create"]

    r = cli("apply", "-f", DEMO, "--approve", json.loads(cli("plan", "-f", DEMO, "-o", "json").out)["hash"], "--poll-max", "0.1")
    assert r.code == 0, r.err

    # As the CLI does: the entry point tells the engine which endpoints are the sandbox's.
    aws = AwsContext(region="us-east-1", sandbox=SandboxLink())
    log = CallLog(aws)
    planning = Engine(aws, open_store()).plan(load_spec(spec), "kubeconfig")
    assert log.mutating == [] and not config.exists()
    (change,) = planning.plan.changes
    assert (change.op, change.resource) == (Op.CREATE, f"kubeconfig context demo in {config}")
    assert change.after is not None and change.after["context"] == "demo" and change.after["current"] is True
    assert change.after["server"].startswith("https://127.0.0.1:")
    assert change.after["exec"].endswith("token --cluster-name demo --region us-east-1 --sandbox")

    r = cli("apply", "-f", spec, "--playbook", "kubeconfig", "--approve", planning.plan.hash, "-o", "json")
    assert r.code == 0, r.err
    assert json.loads(r.out)["outputs"] == {"path": str(config), "context": "demo"}
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    data = yaml.safe_load(config.read_text())
    assert data["current-context"] == "demo" and [u["name"] for u in data["users"]] == [ARN]

    again = _plan(cli, spec)
    assert [c["op"] for c in again["changes"]] == ["no-op"]

    # another alias is an update of our entries, and nothing else in the file
    other = _spec(tmp_path, path=str(config), alias="demo", exec="aws")
    changed = _plan(cli, other)
    assert [c["op"] for c in changed["changes"]] == ["update"]
    assert "exec" in changed["changes"][0]["reason"]


def test_write_false_skips_the_step(sandbox: Sandbox, cli: CliRunner, tmp_path: Path) -> None:  # noqa: F811
    plan = _plan(cli, _spec(tmp_path, path=str(Path.home() / "config"), write=False))
    assert all(c["op"] != "create" for c in plan["changes"])
    assert not (Path.home() / "config").exists()


def test_kubeconfig_verb_bad_input_exits_2(sandbox: Sandbox, cli: CliRunner, tmp_path: Path) -> None:  # noqa: F811
    r = cli("kubeconfig", "--cluster", "nope", "--path", str(tmp_path / "config"))
    assert (r.code, r.err.strip()) == (2, "eks-assist kubeconfig: no EKS cluster named 'nope' in us-east-1")
    r = cli("kubeconfig", "--cluster", "nope", "--sandbox", "--profile", "p")
    assert (r.code, r.err.strip()) == (2, "eks-assist kubeconfig: --profile cannot be combined with --sandbox")
    assert not (tmp_path / "config").exists()
