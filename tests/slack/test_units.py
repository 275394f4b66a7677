"""The bot's pure parts: command parsing, the catalogue, Block Kit limits, redaction, pacing."""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from assistant.errors import InputError, Problem
from slackbot import blocks as bk
from slackbot import new_cluster
from slackbot.catalogue import Catalogue
from slackbot.commands import Command, help_text, parse
from slackbot.messenger import chunk_blocks
from slackbot.pacing import ChannelPacer
from slackbot.redact import redact, redact_payload

# -- commands ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", Command("help")),
        ("  help ", Command("help")),
        ("new", Command("new")),
        ("plan demo", Command("plan", ("demo",))),
        ("APPLY demo", Command("apply", ("demo",))),
        ("status", Command("status")),
        ("status prod-eu", Command("status", ("prod-eu",))),
        ("runs", Command("runs")),
        ("access check demo arn:aws:iam::1:role/x", Command("access", ("demo", "arn:aws:iam::1:role/x"))),
        ("map-role demo arn:aws:iam::1:role/x a b", Command("map-role", ("demo", "arn:aws:iam::1:role/x", "a", "b"))),
        ("destroy demo", Command("destroy", ("demo",))),
        ("locks", Command("locks")),
        ("unlock demo", Command("unlock", ("demo",))),
        ("plan <mailto:a@b.c|a@b.c>", Command("plan", ("a@b.c",))),
        ("plan &lt;x&gt;", Command("plan", ("<x>",))),
    ],
)
def test_parse(text: str, expected: Command) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("plan", "usage: /eks plan <spec-name>"),
        ("plan a b", "usage: /eks plan <spec-name>"),
        ("map-role demo arn", "usage: /eks map-role <cluster> <role-arn> <group...>"),
        ("access demo arn", "usage: /eks access check <cluster> <arn>"),
        ("access check demo", "usage: /eks access check <cluster> <arn>"),
        ("new stuff", "usage: /eks new"),
        ("deploy", "unknown command 'deploy'"),
        ("x" * 3000, "the command is too long"),
    ],
)
def test_parse_refuses(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message.replace("[", r"\[").replace(".", r"\.")):
        parse(text)


def test_changes_something_and_help() -> None:
    assert [v for v in ("new", "apply", "map-role", "destroy", "plan", "status") if Command(v).changes_something] == [
        "new",
        "apply",
        "map-role",
        "destroy",
    ]
    assert "/eks unlock <cluster>" in help_text() and "/eks access check <cluster> <arn>" in help_text()


# -- catalogue -----------------------------------------------------------------------------------


@pytest.fixture
def catalogue(tmp_path: Path) -> Catalogue:
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "demo.yaml").write_text("apiVersion: eks-assist/v1\nkind: Cluster\nmetadata: {name: demo, region: us-east-1}\n")
    (specs / "bad name.yaml").write_text("x: 1\n")
    (specs / "notes.txt").write_text("not a spec\n")
    secret = tmp_path / "outside.yaml"
    secret.write_text("apiVersion: eks-assist/v1\n")
    (specs / "escape.yaml").symlink_to(secret)
    (specs / "inside.yaml").symlink_to(specs / "demo.yaml")
    (specs / "loop.yaml").symlink_to(specs / "loop.yaml")
    (specs / "dir.yaml").mkdir()
    return Catalogue(specs)


def test_catalogue_lists_only_safe_names(catalogue: Catalogue) -> None:
    assert catalogue.names() == ["demo", "inside"]


@pytest.mark.parametrize(
    "name",
    [
        "../outside",
        "../../etc/passwd",
        "/etc/passwd",
        "specs/demo",
        "demo.yaml",
        "..",
        ".",
        ".hidden",
        "",
        "a\\b",
        "dëmo",
        "a" * 65,
    ],
)
def test_catalogue_refuses_anything_but_a_name(catalogue: Catalogue, name: str) -> None:
    with pytest.raises(InputError, match="is not a spec name"):
        catalogue.path(name)


def test_catalogue_refuses_symlinks_out_and_non_files(catalogue: Catalogue) -> None:
    for name in ("escape", "loop", "dir"):
        with pytest.raises(InputError, match="not a regular file inside the catalogue"):
            catalogue.path(name)
    with pytest.raises(InputError, match=r"no spec named 'missing' in the catalogue \(available: demo, inside\)"):
        catalogue.path("missing")
    assert catalogue.path("inside") == catalogue.path("demo")


def test_catalogue_load_names_the_file_without_the_host_path(catalogue: Catalogue) -> None:
    assert catalogue.load("demo").spec.metadata.name == "demo"
    assert catalogue.directory is not None
    (catalogue.directory / "broken.yaml").write_text("apiVersion: eks-assist/v1\nkind: Cluster\nmetadata: {name: -x}\n")
    with pytest.raises(InputError) as exc:
        catalogue.load("broken")
    assert str(exc.value).startswith("broken.yaml:3:")
    assert str(catalogue.directory) not in str(exc.value)


