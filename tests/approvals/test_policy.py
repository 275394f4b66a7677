"""The approval policy file: located errors for every bad field, and the environment rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.errors import InputError
from assistant.policy import Policy, duration_seconds, load_policy

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


def test_no_matching_environment_is_an_error(tmp_path: Path) -> None:
    policy = _load(tmp_path, POLICY.replace('clusters: ["*"]', 'clusters: ["dev-*"]'))
    with pytest.raises(InputError, match="no environment in the approval policy covers cluster 'qa-1'"):
        policy.environment_for("qa-1")


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
