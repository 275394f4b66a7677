"""The approval policy file: located errors for every bad field, and the environment rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.errors import InputError
from assistant.governance.policy import Policy, duration_seconds, load_policy

from .conftest import POLICY


def _load(tmp_path: Path, text: str) -> Policy:
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    return load_policy(path)


def _errors(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(InputError) as info:
        _load(tmp_path, text)
    return [str(p).replace(str(tmp_path) + "/", "") for p in info.value.problems]


def test_environment_comes_from_the_cluster_name(policy: Policy) -> None:
    assert policy.environment_for("prod-eu")[0] == "prod"
    assert policy.environment_for("prod")[0] == "dev"  # "prod-*" needs the dash
    assert policy.ttl_seconds("prod") == 1800
    assert policy.post_channel == "C0PLATFORM"


@pytest.mark.parametrize("name", ["prod-db", "Prod-db", "PROD-DB", "prod_db", "PROD_db", "Prod_DB"])
def test_the_spelling_of_a_name_never_escapes_its_environment(policy: Policy, name: str) -> None:
    # Issue 11 item 4: these fell under dev ("*") with case-sensitive globs and '_' != '-'.
    assert policy.environment_for(name)[0] == "prod"


def test_readings_of_a_name_only_ever_make_it_stricter(tmp_path: Path) -> None:
    # A looser environment listed first whose glob matches only another reading of the name
    # ("team_*" reads "team-prod1" once '_' and '-' are alike) cannot take the name from prod.
    text = POLICY.replace(
        "environments:\n",
        "environments:\n  sandbox:\n    clusters: [team_*]\n    approvers: {users: [U0CAROL]}\n",
    ).replace('clusters: ["prod-*"]', 'clusters: ["team-prod*", "prod-*"]')
    policy = _load(tmp_path, text)
    assert policy.environment_for("team-prod1")[0] == "prod"
    assert policy.environment_for("team_x")[0] == "sandbox"
    assert policy.environment_for("TEAM-x")[0] == "sandbox"


def test_first_match_in_file_order_still_decides_within_one_reading(tmp_path: Path) -> None:
    # A specific, looser environment before a catch-all stricter one keeps its names.
    text = POLICY.replace('clusters: ["prod-*"]', 'clusters: ["*"]').replace(
        "environments:\n", "environments:\n  dev-first:\n    clusters: [dev-*]\n    approvers: {users: [U0CAROL]}\n"
    )
    policy = _load(tmp_path, text)
    assert policy.environment_for("dev-a")[0] == "dev-first"
    assert policy.environment_for("DEV-a")[0] == "dev-first"
    # Read as written, dev_a is not dev-*: it falls to the catch-all prod, the stricter reading.
    assert policy.environment_for("dev_a")[0] == "prod"
    assert policy.environment_for("anything")[0] == "prod"


def test_unmatched_names_default_to_the_strictest_environment(tmp_path: Path) -> None:
    policy = _load(tmp_path, POLICY.replace('clusters: ["*"]', 'clusters: ["dev-*"]'))
    assert policy.unmatched == "strictest"
    assert policy.environment_for("qa-1")[0] == "prod"


def test_strictest_is_most_approvals_then_shortest_ttl_then_first_listed(tmp_path: Path) -> None:
    base = POLICY.replace("requiredApprovals: 2", "requiredApprovals: 1").replace('clusters: ["*"]', 'clusters: ["dev-*"]')
    assert _load(tmp_path, base).environment_for("qa-1")[0] == "prod"  # a tie: the first listed
    shorter = base.replace(
        "    approvers: {users: [U0ALICE, U0BOB, U0CAROL]", "    ttl: 5m\n    approvers: {users: [U0ALICE, U0BOB, U0CAROL]"
    )
    assert _load(tmp_path, shorter).environment_for("qa-1")[0] == "dev"
    # Required approvals come first: prod's two outweigh dev's shorter TTL.
    more = shorter.replace("requiredApprovals: 1", "requiredApprovals: 2")
    assert _load(tmp_path, more).environment_for("qa-1")[0] == "prod"


def test_unmatched_can_name_an_environment_or_refuse(tmp_path: Path) -> None:
    narrow = POLICY.replace('clusters: ["*"]', 'clusters: ["dev-*"]')
    assert _load(tmp_path, narrow + "unmatched: dev\n").environment_for("qa-1")[0] == "dev"
    policy = _load(tmp_path, narrow + "unmatched: refuse\n")
    with pytest.raises(InputError, match="no environment in the approval policy covers cluster 'qa-1'"):
        policy.environment_for("qa-1")
    assert policy.environment_for("Prod_1")[0] == "prod"


def test_unmatched_setting_is_validated_with_its_location(tmp_path: Path) -> None:
    assert _errors(tmp_path, POLICY + "unmatched: prd\n") == [
        "policy.yaml:12:12: unmatched: 'prd' is not an environment of this policy; did you mean 'prod'? "
        "use strictest (the default), refuse, or one of: prod, dev"
    ]
    assert _errors(tmp_path, POLICY + "unmatched: 2\n") == ["policy.yaml:12:12: unmatched: expected a string, got the number 2"]
    renamed = POLICY.replace("  dev:", "  refuse:")
    assert _errors(tmp_path, renamed) == [
        "policy.yaml:5:3: environments: environment name 'refuse' is reserved for the 'unmatched' setting; choose another name"
    ]


def test_group_lookup_failure_trusts_only_named_users(policy: Policy) -> None:
    assert policy.is_approver("prod", "U0BOB", None)
    assert not policy.is_approver("prod", "U0DAVE", None)
    assert policy.is_approver("prod", "U0DAVE", {"S0SRE"})
    assert not policy.is_approver("prod", "U0DAVE", {"S0OTHER"})


def test_specs_resolve_next_to_the_policy_file(tmp_path: Path) -> None:
    policy = _load(tmp_path, POLICY + "specs: ./catalogue\n")
    assert policy.specs_dir == (tmp_path / "catalogue").resolve()


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (("channels: [C0PLATFORM]", "channels: []"), "policy.yaml:1:11: channels: List should have at least 1 item"),
        (("channels: [C0PLATFORM]", 'channels: ["#platform"]'), "'#platform' is not a Slack channel ID (like C012ABCDEF)"),
        (
            ("admins: [U0ADMIN]", "admins: [alice]"),
            "policy.yaml:2:9: admins: 'alice' is not a Slack user ID (like U012ABCDEF); use IDs, not display names",
        ),
        (("approvalTtl: 30m", "approvalTtl: 30"), "policy.yaml:3:14: approvalTtl: expected a string, got the number 30"),
        (("approvalTtl: 30m", "approvalTtl: 10s"), "'10s' is out of range: an approval must stay open between 1m and 7d"),
        (("approvalTtl: 30m", "approvalTtl: 30 minutes"), "'30 minutes' is not a duration"),
        (
            ("requiredApprovals: 2", "requiredApprovals: 0"),
            "environments.prod.requiredApprovals: Input should be greater than or equal to 1",
        ),
        (("approvers: {users: [U0ALICE, U0BOB, U0CAROL], groups: [S0SRE]}", "approvers: {}"), "list at least one user or group"),
        (
            ("groups: [S0SRE]}\n    requiredApprovals: 2", "groups: []}\n    requiredApprovals: 3"),
            "requiredApprovals is 3 but only 2 approver(s) are listed",
        ),
        (("  dev:", "  Dev:"), "environment name 'Dev': use lowercase letters"),
        (
            ("admins: [U0ADMIN]", "admins: [U0ADMIN]\nchanels: [C1]"),
            "policy.yaml:3:1: chanels: unknown field 'chanels'; did you mean 'channels'?",
        ),
        (("users: [U0ALICE, U0BOB]", "users: [U0ALICE, U0ALICE]"), "duplicate user IDs"),
        # The shared loader refuses YAML 1.1 number forms in policies too, saying what YAML read.
        (
            ("requiredApprovals: 2", "requiredApprovals: 0b10"),
            "policy.yaml:8:24: environments.prod.requiredApprovals: 0b10 is read by YAML 1.1 as binary, 2; "
            "write 2, or '0b10' (quoted) for text",
        ),
        (
            ("requiredApprovals: 2", "requiredApprovals: 2e0"),
            "policy.yaml:8:24: environments.prod.requiredApprovals: expected a whole number, got the text '2e0': "
            "YAML 1.1 reads 2e0 as text (it is a number only in YAML 1.2); write 2",
        ),
        (
            ("approvalTtl: 30m", "approvalTtl: 1:30"),
            "policy.yaml:3:14: approvalTtl: 1:30 is read by YAML 1.1 as a base-60 (sexagesimal) number, 90; "
            "write 90, or '1:30' (quoted) for text",
        ),
    ],
)
def test_bad_policy_fields_are_located(tmp_path: Path, edit: tuple[str, str], expected: str) -> None:
    assert edit[0] in POLICY
    errors = _errors(tmp_path, POLICY.replace(edit[0], edit[1], 1))
    assert any(expected.lower() in e.lower() for e in errors), errors


def test_policy_must_be_a_mapping(tmp_path: Path) -> None:
    assert _errors(tmp_path, "- just a list\n") == ["policy.yaml:1:1: the policy must be a mapping (channels, environments, ...)"]


def test_missing_policy_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"nope\.yaml: no such file"):
        load_policy(tmp_path / "nope.yaml")


def test_durations() -> None:
    assert [duration_seconds(t) for t in ("90s", "30m", "2h", "1d")] == [90, 1800, 7200, 86400]