def test_no_catalogue_configured() -> None:
    with pytest.raises(InputError, match="has no spec catalogue"):
        Catalogue(None).names()


# -- blocks --------------------------------------------------------------------------------------


def _request(**over: Any) -> Any:
    base = {
        "id": "20261124-101010-abcdef",
        "cluster": "demo",
        "kind": "apply",
        "playbook": "cluster",
        "plan_hash": "ab" * 32,
        "plan_text": "Plan for playbook 'cluster'\n+ VPC demo-vpc\nPlan hash: " + "ab" * 32,
        "summary": {"create": 2, "update": 1, "replace": 0, "delete": 0, "no-op": 3},
        "changes": [
            {"op": "update", "resource": "IAM role demo-cluster-role", "step": "cluster_role"},
            {"op": "create", "resource": "VPC demo-vpc", "step": "vpc"},
            {"op": "create", "resource": "EKS cluster demo", "step": "cluster"},
        ],
        "warnings": [],
        "account": "123456789012",
        "region": "us-east-1",
        "requester": "U0CAROL",
        "environment": "dev",
        "required_approvals": 1,
        "status": "pending",
        "created_at": 1_800_000_000.0,
        "expires_at": 1_800_003_600.0,
        "approvals": [],
        "decided_by": "",
        "decided_at": None,
        "reason": "",
        "executor": "bot",
        "origin": {},
        "resume_of": "",
    }
    base.update(over)
    return SimpleNamespace(**base)


