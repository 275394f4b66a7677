"""Bad input that only AWS can reveal (preflight) or that appears while templating against a
real spec: exit 2, a located message, and the sandbox unchanged."""

from __future__ import annotations

from pathlib import Path

from assistant.sandbox import Sandbox

from ..cli.conftest import CliRunner
from .conftest import DEMO, owned


def _spec(tmp_path: Path, old: str, new: str) -> str:
    p = tmp_path / "spec.yaml"
    p.write_text(Path(DEMO).read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    return str(p)


def _check(sandbox: Sandbox, cli: CliRunner, tmp_path: Path, argv: list[str], expected: str) -> None:
    before = owned(sandbox.inventory())
    r = cli(*argv)
    assert r.code == 2, r
    lines = [line.removeprefix("error: ").replace(str(tmp_path) + "/", "") for line in r.err.splitlines()]
    assert expected in lines, lines
    assert owned(sandbox.inventory()) == before


def test_unknown_instance_type(sandbox: Sandbox, cli: CliRunner, tmp_path: Path) -> None:
    spec = _spec(tmp_path, "[m5.large]", "[m5.lage]")
    _check(
        sandbox,
        cli,
        tmp_path,
        ["plan", "-f", spec],
        "spec.yaml:46:21: workers[0].instanceTypes[0]: unknown instance type 'm5.lage' in us-east-1; did you mean 'm5.large'?",
    )


def test_unsupported_version(sandbox: Sandbox, cli: CliRunner, tmp_path: Path) -> None:
    spec = _spec(tmp_path, '"1.33"', '"1.20"')
    r = cli("validate", "-f", spec, "--preflight")
    assert r.code == 2
    line = r.err.splitlines()[0].removeprefix("error: ").replace(str(tmp_path) + "/", "")
    assert line.startswith(
        "spec.yaml:23:12: masters.version: Kubernetes version '1.20' is not offered by EKS in us-east-1; offered: "
    )
    _check(sandbox, cli, tmp_path, ["apply", "-f", spec, "--approve", "a" * 64], line)


def test_undefined_variable_found_while_planning(sandbox: Sandbox, cli: CliRunner, tmp_path: Path) -> None:
    pb = tmp_path / "pb.yaml"
    pb.write_text(
        "name: x\nsteps:\n  - id: a\n    action: ec2.vpc\n    with: {cluster: '{{ spec.metadata.nmae }}'}\n", encoding="utf-8"
    )
    _check(
        sandbox,
        cli,
        tmp_path,
        ["plan", "-f", DEMO, "--playbook", str(pb)],
        "pb.yaml:5:21: steps[0].with.cluster: undefined template variable 'spec.metadata.nmae' "
        "(no 'nmae' in spec.metadata; did you mean 'name'?)",
    )


def test_wrong_argument_type_for_action(sandbox: Sandbox, cli: CliRunner, tmp_path: Path) -> None:
    pb = tmp_path / "pb.yaml"
    pb.write_text(
        "name: x\nsteps:\n  - id: a\n    action: ec2.subnets\n    with: {cluster: x, azCount: '{{ spec.metadata.name }}'}\n",
        encoding="utf-8",
    )
    _check(
        sandbox,
        cli,
        tmp_path,
        ["plan", "-f", DEMO, "--playbook", str(pb)],
        "pb.yaml:5:33: steps[0].with.azCount: step a (ec2.subnets): expected a whole number, got the text 'demo'",
    )


def test_region_mismatch(sandbox: Sandbox, cli: CliRunner, tmp_path: Path) -> None:
    _check(
        sandbox,
        cli,
        tmp_path,
        ["plan", "-f", DEMO, "--region", "eu-west-1"],
        f"{DEMO}:14:11: metadata.region: spec region 'us-east-1' differs from the AWS region in use 'eu-west-1' "
        "(from --region/AWS_REGION); make them agree",
    )


def test_sandbox_with_profile(sandbox: Sandbox, cli: CliRunner, tmp_path: Path) -> None:
    _check(
        sandbox,
        cli,
        tmp_path,
        ["plan", "-f", DEMO, "--sandbox", "--profile", "prod"],
        "--profile cannot be combined with --sandbox",
    )
