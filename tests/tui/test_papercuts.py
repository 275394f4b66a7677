"""Wizard papercuts from the field reports (issue 11, item 15), each driven with Pilot on the sandbox."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
import yaml
from textual.containers import VerticalScroll
from textual.widgets import Button, DataTable

from assistant.clients.aws import AwsContext
from assistant.engine import Engine
from assistant.errors import InputError
from assistant.identity.access import route
from assistant.sandbox import Sandbox
from assistant.spec import load_spec
from assistant.spec.source import loads
from assistant.store import open_store
from assistant.tags import role_name
from tui.screens.iam import goes_to
from tui.state import WizardState, new_spec
from tui.widgets.fit_table import FitTable
from tui.widgets.plan_view import legend, plan_text

from .conftest import footer_keys, run, screen_text, settle, test_app, wait_for, wait_screen
from .test_snapshots import SPEC
from .test_wizard import add_node_group, fill, finished_run, to_review_and_apply

ACCOUNT = "123456789012"


@pytest.fixture
def admins(sandbox: Sandbox) -> Sandbox:
    """The sandbox with the role the snapshot spec maps."""
    boto3.client("iam", region_name="us-east-1").create_role(RoleName="PlatformAdmins", AssumeRolePolicyDocument="{}")
    return sandbox


@pytest.mark.parametrize(
    ("screen", "keys"),
    [
        pytest.param("NodeGroupEditor", ("a",), id="node-group-editor"),
        pytest.param("MappingEditor", ("a",), id="mapping-editor"),
    ],
)
def test_an_editors_footer_shows_its_save_key(sandbox: Sandbox, screen: str, keys: tuple[str, ...]) -> None:
    app = test_app(spec_file=str(SPEC))

    async def scenario() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: app.conn is not None)
            await app.goto("workers" if screen == "NodeGroupEditor" else "iam")
            await settle(pilot)
            await pilot.press(*keys)
            await wait_screen(pilot, screen)
            shown = footer_keys(app)
            assert shown.get("Save") == "ctrl+s", shown
            assert shown.get("Cancel") == "escape", shown
            assert "^s Save" in screen_text(app).splitlines()[-1]

    run(scenario())


def test_the_review_plan_scrolls_with_the_keys_at_once_and_explains_its_symbols(admins: Sandbox) -> None:
    app = test_app(spec_file=str(SPEC))

    async def scenario() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: app.conn is not None)
            await app.goto("review")
            await wait_for(pilot, lambda: getattr(app.screen, "planning", None) is not None, what="the plan")
            await settle(pilot)
            plan = app.screen.query_one("#plan-scroll", VerticalScroll)
            assert plan.has_focus
            await pilot.press("pagedown")
            await settle(pilot)
            assert plan.scroll_y > 0
            # The "!" lines say what they are, on the screen itself.
            await pilot.press("home")
            await settle(pilot)
            text = screen_text(app)
            assert "Key: + create" in text
            assert "! the planner's note on the change above it" in text.replace("\n", " ")
            assert "! + mapRoles" in str(app.screen.query_one("#plan").render())  # such a note, in this plan

    run(scenario())


def test_a_run_shows_each_node_group_by_name_the_ops_it_ran_and_ends_without_cancel(admins: Sandbox) -> None:
    app = test_app(spec_file=str(SPEC))

    async def scenario() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: app.conn is not None)
            await app.goto("review")
            await to_review_and_apply(pilot, "shop")
            screen = app.screen
            assert "Cancel run" in footer_keys(app)
            result = await finished_run(pilot)
            assert result.ok, result.error
            table = screen.query_one("#steps", DataTable)
            text = screen_text(app)
            assert "nodegroup[general]" in text and "nodegroup[spot]" in text
            # The op column is what the run did, as its log and journal say.
            assert app.bridge is not None
            journal = {s.step: s.op for s in app.bridge.conn.store.steps(screen.run_id)}
            shown = {str(table.get_row_at(i)[0]): str(table.get_row_at(i)[1]) for i in range(table.row_count)}
            assert shown == journal
            assert shown["aws_auth"] == "create"
            # A finished run offers no cancel: Esc continues to the summary.
            assert "Cancel run" not in footer_keys(app) and footer_keys(app).get("Continue") == "escape"
            assert not screen.query_one("#cancel", Button).display
            await pilot.press("escape")
            await wait_screen(pilot, "DoneScreen")

    run(scenario())


IAM_SPEC = """\
apiVersion: eks-assist/v1
kind: Cluster
metadata: {name: routes, region: us-east-1}
masters:
  vpc: {create: {cidr: 10.0.0.0/16, azCount: 2}}
  authenticationMode: MODE
