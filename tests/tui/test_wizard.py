"""The wizard driven with Pilot on the sandbox: a whole cluster, validation, Esc, -f, failure and resume."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Select, SelectionList, Switch

from assistant.clients.aws import AwsContext
from assistant.run.events import Event
from assistant.run.runner import Runner
from assistant.sandbox import FaultConfig, Sandbox
from tui.app import EksAssistApp
from tui.widgets.fit_table import FitTable
from tui.widgets.form import FieldError

from .conftest import quick_aws, run, settle, test_app, wait_for, wait_screen

ACCOUNT = "123456789012"
ADMIN_ROLE = f"arn:aws:iam::{ACCOUNT}:role/PlatformAdmins"


async def fill(pilot: Pilot[Any], selector: str, text: str) -> None:
    """Focus a field and enter ``text``: typed key by key when short (validators run on every key), pasted when long."""
    field = pilot.app.screen.query_one(selector, Input)
    field.focus()
    field.value = ""
    if len(text) <= 12:
        await pilot.press(*text) if text else None
    else:
        field.value = text
    await pilot.pause()


def error_text(app: EksAssistApp, field_error_id: str) -> str:
    return str(app.screen.query_one(f"#{field_error_id}", FieldError).render())


async def add_node_group(pilot: Pilot[Any], name: str, types: str, **fields: str) -> None:
    await pilot.press("a")
    await wait_screen(pilot, "NodeGroupEditor")
    await fill(pilot, "#ng-name", name)
    await fill(pilot, "#ng-types", types)
    for field_id, value in fields.items():
        if field_id == "capacity":
            pilot.app.screen.query_one("#ng-capacity", Select).value = value
        else:
            await fill(pilot, f"#ng-{field_id}", value)
    await pilot.press("ctrl+s")
    await wait_screen(pilot, "WorkersScreen")


async def to_review_and_apply(pilot: Pilot[Any], name: str) -> None:
    await wait_screen(pilot, "ReviewScreen")
    await wait_for(pilot, lambda: pilot.app.screen.planning is not None, what="the plan")
    await pilot.press("ctrl+a")
    await wait_screen(pilot, "TypeNameScreen")
    await pilot.press(*name, "enter")
    # Not wait_screen: settling would wait for the run's worker, i.e. the whole run.
    await wait_for(pilot, lambda: type(pilot.app.screen).__name__ == "ApplyScreen", what="the apply screen")


async def finished_run(pilot: Pilot[Any]) -> Any:
    await wait_for(pilot, lambda: getattr(pilot.app.screen, "result", None) is not None, timeout=120, what="the run to end")
    await settle(pilot)
    return pilot.app.screen.result


@pytest.mark.slow
def test_walkthrough_creates_the_cluster_entered_then_destroys_it(sandbox: Sandbox) -> None:
    """Masters → Workers (two node groups) → CNI → IAM (one mapping) → Kubeconfig → Review → Apply → Done."""
    boto3.client("iam", region_name="us-east-1").create_role(RoleName="PlatformAdmins", AssumeRolePolicyDocument="{}")
    app = test_app()

    async def scenario() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: app.conn is not None, what="the sandbox connection")
            await settle(pilot)
            assert "SANDBOX" in str(app.screen.query_one("#identity").render())
            await pilot.press("n")
            await wait_screen(pilot, "MastersScreen")
            await fill(pilot, "#name", "walk")
            app.screen.query_one("#logging", SelectionList).select("audit")
            await pilot.press("ctrl+n")
            await wait_screen(pilot, "WorkersScreen")
            await add_node_group(pilot, "general", "m5.large", labels="role=general", disk="30")
            await add_node_group(
                pilot, "spot", "t3.medium, t3a.medium", capacity="SPOT", min="0", desired="1", max="2",
                labels="role=batch", taints="capacity=spot:NO_SCHEDULE",
            )  # fmt: skip
            assert app.screen.query_one("#nodegroups", DataTable).row_count == 2
            await pilot.press("ctrl+n")
            await wait_screen(pilot, "CniScreen")
            app.screen.query_one("#prefix", Switch).value = True
            await settle(pilot)
            await pilot.press("ctrl+n")
            await wait_screen(pilot, "IamScreen")
            await pilot.press("a")
            await wait_screen(pilot, "MappingEditor")
            await fill(pilot, "#m-arn", ADMIN_ROLE)
            await fill(pilot, "#m-username", "platform-admin")
            await fill(pilot, "#m-groups", "platform-admins")
            app.screen.query_one("#m-policies", SelectionList).select("AmazonEKSClusterAdminPolicy")
            await pilot.press("ctrl+s")
            await wait_screen(pilot, "IamScreen")
            # The node role's mapping is listed, managed automatically, above ours.
            table = app.screen.query_one("#mappings", FitTable)
            assert table.row_count == 2
            assert "managed automatically" in table.cells(0)[1]
            await fill(pilot, "#principal", f"arn:aws:sts::{ACCOUNT}:assumed-role/PlatformAdmins/alice")
            await pilot.press("enter")
            await pilot.pause()
            assert "platform-admin" in str(app.screen.query_one("#check-result").render())
            await pilot.press("ctrl+n")
            await wait_screen(pilot, "KubeconfigScreen")
            await fill(pilot, "#kc-alias", "walk")
            await pilot.press("ctrl+n")
            await to_review_and_apply(pilot, "walk")
            result = await finished_run(pilot)
            assert result.ok, result.error
            await pilot.press("enter")
            await wait_screen(pilot, "DoneScreen")
            summary = str(app.screen.query_one("#summary").render())
            assert "Endpoint   https://127.0.0.1:" in summary and "Context    walk" in summary

            # The same cluster, destroyed from the dashboard, gated by its name.
            await pilot.press("escape")
            await wait_screen(pilot, "ContextScreen")
            await wait_for(pilot, lambda: app.screen.query_one("#clusters", DataTable).row_count == 1, what="the cluster list")
            assert _state_matches_what_was_entered()
            await pilot.press("d")
            await wait_screen(pilot, "DestroyScreen")
            await wait_for(pilot, lambda: app.screen.planning is not None, what="the teardown plan")
            await pilot.press("ctrl+a")
            await wait_screen(pilot, "TypeNameScreen")
            await pilot.press(*"wrong", "enter")
            assert type(app.screen).__name__ == "TypeNameScreen"  # a wrong name approves nothing
            app.screen.query_one("#typed", Input).value = ""
            await pilot.press(*"walk", "enter")
            await wait_for(pilot, lambda: type(app.screen).__name__ == "ApplyScreen", what="the destroy run")
            result = await finished_run(pilot)
            assert result.ok, result.error

    run(scenario())
    assert boto3.client("eks", region_name="us-east-1").list_clusters()["clusters"] == []
    # The wizard's destroy took the cluster's context out of the kubeconfig, as eksctl does.
    kubeconfig = yaml.safe_load(Path(os.environ["KUBECONFIG"]).read_text())
    assert (kubeconfig["contexts"], kubeconfig["users"], kubeconfig["clusters"]) == ([], [], [])
    assert kubeconfig["current-context"] == ""


def _state_matches_what_was_entered() -> bool:
    eks = boto3.client("eks", region_name="us-east-1")
    cluster = eks.describe_cluster(name="walk")["cluster"]
    assert cluster["status"] == "ACTIVE"
    assert cluster["version"] == "1.33"
    assert cluster["accessConfig"]["authenticationMode"] == "API_AND_CONFIG_MAP"
    assert sorted(eks.list_nodegroups(clusterName="walk")["nodegroups"]) == ["general", "spot"]
    general = eks.describe_nodegroup(clusterName="walk", nodegroupName="general")["nodegroup"]
    assert general["instanceTypes"] == ["m5.large"] and general["labels"] == {"role": "general"}
    assert general["diskSize"] == 30 and general["capacityType"] == "ON_DEMAND"
    spot = eks.describe_nodegroup(clusterName="walk", nodegroupName="spot")["nodegroup"]
    assert spot["capacityType"] == "SPOT" and spot["instanceTypes"] == ["t3.medium", "t3a.medium"]
    assert spot["scalingConfig"] == {"minSize": 0, "desiredSize": 1, "maxSize": 2}
    assert spot["labels"] == {"role": "batch"}
    assert spot["taints"] == [{"key": "capacity", "value": "spot", "effect": "NO_SCHEDULE"}]
    entry = eks.describe_access_entry(clusterName="walk", principalArn=ADMIN_ROLE)["accessEntry"]
    assert entry["username"] == "platform-admin" and entry["kubernetesGroups"] == ["platform-admins"]
    policies = eks.list_associated_access_policies(clusterName="walk", principalArn=ADMIN_ROLE)["associatedAccessPolicies"]
    assert [p["policyArn"].rsplit("/", 1)[1] for p in policies] == ["AmazonEKSClusterAdminPolicy"]
    addon = eks.describe_addon(clusterName="walk", addonName="vpc-cni")["addon"]
    assert "ENABLE_PREFIX_DELEGATION" in (addon.get("configurationValues") or "")

    # aws-auth maps the node role (read through the cluster's own Kubernetes API, as kubectl would).
    from assistant.identity.access import read_mappings

    _mode, mappings, _notes = read_mappings(AwsContext(region="us-east-1"), "walk")
    node_role = f"arn:aws:iam::{ACCOUNT}:role/walk-us-east-1-node-role"
    assert any(m.source == "aws-auth" and m.arn == node_role and "system:nodes" in m.groups for m in mappings)

    # The kubeconfig: written, private, with the alias as context and no credentials.
    path = Path(os.environ["KUBECONFIG"])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    kubeconfig = yaml.safe_load(path.read_text())
    assert kubeconfig["current-context"] == "walk"
    assert [c["name"] for c in kubeconfig["contexts"]] == ["walk"]
    assert all(set(u["user"]) == {"exec"} for u in kubeconfig["users"])  # an exec plugin, no token or key
    return True


def test_invalid_input_blocks_next_with_the_clis_message(sandbox: Sandbox, tmp_path: Path, cli: Any) -> None:
    # What the CLI says about the same name, from `eks-assist validate`.
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: eks-assist/v1\nkind: Cluster\nmetadata: {name: 'bad name', region: us-east-1}\n")
    cli_message = cli("validate", "-f", str(bad)).err.split("metadata.name: ", 1)[1].strip()
    app = test_app()

    async def scenario() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: app.conn is not None)
            await pilot.press("n")
            await wait_screen(pilot, "MastersScreen")
            await fill(pilot, "#name", "bad name")
            # Validated as you type: the message is there before Next.
            assert error_text(app, "name-error") == f"✗ {cli_message}"
            assert app.screen.query_one("#name", Input).has_class("-invalid")
            await pilot.press("ctrl+n")
            await pilot.pause()
            assert type(app.screen).__name__ == "MastersScreen"
            assert "1 problem(s) to fix before Next" in str(app.screen.query_one("#problems").render())
            await fill(pilot, "#cidr", "10.0.0.1/16")
            assert "did you mean '10.0.0.0/16'?" in error_text(app, "cidr-error")
            await fill(pilot, "#cidr", "10.0.0.0/16")
            await fill(pilot, "#name", "good")
            assert not app.screen.query_one("#name-error").display
            await pilot.press("ctrl+n")
            await wait_screen(pilot, "WorkersScreen")
            # A node group whose min is above its max cannot be saved.
            await pilot.press("a")
            await wait_screen(pilot, "NodeGroupEditor")
            await fill(pilot, "#ng-name", "ng")
            await fill(pilot, "#ng-types", "m5.large")
            await fill(pilot, "#ng-min", "3")
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert type(app.screen).__name__ == "NodeGroupEditor"
            assert error_text(app, "ng-min-error") == "✗ min (3) is greater than max (2)"
            await fill(pilot, "#ng-taints", "gpu")
            assert "'gpu' is not key=value:EFFECT" in error_text(app, "ng-taints-error")

    run(scenario())


def test_escape_goes_back_without_losing_entries(sandbox: Sandbox) -> None:
    app = test_app()

    async def scenario() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: app.conn is not None)
            await pilot.press("n")
            await wait_screen(pilot, "MastersScreen")
            await fill(pilot, "#name", "keep")
            await fill(pilot, "#cidr", "10.20.0.0/16")
            await pilot.press("ctrl+n")
            await wait_screen(pilot, "WorkersScreen")
            await add_node_group(pilot, "kept", "t3.large")
            await pilot.press("ctrl+n")
            await wait_screen(pilot, "CniScreen")
            await fill(pilot, "#warm-ip", "5")
            await pilot.press("escape")
            await wait_screen(pilot, "WorkersScreen")
            assert app.screen.query_one("#nodegroups", FitTable).cells(0)[0] == "kept"
            await pilot.press("escape")
            await wait_screen(pilot, "MastersScreen")
            assert app.screen.query_one("#name", Input).value == "keep"
            assert app.screen.query_one("#cidr", Input).value == "10.20.0.0/16"
            await pilot.press("ctrl+n")
            await wait_screen(pilot, "WorkersScreen")
            await pilot.press("ctrl+n")
            await wait_screen(pilot, "CniScreen")
            assert app.screen.query_one("#warm-ip", Input).value == "5"

    run(scenario())


FULL_SPEC = """\
apiVersion: eks-assist/v1
kind: Cluster
metadata:
  name: loaded
  region: us-east-1
  tags: {team: platform}
