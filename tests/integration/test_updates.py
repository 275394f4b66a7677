"""Changing a running cluster: in-place updates converge; impossible changes are refused clearly."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from assistant.sandbox import Sandbox

from ..cli.conftest import CliRunner
from .conftest import DEMO, owned

pytestmark = pytest.mark.slow


def _plan(cli: CliRunner, spec: Path) -> dict:
    r = cli("plan", "-f", str(spec), "-o", "json")
    assert r.code == 0, r.err
    return json.loads(r.out)


def _apply(cli: CliRunner, spec: Path, plan_hash: str) -> None:
    r = cli("apply", "-f", str(spec), "--approve", plan_hash, "--poll-max", "0.1")
    assert r.code == 0, r.err


@pytest.fixture
def running(sandbox: Sandbox, cli: CliRunner, tmp_path: Path) -> Path:
    spec = tmp_path / "demo.yaml"
    spec.write_text(Path(DEMO).read_text(encoding="utf-8"), encoding="utf-8")
    _apply(cli, spec, _plan(cli, spec)["hash"])
    return spec


def _edit(spec: Path, old: str, new: str) -> None:
    text = spec.read_text(encoding="utf-8")
    assert old in text
    spec.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_scale_relabel_logging_and_upgrade_in_place(running: Path, cli: CliRunner) -> None:
    _edit(running, "scaling: {min: 1, desired: 2, max: 3}", "scaling: {min: 1, desired: 3, max: 5}")
    _edit(running, "role: general", "role: general-purpose")
    _edit(running, "logging: [api, audit]", "logging: [api, audit, authenticator]")
    _edit(running, 'version: "1.33"', 'version: "1.34"')
    plan = _plan(cli, running)
    changed = {c["step"]: c for c in plan["changes"] if c["op"] != "no-op"}
    assert set(changed) == {"cluster", "nodegroup[general]"}
    assert {c["op"] for c in changed.values()} == {"update"}
    assert changed["cluster"]["reason"] == "version, logging differ"
    ng = changed["nodegroup[general]"]
    assert ng["before"]["scaling"] == {"min": 1, "desired": 2, "max": 3}
    assert ng["after"]["scaling"] == {"min": 1, "desired": 3, "max": 5}
    _apply(cli, running, plan["hash"])

    eks = boto3.client("eks", region_name="us-east-1")
    cluster = eks.describe_cluster(name="demo")["cluster"]
    assert cluster["version"] == "1.34" and cluster["status"] == "ACTIVE"
    enabled = [t for e in cluster["logging"]["clusterLogging"] if e["enabled"] for t in e["types"]]
    assert sorted(enabled) == ["api", "audit", "authenticator"]
    group = eks.describe_nodegroup(clusterName="demo", nodegroupName="general")["nodegroup"]
    assert group["scalingConfig"] == {"minSize": 1, "desiredSize": 3, "maxSize": 5}
    assert group["labels"] == {"role": "general-purpose"}
    assert _plan(cli, running)["summary"]["no-op"] == 15


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('version: "1.33"', 'version: "1.32"', "masters.version: EKS cannot downgrade cluster demo from 1.33 to 1.32"),
        (
            "authenticationMode: API_AND_CONFIG_MAP",
            "authenticationMode: CONFIG_MAP",
            "masters.authenticationMode: cannot go back from API_AND_CONFIG_MAP to CONFIG_MAP; EKS only moves CONFIG_MAP -> API_AND_CONFIG_MAP -> API",
        ),
    ],
    ids=["downgrade", "auth-mode-backwards"],
)
def test_impossible_changes_are_invalid_input(
    running: Path, cli: CliRunner, sandbox: Sandbox, old: str, new: str, message: str
) -> None:
    _edit(running, old, new)
    before = owned(sandbox.inventory())
    r = cli("plan", "-f", str(running))
    assert (r.code, r.err.strip()) == (2, f"error: {message}")
    assert owned(sandbox.inventory()) == before


def test_immutable_change_is_planned_as_replace_and_refused(running: Path, cli: CliRunner, sandbox: Sandbox) -> None:
    _edit(running, "[m5.large]", "[m5.xlarge]")
    plan = _plan(cli, running)
    change = next(c for c in plan["changes"] if c["step"] == "nodegroup[general]")
    assert change["op"] == "replace"
    assert change["reason"] == "instanceTypes cannot change on an existing node group"
    assert plan["warnings"] == [
        "node group demo/general needs replacement (instanceTypes cannot change on an existing node group); apply will refuse "
        "this step: revert the change, or destroy and recreate the resource"
    ]
    before = owned(sandbox.inventory())
    r = cli("apply", "-f", str(running), "--approve", plan["hash"], "--poll-max", "0.1")
    assert r.code == 1
    assert (
        "needs replacement (instanceTypes cannot change on an existing node group); eks-assist does not replace it automatically"
        in r.err
    )
    assert owned(sandbox.inventory()) == before


def test_turning_one_log_type_off_is_planned_and_applied(running: Path, cli: CliRunner) -> None:
    eks = boto3.client("eks", region_name="us-east-1")
    # EKS lists the disabled types too; that entry must not read as a difference.
    assert eks.describe_cluster(name="demo")["cluster"]["logging"]["clusterLogging"] == [
        {"types": ["api", "audit"], "enabled": True},
        {"types": ["authenticator", "controllerManager", "scheduler"], "enabled": False},
    ]
    assert _plan(cli, running)["summary"]["update"] == 0

    _edit(running, "logging: [api, audit]", "logging: [api]")
    plan = _plan(cli, running)
    changed = {c["step"]: c for c in plan["changes"] if c["op"] != "no-op"}
    assert set(changed) == {"cluster"}
    assert changed["cluster"]["reason"] == "logging differ"
    assert (changed["cluster"]["before"]["logging"], changed["cluster"]["after"]["logging"]) == (["api", "audit"], ["api"])
    _apply(cli, running, plan["hash"])

    assert eks.describe_cluster(name="demo")["cluster"]["logging"]["clusterLogging"] == [
        {"types": ["api"], "enabled": True},
        {"types": ["audit", "authenticator", "controllerManager", "scheduler"], "enabled": False},
    ]
    (update_id,) = eks.list_updates(name="demo")["updateIds"]
    update = eks.describe_update(name="demo", updateId=update_id)["update"]
    assert (update["type"], update["status"]) == ("LoggingUpdate", "Successful")
    assert _plan(cli, running)["summary"]["update"] == 0


def test_changing_metadata_tags_updates_every_resource(running: Path, cli: CliRunner) -> None:
    _edit(running, "team: platform", 'team: payments\n    cost-centre: "42"')
    plan = _plan(cli, running)
    changed = {c["step"]: c for c in plan["changes"] if c["op"] != "no-op"}
    assert {"cluster", "nodegroup[general]", "nodegroup[spot]"} <= set(changed)
    assert {c["op"] for c in changed.values()} == {"update"}
    for step in ("cluster", "nodegroup[general]"):
        assert changed[step]["after"]["tags"]["team"] == "payments"
        assert changed[step]["after"]["tags"]["cost-centre"] == "42"
    _apply(cli, running, plan["hash"])

    eks = boto3.client("eks", region_name="us-east-1")
    cluster = eks.describe_cluster(name="demo")["cluster"]
    for arn in [cluster["arn"]] + [
        eks.describe_nodegroup(clusterName="demo", nodegroupName=n)["nodegroup"]["nodegroupArn"] for n in ("general", "spot")
    ]:
        tags = eks.list_tags_for_resource(resourceArn=arn)["tags"]
        assert (tags["team"], tags["cost-centre"]) == ("payments", "42"), arn
    replan = _plan(cli, running)
    assert [c["step"] for c in replan["changes"] if c["op"] != "no-op"] == []