workers:
  - {name: general, instanceTypes: [m5.large]}
iamMappings:
  - {arn: "arn:aws:iam::123456789012:role/auto-role", kind: role, groups: [viewers]}
  - {arn: "arn:aws:iam::123456789012:user/pinned", kind: user, groups: [devs], via: aws-auth}
  - {arn: "123456789012", kind: account}
"""


@pytest.mark.parametrize("mode", ["API_AND_CONFIG_MAP", "CONFIG_MAP"])
def test_the_iam_table_shows_where_each_mapping_goes_as_the_plan_does(sandbox: Sandbox, tmp_path: Path, mode: str) -> None:
    spec = tmp_path / "routes.yaml"
    spec.write_text(IAM_SPEC.replace("MODE", mode))
    # What the engine's plan does with each mapping: aws-auth entries, or access entries.
    planning = Engine(AwsContext(region="us-east-1"), open_store()).plan(load_spec(str(spec)))
    aws_auth = planning.plan.change("aws_auth")
    entries = planning.plan.change("access_entries")
    assert aws_auth is not None and entries is not None
    planned = {key: f"aws-auth {section}" for section, keys in (aws_auth.after or {}).items() for key in keys}
    planned |= {arn: "access entry" for arn in entries.after or {}}
    app = test_app(spec_file=str(spec))

    async def scenario() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: app.conn is not None)
            await app.goto("iam")
            await settle(pilot)
            table = app.screen.query_one("#mappings", FitTable)
            rows = [table.cells(i) for i in range(table.row_count)]
            shown = {row[0]: row[1].split("\n") for row in rows}
            node_role = f"arn:aws:iam::{ACCOUNT}:role/{role_name('routes', 'us-east-1', 'node')}"
            assert shown.pop(node_role)[0] == "aws-auth mapRoles"
            for arn, where in shown.items():
                assert where[0] == planned[arn], arn
                # via auto is marked as such: it follows the mode.
                assert (where[1:] == ["(auto)"]) == (arn != f"arn:aws:iam::{ACCOUNT}:user/pinned"), arn
            # The same function routes the table and the engine's steps.
            assert shown[f"arn:aws:iam::{ACCOUNT}:role/auto-role"][0] == goes_to(route("role", "auto", mode), "mapRoles")
            # ... and all of it is on the screen at 80 columns, with what auto means.
            text = screen_text(app)
            assert "goes to" in text and "access policies" in text
            assert f"via auto follows the authentication mode ({mode})" in " ".join(text.split())
            for where in {w[0] for w in shown.values()}:
                assert where.split()[0] in text

    run(scenario())


def test_the_saved_yaml_writes_every_node_group_and_mapping_the_same_way(sandbox: Sandbox, tmp_path: Path) -> None:
    source = tmp_path / "mixed.yaml"
    source.write_text(
        """\
apiVersion: eks-assist/v1
kind: Cluster
metadata: {name: mixed, region: us-east-1}
workers:
  - {name: terse, instanceTypes: [t3.medium]}
  - name: full
    instanceTypes: [m5.large]
    amiType: AL2023_x86_64_STANDARD
    capacityType: ON_DEMAND
    scaling: {min: 1, desired: 2, max: 2}
    diskSize: 20
    labels: {}
