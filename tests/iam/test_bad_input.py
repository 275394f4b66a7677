"""Bad mappings exit 2 with a precise message and change nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from assistant.actions import registry

from ..cli.conftest import CliRunner
from ..integration.conftest import owned
from .conftest import World, write_spec

VALID = "AmazonEKSAdminPolicy, AmazonEKSAdminViewPolicy, AmazonEKSClusterAdminPolicy, AmazonEKSEditPolicy, AmazonEKSViewPolicy"


@pytest.mark.parametrize(
    ("mappings", "message"),
    [
        (
            "  - {arn: 'arn:aws:iam::12345:role/x', kind: role}",
            "10:11: iamMappings[0].arn: 'arn:aws:iam::12345:role/x' is not an IAM role ARN "
            "(like arn:aws:iam::111122223333:role/name)",
        ),
        (
            "  - {arn: 'arn:aws:iam::111122223333:role/team/x', kind: role, via: aws-auth}",
            "10:11: iamMappings[0].arn: aws-auth role ARNs cannot include a path (/team/); drop the path or use via: access-entry",
        ),
        (
            "  - {arn: 'arn:aws:iam::111122223333:user/u', kind: user, "
            "accessPolicies: [{policy: AmazonEKSViewPolicy, scope: namespace}]}",
            "10:76: iamMappings[0].accessPolicies[0].namespaces: scope namespace needs a list of namespaces",
        ),
        (
            "  - {arn: 'arn:aws:iam::111122223333:user/u', kind: user}\n  - {arn: 'arn:aws:iam::111122223333:user/u', kind: user}",
            "11:11: iamMappings[1].arn: duplicate mapping for arn:aws:iam::111122223333:user/u (also at iamMappings[0])",
        ),
    ],
    ids=["malformed-arn", "role-path-in-aws-auth", "namespace-scope-without-namespaces", "duplicate-arn"],
)
def test_spec_errors(cli: CliRunner, tmp_path: Path, mappings: str, message: str) -> None:
    spec = write_spec(tmp_path, mappings)
    r = cli("plan", "-f", spec, "--playbook", "iam-mappings")
    assert r.code == 2
    assert r.err.strip() == f"error: {spec}:{message}"


def test_unknown_access_policy_lists_valid_ones(world: World, cli: CliRunner, tmp_path: Path) -> None:
    spec = write_spec(
        tmp_path, "  - {arn: 'arn:aws:iam::123456789012:user/u', kind: user, accessPolicies: [{policy: AmazonEKSFooPolicy}]}"
    )
    before = owned(world.sandbox.inventory())
    r = cli("plan", "-f", spec, "--playbook", "iam-mappings")
    assert r.code == 2
    assert r.err.strip() == (
        f"error: arn:aws:iam::123456789012:user/u: unknown access policy 'AmazonEKSFooPolicy'; valid policies: {VALID}"
    )
    assert owned(world.sandbox.inventory()) == before


def test_auto_role_with_path_on_a_config_map_cluster(config_map_world: World, cli: CliRunner, tmp_path: Path) -> None:
    # via: auto resolves to aws-auth only once the cluster's mode is known, so this is caught at plan.
    spec = write_spec(tmp_path, "  - {arn: 'arn:aws:iam::123456789012:role/team/deployer', kind: role}", mode="CONFIG_MAP")
    r = cli("plan", "-f", spec, "--playbook", "iam-mappings")
    assert r.code == 2
    assert r.err.strip() == (
        "error: arn:aws:iam::123456789012:role/team/deployer: aws-auth role ARNs cannot include a path (/team/) because "
        "aws-auth matches the role without it; use arn:aws:iam::123456789012:role/deployer, or via: access-entry"
    )


def test_action_arguments_are_checked_too() -> None:
    args = registry.get("k8s.aws_auth").Args
    with pytest.raises(ValidationError, match="duplicate mapping for arn:aws:iam::111122223333:role/a"):
        args.model_validate({"cluster": "c", "mappings": [{"arn": "arn:aws:iam::111122223333:role/a", "kind": "role"}] * 2})
    with pytest.raises(ValidationError, match="aws-auth role ARNs cannot include a path"):
        args.model_validate(
            {"cluster": "c", "mappings": [{"arn": "arn:aws:iam::111122223333:role/p/a", "kind": "role", "via": "aws-auth"}]}
        )
    entry_args = registry.get("eks.access_entry").Args
    with pytest.raises(ValidationError, match="scope namespace needs a list of namespaces"):
        entry_args.model_validate(
            {
                "cluster": "c",
                "mappings": [
                    {
                        "arn": "arn:aws:iam::111122223333:user/u",
                        "kind": "user",
                        "accessPolicies": [{"policy": "X", "scope": "namespace"}],
                    }
                ],
            }
        )


def test_auto_goes_to_aws_auth_on_a_config_map_cluster(config_map_world: World, cli: CliRunner, tmp_path: Path) -> None:
    role = "arn:aws:iam::123456789012:role/deployer"
    spec = write_spec(tmp_path, f"  - {{arn: '{role}', kind: role, groups: [deployers]}}", mode="CONFIG_MAP")
    r = cli("plan", "-f", spec, "--playbook", "iam-mappings", "-o", "json")
    assert r.code == 0, r.err
    plan = json.loads(r.out)
    assert [(c["step"], c["op"]) for c in plan["changes"]] == [("aws_auth", "create"), ("access_entries", "no-op")]
    r = cli("apply", "-f", spec, "--playbook", "iam-mappings", "--approve", plan["hash"], "--poll-max", "0.1")
    assert r.code == 0, r.err
    roles = {e["rolearn"]: e for e in yaml.safe_load(config_map_world.aws_auth()["data"]["mapRoles"])}
    assert roles[role] == {
        "rolearn": role,
        "username": "arn:aws:sts::123456789012:assumed-role/deployer/{{SessionName}}",
        "groups": ["deployers"],
    }
    again = json.loads(cli("plan", "-f", spec, "--playbook", "iam-mappings", "-o", "json").out)
    assert [c["op"] for c in again["changes"]] == ["no-op", "no-op"]
