"""The ownership rules: whose a resource is, from its tags, and the names of global resources."""

from __future__ import annotations

import pytest

from assistant.tags import (
    CLUSTER,
    CLUSTER_ARN,
    MANAGED_BY,
    RESOURCE,
    Owner,
    Ownership,
    global_names,
    is_ours,
    owner_of,
    ownership,
    role_name,
)

LK_US = Owner.of("lk", "us-east-1", "111111111111")
LK_EU = Owner.of("lk", "eu-west-1", "111111111111")
LK_US_OTHER_ACCOUNT = Owner.of("lk", "us-east-1", "222222222222")
LEGACY = {MANAGED_BY: "eks-assist", CLUSTER: "lk", RESOURCE: "iam-role/lk-cluster-role"}


def test_the_owner_is_the_cluster_arn_with_its_partition() -> None:
    assert LK_US.arn == "arn:aws:eks:us-east-1:111111111111:cluster/lk"
    assert Owner.of("lk", "cn-north-1", "111111111111").arn == "arn:aws-cn:eks:cn-north-1:111111111111:cluster/lk"
    assert Owner.of("lk", "us-gov-west-1", "111111111111").arn.startswith("arn:aws-us-gov:eks:us-gov-west-1:")


def test_tags_record_cluster_region_and_account() -> None:
    tags = ownership(LK_US, "vpc")
    assert tags == {MANAGED_BY: "eks-assist", CLUSTER: "lk", RESOURCE: "vpc", CLUSTER_ARN: LK_US.arn}


@pytest.mark.parametrize("scope", ["regional", "global"])
def test_ours_only_for_the_same_cluster_region_and_account(scope: str) -> None:
    tags = ownership(LK_US, "x")
    assert owner_of(tags, LK_US, scope=scope) is Ownership.OURS  # type: ignore[arg-type]
    # Same name, another region or account: someone else's, whatever the scope.
    assert owner_of(tags, LK_EU, scope=scope) is Ownership.OTHER  # type: ignore[arg-type]
    assert owner_of(tags, LK_US_OTHER_ACCOUNT, scope=scope) is Ownership.OTHER  # type: ignore[arg-type]
    assert owner_of(ownership(Owner.of("other", "us-east-1", "111111111111"), "x"), LK_US, scope=scope) is Ownership.OTHER  # type: ignore[arg-type]


def test_tags_from_before_regions_prove_ownership_only_where_the_resource_lives() -> None:
    # A VPC or node group lives in the cluster's region and account: its location says whose it is.
    assert owner_of(LEGACY, LK_US, scope="regional") is Ownership.OURS
    assert is_ours(LEGACY, LK_US)
    # An IAM role is global: it may serve lk in any region, so it is never provably ours.
    assert owner_of(LEGACY, LK_US, scope="global") is Ownership.LEGACY
    assert owner_of(LEGACY, LK_EU, scope="global") is Ownership.LEGACY
    assert not is_ours(LEGACY, LK_US, scope="global")
    # Tagged by an older eks-assist for another cluster name: another cluster's either way.
    assert owner_of({**LEGACY, CLUSTER: "other"}, LK_US, scope="global") is Ownership.OTHER


def test_untagged_or_half_tagged_is_foreign() -> None:
    assert owner_of(None, LK_US) is Ownership.FOREIGN
    assert owner_of({CLUSTER: "lk", CLUSTER_ARN: LK_US.arn}, LK_US) is Ownership.FOREIGN  # no managed-by: a lookalike
    assert owner_of({MANAGED_BY: "someone-else", CLUSTER: "lk"}, LK_US) is Ownership.FOREIGN


def test_role_names_differ_by_region_and_read_plainly() -> None:
    assert role_name("lk", "us-east-1", "cluster") == "lk-us-east-1-cluster-role"
    assert role_name("lk", "eu-west-1", "node") == "lk-eu-west-1-node-role"
    assert global_names("lk", "eu-west-1") == {"clusterRole": "lk-eu-west-1-cluster-role", "nodeRole": "lk-eu-west-1-node-role"}


@pytest.mark.parametrize("length", [36, 37, 60, 100])
def test_long_role_names_fit_iam_and_keep_region_and_kind(length: int) -> None:
    name = ("a" * (length - 1)) + "z"
    names = {
        (region, kind): role_name(name, region, kind)
        for region in ("us-east-1", "ap-southeast-1", "us-gov-west-1")
        for kind in ("cluster", "node")
    }
    for (region, kind), role in names.items():
        assert len(role) <= 64, role
        assert role.endswith(f"-{region}-{kind}-role"), role
        assert role.startswith("aaaa")
        assert role == role_name(name, region, kind)  # deterministic
    assert len(set(names.values())) == len(names)
    # Two long names that share their first characters still get different roles.
    assert role_name("b" * 99 + "x", "us-east-1", "node") != role_name("b" * 99 + "y", "us-east-1", "node")
