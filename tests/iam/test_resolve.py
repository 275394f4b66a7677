"""Pure resolution rules behind ``access check``: matching, precedence and near misses."""

from __future__ import annotations

import pytest

from assistant.errors import InputError
from assistant.identity.access import Mapping, later_mode, resolve, route

A = "111122223333"
ROLE = f"arn:aws:iam::{A}:role/deployer"
AWS_AUTH = Mapping("aws-auth", ROLE, "deployer", ["deployers"], section="mapRoles")
ENTRY = Mapping("access-entry", ROLE, "entry-user", ["entry-group"], type="STANDARD")


def test_access_entry_wins_over_aws_auth_in_api_and_config_map() -> None:
    got = resolve(ROLE, "API_AND_CONFIG_MAP", [AWS_AUTH, ENTRY])
    assert (got["source"], got["username"]) == ("access-entry", "entry-user")


def test_api_mode_ignores_aws_auth_and_says_so() -> None:
    got = resolve(ROLE, "API", [AWS_AUTH])
    assert got["mapped"] is False
    assert got["nearMisses"] == [f"aws-auth maps {ROLE}, but the cluster's authenticationMode API ignores aws-auth"]


def test_role_with_a_path_matches_a_pathless_aws_auth_entry_but_not_the_reverse() -> None:
    assert resolve(f"arn:aws:iam::{A}:role/team/deployer", "CONFIG_MAP", [AWS_AUTH])["mapped"] is True
    with_path = Mapping("aws-auth", f"arn:aws:iam::{A}:role/team/deployer", "d", [], section="mapRoles")
    got = resolve(ROLE, "CONFIG_MAP", [with_path])
    assert got["mapped"] is False
    assert got["nearMisses"] == [
        f"aws-auth maps arn:aws:iam::{A}:role/team/deployer, but aws-auth matches role ARNs without their path "
        f"(/team/): map {ROLE} instead"
    ]


def test_session_username_template_and_name_typo() -> None:
    templ = Mapping("aws-auth", ROLE, "ci:{{SessionName}}", [], section="mapRoles")
    assert resolve(f"arn:aws:sts::{A}:assumed-role/deployer/build-7", "CONFIG_MAP", [templ])["username"] == "ci:build-7"
    got = resolve(f"arn:aws:iam::{A}:role/deployr", "CONFIG_MAP", [AWS_AUTH])
    assert got["nearMisses"] == [f"aws-auth maps {ROLE}: name 'deployer' differs from 'deployr' by 1 character(s) (typo?)"]


def test_accounts_and_routing() -> None:
    acct = Mapping("aws-auth", A, None, [], section="mapAccounts")
    assert resolve(f"arn:aws:iam::{A}:user/anyone", "CONFIG_MAP", [acct])["mapped"] is True
    assert route("role", "auto", "CONFIG_MAP") == "aws-auth"
    assert route("role", "auto", "API_AND_CONFIG_MAP") == "access-entry"
    assert route("account", "auto", "API") == "aws-auth"
    assert later_mode("API_AND_CONFIG_MAP", "CONFIG_MAP") == "API_AND_CONFIG_MAP"
    with pytest.raises(InputError):
        resolve("not-an-arn", "API", [])
