"""``eks-assist access check|list``: who a principal is in the cluster, and why (read-only)."""

from __future__ import annotations

import json
from pathlib import Path

from ..cli.conftest import CliRunner
from ..integration.conftest import owned
from .conftest import ACCOUNT, NODE_ROLE, World, write_spec
from .test_mappings_apply import ADMIN, DEV, MAPPINGS, _apply


def _check(cli: CliRunner, principal: str) -> dict[str, object]:
    r = cli("access", "check", "--cluster", "demo", "--principal", principal, "-o", "json")
    assert r.code == 0, r.err
    return dict(json.loads(r.out))


def test_access_check_and_list(world: World, cli: CliRunner, tmp_path: Path) -> None:
    _apply(cli, write_spec(tmp_path, MAPPINGS))
    before = owned(world.sandbox.inventory())

    role = _check(cli, ADMIN)
    assert (role["mapped"], role["username"], role["groups"], role["source"]) == (True, "admin", ["platform-admins"], "aws-auth")
    assert role["rule"] == {
        "source": "aws-auth",
        "section": "mapRoles",
        "arn": ADMIN,
        "username": "admin",
        "groups": ["platform-admins"],
    }

    session = _check(cli, f"arn:aws:sts::{ACCOUNT}:assumed-role/admin/alice")
    assert (session["mapped"], session["username"], session["source"]) == (True, "admin", "aws-auth")
    assert session["notes"] == [f"matched as {ADMIN}"]

    user = _check(cli, DEV)
    assert (user["mapped"], user["source"], user["groups"]) == (True, "access-entry", ["developers"])
    assert user["accessPolicies"] == [{"policy": "AmazonEKSEditPolicy", "scope": "namespace", "namespaces": ["dev", "staging"]}]

    typo = _check(cli, "arn:aws:iam::123456789013:role/admin")
    assert typo["mapped"] is False
    assert typo["nearMisses"] == [f"aws-auth maps {ADMIN}: account {ACCOUNT} differs from 123456789013 by 1 digit(s) (typo?)"]

    text = cli("access", "check", "--cluster", "demo", "--principal", f"arn:aws:sts::{ACCOUNT}:assumed-role/admin/alice")
    assert text.code == 0
    assert text.out == (
        f"arn:aws:sts::{ACCOUNT}:assumed-role/admin/alice is mapped on demo (authenticationMode API_AND_CONFIG_MAP)\n"
        "  username: admin\n"
        "  groups:   platform-admins\n"
        f"  granted by: aws-auth mapRoles for {ADMIN}\n"
        f"  note: matched as {ADMIN}\n"
    )
    miss = cli("access", "check", "--cluster", "demo", "--principal", "arn:aws:iam::123456789013:role/admin")
    assert miss.out == (
        "arn:aws:iam::123456789013:role/admin is NOT mapped on demo (authenticationMode API_AND_CONFIG_MAP)\n"
        "  no aws-auth entry or access entry maps this principal; Kubernetes will reject it (401)\n"
        f"  near miss: aws-auth maps {ADMIN}: account {ACCOUNT} differs from 123456789013 by 1 digit(s) (typo?)\n"
    )

    listed = json.loads(cli("access", "list", "--cluster", "demo", "-o", "json").out)
    got = {(m["source"], m["arn"]) for m in listed["mappings"]}
    assert {("aws-auth", ADMIN), ("aws-auth", NODE_ROLE), ("access-entry", DEV)} <= got
    assert listed["authenticationMode"] == "API_AND_CONFIG_MAP"
    assert owned(world.sandbox.inventory()) == before, "access check/list are read-only"


def test_malformed_principal_exits_2(cli: CliRunner) -> None:
    r = cli("access", "check", "--cluster", "demo", "--principal", "arn:aws:iam::123:role/x")
    assert r.code == 2
    assert r.err.strip() == (
        "error: --principal: 'arn:aws:iam::123:role/x' is not an IAM principal ARN (like arn:aws:iam::111122223333:role/name, "
        "arn:aws:iam::111122223333:user/name or arn:aws:sts::111122223333:assumed-role/name/session)"
    )
