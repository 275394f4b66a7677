"""The read-only verbs that need no AWS: help, version, validate, schema, playbooks, runs."""

from __future__ import annotations

import json

import pytest

from ..conftest import EXAMPLES, REPO
from .conftest import CliRunner


def test_help_lists_every_verb(cli: CliRunner) -> None:
    r = cli("--help")
    assert r.code == 0
    for verb in ("sandbox", "validate", "plan", "apply", "destroy", "status", "runs", "resume", "schema", "playbooks"):
        assert verb in r.out
    assert "exit codes: 0 ok, 1 run failed, 2 invalid input, 3 approval refused or plan changed" in r.out


def test_no_arguments_prints_help(cli: CliRunner) -> None:
    r = cli()
    assert r.code == 0 and "usage: eks-assist" in r.out


def test_version(cli: CliRunner) -> None:
    r = cli("--version")
    assert (r.code, r.out.strip()) == (0, "eks-assist 0.1.0")


@pytest.mark.parametrize("name", ["demo", "minimal", "existing-vpc"])
def test_examples_validate(cli: CliRunner, name: str) -> None:
    r = cli("validate", "-f", str(EXAMPLES / f"{name}.yaml"), "-o", "json")
    assert r.code == 0, r.err
    assert json.loads(r.out)["valid"] is True


def test_schema_is_json_schema_of_the_spec(cli: CliRunner) -> None:
    r = cli("schema")
    schema = json.loads(r.out)
    assert r.code == 0
    assert {"apiVersion", "kind", "metadata", "masters", "workers"} <= set(schema["properties"])


def test_action_catalogue_has_schemas_and_permissions(cli: CliRunner) -> None:
    r = cli("schema", "--actions")
    actions = {a["name"]: a for a in json.loads(r.out)}
    assert set(actions) == {
        "iam.role",
        "ec2.vpc",
        "ec2.subnets",
        "ec2.internet_gateway",
        "ec2.route_table",
        "ec2.security_group",
        "ec2.launch_template",
        "eks.cluster",
        "eks.nodegroup",
        "eks.addon",
        "eks.access_entry",
        "k8s.aws_auth",
        "k8s.aws_node_env",
        "k8s.eniconfig",
        "kubeconfig.write",
    }
    assert "eks:CreateCluster" in actions["eks.cluster"]["permissions"]
    assert "iam:PassRole" in actions["eks.nodegroup"]["permissions"]
    assert "properties" in actions["eks.nodegroup"]["args"]


def test_playbooks_verb(cli: CliRunner) -> None:
    r = cli("playbooks")
    assert r.code == 0
    assert [line.split()[0] for line in r.out.splitlines()] == [
        "cluster",
        "cni",
        "iam-mappings",
        "kubeconfig",
        "masters",
        "teardown",
        "workers",
    ]
    shown = cli("playbooks", "masters")
    assert shown.out == (REPO / "playbooks" / "masters.yaml").read_text(encoding="utf-8")


def test_runs_when_empty(cli: CliRunner) -> None:
    assert cli("runs").out.strip() == "No runs yet."
    assert json.loads(cli("runs", "-o", "json").out) == []