masters:
  version: "1.32"
  vpc:
    create: {cidr: 10.40.0.0/16, azCount: 3}
  serviceCidr: 172.20.0.0/16
  endpoint: {publicAccess: true, privateAccess: true, publicCidrs: [203.0.113.0/24]}
  logging: [api, audit]
  authenticationMode: API
workers:
  - name: apps
    instanceTypes: [m5.large, m5a.large]
    capacityType: SPOT
    scaling: {min: 1, desired: 2, max: 4}
    labels: {role: apps}
    taints: [{key: dedicated, value: apps, effect: NO_SCHEDULE}]
  - name: infra
    instanceTypes: [t3.medium]
cni:
  prefixDelegation: true
  warmPrefixTarget: 2
iamMappings:
  - arn: arn:aws:iam::123456789012:role/Readers
    kind: role
    groups: [readers]
    accessPolicies:
      - {policy: AmazonEKSViewPolicy, scope: namespace, namespaces: [apps, web]}
kubeconfig:
  alias: loaded-ctx
  exec: aws
"""


def test_a_spec_file_prefills_every_screen(sandbox: Sandbox, tmp_path: Path) -> None:
    spec = tmp_path / "loaded.yaml"
    spec.write_text(FULL_SPEC)
    app = test_app(spec_file=str(spec))

    async def scenario() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: app.conn is not None)
            await pilot.press("n")
            await wait_screen(pilot, "MastersScreen")
            s = app.screen
            assert s.query_one("#name", Input).value == "loaded"
            assert s.query_one("#version", Select).value == "1.32"
            assert s.query_one("#cidr", Input).value == "10.40.0.0/16"
            assert s.query_one("#az-count", Input).value == "3"
            assert s.query_one("#service-cidr", Input).value == "172.20.0.0/16"
            assert s.query_one("#public", Switch).value and s.query_one("#private", Switch).value
            assert s.query_one("#public-cidrs", Input).value == "203.0.113.0/24"
            assert s.query_one("#logging", SelectionList).selected == ["api", "audit"]
            assert s.query_one("#auth-mode", Select).value == "API"
            await pilot.press("ctrl+n")
            await wait_screen(pilot, "WorkersScreen")
            table = app.screen.query_one("#nodegroups", FitTable)
            assert [table.cells(i)[0] for i in range(table.row_count)] == ["apps", "infra"]
            assert table.cells(0)[3] == "SPOT" and table.cells(0)[4] == "1/2/4"
            await pilot.press("enter")
            await wait_screen(pilot, "NodeGroupEditor")
            assert app.screen.query_one("#ng-labels", Input).value == "role=apps"
            assert app.screen.query_one("#ng-taints", Input).value == "dedicated=apps:NO_SCHEDULE"
            await pilot.press("escape")
            await wait_screen(pilot, "WorkersScreen")
            await pilot.press("ctrl+n")
            await wait_screen(pilot, "CniScreen")
            assert app.screen.query_one("#prefix", Switch).value is True
            assert app.screen.query_one("#warm-prefix", Input).value == "2"
            await pilot.press("ctrl+n")
            await wait_screen(pilot, "IamScreen")
            row = app.screen.query_one("#mappings", FitTable).cells(1)
            assert row[0] == "arn:aws:iam::123456789012:role/Readers" and row[1] == "access entry\n(auto)"
            assert row[3] == "AmazonEKSViewPolicy (apps, web)"
            await pilot.press("ctrl+n")
            await wait_screen(pilot, "KubeconfigScreen")
            assert app.screen.query_one("#kc-alias", Input).value == "loaded-ctx"
            assert app.screen.query_one("#kc-exec", Select).value == "aws"
            await pilot.press("ctrl+n")
            await wait_screen(pilot, "ReviewScreen")
            await wait_for(pilot, lambda: app.screen.planning is not None, what="the plan")
            # Saving writes the same spec back: the engine sees exactly what the file said.
            assert app.state is not None
            out = tmp_path / "saved.yaml"
            app.state.save(str(out))
            from assistant.spec import load_spec

            assert load_spec(str(out)).spec.canonical() == load_spec(str(spec)).spec.canonical()

    run(scenario())


@pytest.mark.slow
def test_an_apply_failure_shows_what_exists_and_resume_converges(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    # Once the control plane is up, every AWS call answers 503: the steps after it fail for good.
    real_emit = Runner._emit

    def emit(self: Runner, run_id: str, kind: str, step: str = "", message: str = "", **kw: Any) -> None:
        if kind == "step_done" and step == "cluster" and not armed:
            armed.append(True)
            sandbox.set_faults(FaultConfig(error5xx=1.0))
        real_emit(self, run_id, kind, step, message, **kw)

    armed: list[bool] = []
    monkeypatch.setattr(Runner, "_emit", emit)
    spec = Path(__file__).parent.parent.parent / "examples" / "minimal.yaml"
    app = test_app(spec_file=str(spec), aws_factory=quick_aws)

    async def scenario() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: app.conn is not None)
            await app.goto("review")
            await to_review_and_apply(pilot, "minimal")
            result = await finished_run(pilot)
            assert not result.ok
            sandbox.set_faults(FaultConfig())
            await pilot.press("enter")
            await wait_screen(pilot, "FailureScreen")
            explanation = str(app.screen.query_one("#error").render())
            assert "failed: ServiceUnavailable" in explanation
            journal = app.screen.query_one("#journal", FitTable)
            rows = {journal.cells(i)[0]: journal.cells(i)[2] for i in range(journal.row_count)}
            assert rows["cluster"] == "done" and rows["cluster_role"] == "done"
            assert "failed" in rows.values()
            assert rows["nodegroup[default]"] in ("failed", "skipped", "pending")
            await pilot.press("r")
            await wait_for(pilot, lambda: type(app.screen).__name__ == "ApplyScreen", what="the resumed run")
            resumed = await finished_run(pilot)
            assert resumed.ok, resumed.error
            await pilot.press("enter")
            await wait_screen(pilot, "DoneScreen")

    run(scenario())
    eks = boto3.client("eks", region_name="us-east-1")
    assert eks.list_nodegroups(clusterName="minimal")["nodegroups"] == ["default"]
    assert eks.describe_nodegroup(clusterName="minimal", nodegroupName="default")["nodegroup"]["status"] == "ACTIVE"
    ec2 = boto3.client("ec2", region_name="us-east-1")
    mine = [{"Name": "tag:eks-assist:cluster", "Values": ["minimal"]}]
    assert len(ec2.describe_vpcs(Filters=mine)["Vpcs"]) == 1  # resumed, nothing created twice


def test_no_terminal_no_verb_prints_help(cli: Any) -> None:
    r = cli("--sandbox")
    assert r.code == 0 and "usage: eks-assist" in r.out and "terminal wizard" in r.out


def test_cancel_leaves_a_resumable_run(sandbox: Sandbox) -> None:
    app = test_app(spec_file=str(Path(__file__).parent.parent.parent / "examples" / "minimal.yaml"))
    seen: list[Event] = []

    async def scenario() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: app.conn is not None)
            await app.goto("review")
            await to_review_and_apply(pilot, "minimal")
            screen = app.screen
            await wait_for(pilot, lambda: screen.status.get("cluster") == "running", what="the cluster step")
            await pilot.press("escape")
            await wait_for(pilot, lambda: type(app.screen).__name__ == "YesNoScreen", what="the cancel question")
            await pilot.press("y")
            result = await finished_run(pilot)
            assert not result.ok and "cancelled" in result.error
            assert app.bridge is not None
            run_record = app.bridge.conn.store.get_run(screen.run_id)
            # Cancelled on purpose: "interrupted" (even when the cancel ended a step's wait), resumable.
            assert run_record is not None and run_record.status == "interrupted"
            assert "cancelled" in run_record.error
            await pilot.press("enter")
            await wait_screen(pilot, "FailureScreen")
            await pilot.press("r")
            await wait_for(pilot, lambda: type(app.screen).__name__ == "ApplyScreen", what="the resumed run")
            resumed = await finished_run(pilot)
            assert resumed.ok, resumed.error
            seen.append(Event("checked", run_record.id))

    run(scenario())
    assert seen


def test_a_corrupt_store_is_explained_at_start_up_not_a_crash(sandbox: Sandbox, isolated_env: Path, tmp_path: Path) -> None:
    """Field report 10: the wizard opens the store when it connects; a damaged one is named, kept, and explained."""
    isolated_env.mkdir(parents=True, exist_ok=True)
    db = isolated_env / "state.db"
    db.write_bytes(b"\x00torn write\x00" * 500)
    app = test_app()

    async def scenario() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: "Not connected" in str(app.screen.query_one("#identity").render()), what="the error")
            await settle(pilot)
            shown = str(app.screen.query_one("#identity").render())
            assert f"the state store {db} is not a readable SQLite database" in shown
            assert "mv " in shown and ".broken" in shown
            assert "Fix the state store" in str(app.screen.query_one("#clusters-note").render())
            assert type(app.screen).__name__ == "ContextScreen" and app.conn is None
            app.save_screenshot(str(tmp_path / "store-fault.svg"))

    run(scenario())
    assert db.read_bytes() == b"\x00torn write\x00" * 500