def _all_text(blocks: list[dict[str, Any]]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def _check_limits(blocks: list[dict[str, Any]]) -> None:
    assert len(blocks) <= bk.MAX_BLOCKS
    for b in blocks:
        if b["type"] == "section" and "text" in b:
            assert len(b["text"]["text"]) <= bk.MAX_SECTION
        if b["type"] == "header":
            assert len(b["text"]["text"]) <= bk.MAX_HEADER
        for f in b.get("fields", []):
            assert len(f["text"]) <= bk.MAX_FIELD


def test_pending_approval_message() -> None:
    blocks = bk.approval_blocks(_request())
    _check_limits(blocks)
    text = _all_text(blocks)
    assert "*Approvals*\\n0 of 1" in text and "*Account*\\n123456789012" in text
    assert "2 to create, 1 to update, 0 to replace, 0 to delete" in text
    # grouped: creates before updates
    assert text.index("create VPC demo-vpc") < text.index("update IAM role demo-cluster-role")
    actions = blocks[-1]
    assert [e["action_id"] for e in actions["elements"]] == ["eks_approve", "eks_reject"]
    approve = actions["elements"][0]
    assert approve["confirm"]["title"]["text"] == "Approve this plan?" and approve["value"] == "20261124-101010-abcdef"
    assert len(approve["confirm"]["text"]["text"]) <= 300
    assert "```Plan for playbook" in text  # short plans are shown in full, inline


def test_one_of_two_keeps_the_buttons() -> None:
    req = _request(required_approvals=2, approvals=[{"approver": "U0ALICE", "at": 1.0}])
    blocks = bk.approval_blocks(req)
    assert "1 of 2 (<@U0ALICE>)" in _all_text(blocks)
    assert blocks[-1]["type"] == "actions"


@pytest.mark.parametrize(
    ("status", "extra", "expected"),
    [
        (
            "applying",
            {"approvals": [{"approver": "U0ALICE", "at": 1.0}], "decided_at": 1_800_000_100.0},
            "Approved; applying by <@U0ALICE> at",
        ),
        ("succeeded", {"approvals": [{"approver": "U0ALICE", "at": 1.0}]}, ":white_check_mark: Applied by <@U0ALICE>"),
        ("rejected", {"decided_by": "U0BOB", "decided_at": 1_800_000_100.0, "reason": "<b>no</b>"}, "Rejected by <@U0BOB> at"),
        ("expired", {}, ":hourglass: Expired at <!date^1800003600^"),
        ("superseded", {}, "Superseded: the plan changed after approval"),
        ("cancelled", {"decided_by": "U0ADMIN", "reason": "lock released"}, "Cancelled by <@U0ADMIN> (lock released)"),
    ],
)
def test_decided_messages_have_no_buttons(status: str, extra: dict[str, Any], expected: str) -> None:
    blocks = bk.approval_blocks(_request(status=status, **extra))
    assert all(b["type"] != "actions" for b in blocks)
    assert expected in _all_text(blocks)
    if status == "rejected":
        assert "&lt;b&gt;no&lt;/b&gt;" in _all_text(blocks)  # user text cannot inject mrkdwn links


def test_huge_plans_stay_within_block_kit_limits() -> None:
    changes = [{"op": "create", "resource": f"thing number {i} " + "x" * 60, "step": f"s{i}"} for i in range(500)]
    warnings = [f"subnet {i} is too small " + "y" * 200 for i in range(40)]
    req = _request(changes=changes, warnings=warnings, plan_text="z" * 200_000, summary={"create": 500})
    blocks = bk.approval_blocks(req)
    _check_limits(blocks)
    text = _all_text(blocks)
    assert "more in the full plan in the thread" in text and "The full plan is in this message's thread" in text
    assert not bk.diff_fits_inline(req)
    assert "warnings in the full plan" in text


def test_chunked_text_fits_messages() -> None:
    text = "\n".join(f"line {i} " + "q" * 100 for i in range(10000)) + "\n" + "w" * 7000
    messages = chunk_blocks(text)
    assert len(messages) == 8
    for blocks in messages:
        _check_limits(blocks)
    assert "the rest is too long for Slack" in _all_text(messages[-1])
    small = chunk_blocks("a\nb\n")
    assert len(small) == 1 and small[0][0]["text"]["text"] == "```a\nb\n```"


def test_summary_shows_endpoint_and_commands_but_never_the_ca() -> None:
    outputs = {
        "endpoint": "https://E.example",
        "arn": "arn:aws:eks:us-east-1:1:cluster/demo",
        "certificateAuthority": "LS0t" * 50,
    }
    status = {
        "status": "ACTIVE",
        "version": "1.33",
        "endpoint": "https://E.example",
        "nodeGroups": [
            {"name": "general", "status": "ACTIVE", "instanceTypes": ["m5.large"], "capacityType": "ON_DEMAND",
             "min": 1, "desired": 2, "max": 3}
        ],
    }  # fmt: skip
    text = _all_text(bk.summary_blocks(_request(), "run1", outputs, status))
    assert "*Endpoint:* https://E.example" in text and "`general` ACTIVE" in text and "1/2/3 nodes" in text
    assert "eks-assist kubeconfig --cluster demo --region us-east-1" in text
    assert "aws eks update-kubeconfig --name demo --region us-east-1" in text
    assert "LS0t" not in text
    assert "was torn down" in _all_text(bk.summary_blocks(_request(kind="destroy"), "run1", outputs, None))


def test_failure_has_a_resume_button_with_a_confirm() -> None:
    blocks = bk.failure_blocks(_request(), "run1", "boom " * 2000)
    _check_limits(blocks)
    button = blocks[1]["elements"][0]
    assert button["action_id"] == "eks_resume" and button["value"] == "run1" and "confirm" in button


def test_progress_lists_steps_with_states_and_times() -> None:
    steps = {
        "vpc": {"state": "done", "message": "create VPC: done", "elapsed": 1.5},
        "cluster": {"state": "running", "message": "CREATING 40%", "elapsed": 95.0},
        "nodes": {"state": "pending", "message": "", "elapsed": 0.0},
    }
    text = _all_text(bk.progress_blocks("Apply cluster demo", steps, 100.0, "running"))
    assert ":white_check_mark: `vpc` create VPC: done (2s)" in text
    assert ":hourglass_flowing_sand: `cluster` CREATING 40% (1m35s)" in text
    assert "1m40s" in text


# -- the /eks new form ---------------------------------------------------------------------------


def test_problems_map_to_form_fields() -> None:
    problems = [
        Problem("bad", path="metadata.name"),
        Problem("bad region", path="metadata.region"),
        Problem("cidr", path="masters.vpc.create.cidr"),
        Problem("subnets", path="masters.vpc.existing.subnetIds[0]"),
        Problem("it", path="workers[0].instanceTypes[0]"),
        Problem("min", path="workers[0].scaling.min"),
        Problem("order", path="workers[0].scaling"),
        Problem("arn", path="iamMappings[1].arn"),
        Problem("other", path="cni.prefixDelegation"),
        Problem("top", path=None),
    ]
    errors = new_cluster.errors_for(problems)
    assert errors == {
        "name": "bad; other; top",
        "region": "bad region",
        "vpc_cidr": "cidr",
        "subnets": "subnets",
        "instance_type": "it",
        "nodes_min": "min",
        "nodes_max": "order",
        "mappings": "arn",
    }
    view = new_cluster.view("C1")
    assert {b["block_id"] for b in view["blocks"]} >= set(errors)


def test_form_to_spec_yaml() -> None:
    def v(value: str | None, kind: str = "plain_text_input") -> dict[str, Any]:
        if kind == "select":
            return {"value": {"type": "static_select", "selected_option": {"value": value}}}
        return {"value": {"type": kind, "value": value}}

    values = {
        "name": v("demo"),
        "region": v("eu-west-1", "select"),
        "version": v("1.32", "select"),
        "instance_type": v("m5.large"),
        "nodes_min": v("1", "number_input"),
        "nodes_desired": v("2", "number_input"),
        "nodes_max": v("x", "number_input"),
        "vpc": v("existing", "select"),
        "subnets": v("subnet-0aaa0aaa, subnet-0bbb0bbb\nsubnet-0ccc0ccc"),
        "mappings": v("arn:aws:iam::111122223333:user/ann admins viewers\n\narn:aws:iam::111122223333:role/R"),
    }
    spec, errors = new_cluster.spec_from_values(values)
    assert errors == {"nodes_max": "enter a whole number", "mappings": "line 3: give an ARN and at least one Kubernetes group"}
    assert spec["masters"]["vpc"] == {"existing": {"subnetIds": ["subnet-0aaa0aaa", "subnet-0bbb0bbb", "subnet-0ccc0ccc"]}}
    assert spec["iamMappings"] == [{"arn": "arn:aws:iam::111122223333:user/ann", "kind": "user", "groups": ["admins", "viewers"]}]
    values["nodes_max"] = v("3", "number_input")
    values["mappings"] = v("")
    spec, errors = new_cluster.spec_from_values(values)
    assert errors == {}
    from assistant.spec import loads_spec

    loaded = loads_spec(new_cluster.to_yaml(spec), "new.yaml")
    assert loaded.spec.masters.version == "1.32" and loaded.spec.kubeconfig.write is False
    assert new_cluster.view("C1", "ap-east-1")["blocks"][1]["element"]["initial_option"]["value"] == "ap-east-1"


# -- redaction -----------------------------------------------------------------------------------


def test_redaction_masks_secrets_and_keeps_the_rest() -> None:
    ca = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t" * 5
    secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    text = (
        f"ca {ca} key AKIAIOSFODNN7EXAMPLE secret {secret_key} tok k8s-aws-v1.aHR0cHM6Ly9zdHM "
        "slack xoxb-123-456-abc xapp-1-A-2 aws_secret_access_key=abc123 Authorization: Bearer abc.def "
        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE----- "
        "https://sts.amazonaws.com/?X-Amz-Credential=AKIA%2F&X-Amz-Signature=deadbeef "
        "plan hash " + "ab" * 32 + " run 20261124-101010-abcdef endpoint https://127.0.0.1:4443"
    )
    out = redact(text)
    for leaked in (ca, "AKIAIOSFODNN7EXAMPLE", secret_key, "aHR0cHM6Ly9zdHM", "xoxb-123", "xapp-1", "abc123", "abc.def",
                   "MIIB", "deadbeef"):  # fmt: skip
        assert leaked not in out, leaked
    assert "ab" * 32 in out and "20261124-101010-abcdef" in out and "https://127.0.0.1:4443" in out
    assert redact_payload([{"text": {"text": "xoxb-1-2"}}, 3]) == [{"text": {"text": "[redacted Slack token]"}}, 3]


# -- pacing --------------------------------------------------------------------------------------


def test_pacer_spaces_posts_per_channel() -> None:
    now = [100.0]
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        now[0] += s

    pacer = ChannelPacer(1.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(3):
        pacer.wait("C1")
    pacer.wait("C2")  # another channel is not held up
    assert slept == [1.0, 1.0]
    now[0] += 5
    pacer.wait("C1")
    assert slept == [1.0, 1.0]


def test_pacer_is_thread_safe() -> None:
    import threading

    pacer = ChannelPacer(0.05)
    stamps: list[float] = []
    lock = threading.Lock()

    def go() -> None:
        pacer.wait("C1")
        with lock:
            stamps.append(time.monotonic())

    threads = [threading.Thread(target=go) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stamps.sort()
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    assert min(gaps) >= 0.04, gaps


# -- the app manifest ----------------------------------------------------------------------------


def test_manifest_declares_what_the_bot_uses() -> None:
    import yaml

    import slackbot
    from slackbot.commands import USAGE

    manifest = yaml.safe_load((Path(slackbot.__file__).parent / "manifest.yaml").read_text())
    (command,) = manifest["features"]["slash_commands"]
    assert command["command"] == "/eks" and command["url"].endswith("/slack/events")
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert manifest["settings"]["interactivity"]["request_url"].endswith("/slack/events")
    assert "socket_mode_enabled" in manifest["settings"]
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"commands", "chat:write", "files:write", "usergroups:read", "users:read"} <= scopes
    assert all(verb.split()[0] in command["description"] for verb in ("new", "plan", "apply", "destroy", "locks"))
    assert set(USAGE) >= {"new", "plan", "apply", "status", "runs", "access", "map-role", "destroy", "locks", "unlock", "help"}