iamMappings:
  - {arn: "arn:aws:iam::123456789012:role/terse", kind: role}
"""
    )
    out = tmp_path / "saved.yaml"
    app = test_app(spec_file=str(source))

    async def scenario() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: app.conn is not None)
            await app.goto("workers")
            await settle(pilot)
            await add_node_group(pilot, "added", "m5.xlarge", disk="")  # disk cleared: the default
            await app.goto("iam")
            await settle(pilot)
            await pilot.press("a")
            await wait_screen(pilot, "MappingEditor")
            await fill(pilot, "#m-arn", f"arn:aws:iam::{ACCOUNT}:user/added")
            app.screen.query_one("#m-kind").value = "user"  # type: ignore[attr-defined]
            await pilot.pause()
            await pilot.press("ctrl+s")
            await wait_screen(pilot, "IamScreen")
            await pilot.press("ctrl+s")
            await wait_screen(pilot, "SaveSpecScreen")
            await fill(pilot, "#path", str(out))
            await pilot.press("enter")
            await wait_screen(pilot, "IamScreen")

    run(scenario())
    saved = yaml.safe_load(out.read_text())
    groups = saved["workers"]
    assert [g["name"] for g in groups] == ["terse", "full", "added"]
    assert all(list(g) == list(groups[0]) for g in groups), [list(g) for g in groups]
    assert list(groups[0]) == ["name", "instanceTypes", "amiType", "capacityType", "scaling", "diskSize"]
    mappings = saved["iamMappings"]
    assert all(list(m) == ["arn", "kind", "via"] for m in mappings), mappings
    # Written out or not, the defaults mean the same spec.
    assert load_spec(str(out)).spec.workers[0] == load_spec(str(source)).spec.workers[0]


@pytest.mark.parametrize("char", ["\x85", "\u2028", "\u2029"], ids=["NEL", "LS", "PS"])
def test_a_yaml_line_break_character_saves_and_reads_back_as_itself(tmp_path: Path, char: str) -> None:
    state = WizardState(new_spec("us-east-1", "breaks"))
    typed = f"team{char}a"
    state.spec["metadata"]["tags"] = {"team": typed}
    state.spec["iamMappings"] = [{"arn": f"arn:aws:iam::{ACCOUNT}:role/x", "kind": "role", "username": typed}]
    path = state.save(str(tmp_path / "breaks.yaml"))
    data, _ = loads(path.read_text(encoding="utf-8"), str(path))
    assert data["metadata"]["tags"]["team"] == typed
    assert data["iamMappings"][0]["username"] == typed
    # So the engine sees the character the user typed, and says where it is, instead of a space
    # that would have made the spec valid behind the user's back.
    with pytest.raises(InputError) as refused:
        load_spec(str(path))
    assert f"breaks.yaml:{_line_of(path, 'username')}" in str(refused.value)
    assert repr(char)[1:-1] in str(refused.value)


def _line_of(path: Path, key: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if f"{key}:" in line)


def test_the_plan_key_names_warnings_when_the_plan_has_them(admins: Sandbox, tmp_path: Path) -> None:
    # Two /28 subnets cannot hold a node group of 20 m5.large at max scale: the planner warns.
    spec = tmp_path / "tight.yaml"
    spec.write_text(
        SPEC.read_text()
        .replace("cidr: 10.0.0.0/16, azCount: 2", "cidr: 10.0.0.0/26, azCount: 2")
        .replace("scaling: {min: 1, desired: 2, max: 3}", "scaling: {min: 1, desired: 2, max: 20}")
    )
    planning = Engine(AwsContext(region="us-east-1"), open_store()).plan(load_spec(str(spec)))
    assert planning.plan.warnings
    key = legend(planning).plain
    assert "! the planner's note on the change above it; under Warnings, a warning to read before applying" in key
    assert "! Warnings" in plan_text(planning).plain
