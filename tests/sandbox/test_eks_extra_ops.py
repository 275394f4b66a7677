"""The EKS operations moto lacks, served by the sandbox: add-ons, access entries, updates, versions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .helpers import Network, PausableClock, create_cluster, unique, wait_cluster, wait_gone, wait_status


def _code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


@pytest.fixture
def cluster(aws: Callable[..., Any], network: Network) -> str:
    """A fresh ACTIVE cluster (CONFIG_MAP authentication, Kubernetes 1.32)."""
    eks = aws("eks")
    name = unique("ops")
    create_cluster(eks, network, name, version="1.32")
    wait_cluster(eks, name)
    return name


def test_create_cluster_keeps_access_and_network_config(aws: Callable[..., Any], network: Network) -> None:
    eks = aws("eks")
    name = unique("cfg")
    created = create_cluster(
        eks,
        network,
        name,
        accessConfig={"authenticationMode": "API_AND_CONFIG_MAP", "bootstrapClusterCreatorAdminPermissions": True},
        kubernetesNetworkConfig={"serviceIpv4Cidr": "10.100.0.0/16"},
    )
    assert created["version"] == "1.33"  # the default of DescribeClusterVersions
    assert created["accessConfig"] == {
        "authenticationMode": "API_AND_CONFIG_MAP",
        "bootstrapClusterCreatorAdminPermissions": True,
    }
    described = eks.describe_cluster(name=name)["cluster"]
    assert described["kubernetesNetworkConfig"]["serviceIpv4Cidr"] == "10.100.0.0/16"
    assert described["kubernetesNetworkConfig"]["ipFamily"] == "ipv4"
    assert described["resourcesVpcConfig"]["vpcId"] == network.vpc_id
    # With the API mode on, EKS gives the creator an admin access entry.
    entries = eks.list_access_entries(clusterName=name)["accessEntries"]
    assert len(entries) == 1
    policies = eks.list_associated_access_policies(clusterName=name, principalArn=entries[0])
    assert [p["policyArn"] for p in policies["associatedAccessPolicies"]] == [
        "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
    ]

    default = create_cluster(eks, network, unique("cfg"))
    assert default["accessConfig"]["authenticationMode"] == "CONFIG_MAP"


def test_create_cluster_validates_before_anything_is_stored(aws: Callable[..., Any], network: Network) -> None:
    eks = aws("eks")
    name = unique("bad")
    for kwargs in (
        {"version": "1.20"},
        {"accessConfig": {"authenticationMode": "CONFIG_MAP", "bootstrapClusterCreatorAdminPermissions": False}},
        {"roleArn": "arn:aws:iam::123456789012:role/does-not-exist"},
        {"resourcesVpcConfig": {"subnetIds": network.subnets[:1]}},
    ):
        params = {"name": name, "roleArn": network.cluster_role, "resourcesVpcConfig": {"subnetIds": network.subnets}}
        with pytest.raises(ClientError) as exc:
            eks.create_cluster(**{**params, **kwargs})
        assert _code(exc) == "InvalidParameterException", kwargs
    with pytest.raises(eks.exceptions.ResourceNotFoundException):
        eks.describe_cluster(name=name)


def test_describe_cluster_versions(aws: Callable[..., Any]) -> None:
    eks = aws("eks")
    versions = eks.describe_cluster_versions()["clusterVersions"]
    assert sorted(v["clusterVersion"] for v in versions) == ["1.29", "1.30", "1.31", "1.32", "1.33", "1.34"]
    assert [v["clusterVersion"] for v in versions if v["defaultVersion"]] == ["1.33"]
    standard = {v["clusterVersion"] for v in versions if v["versionStatus"] == "STANDARD_SUPPORT"}
    assert standard == {"1.32", "1.33", "1.34"}
    assert [v["clusterVersion"] for v in eks.describe_cluster_versions(defaultOnly=True)["clusterVersions"]] == ["1.33"]
    extended = eks.describe_cluster_versions(versionStatus="EXTENDED_SUPPORT")["clusterVersions"]
    assert {v["clusterVersion"] for v in extended} == {"1.29", "1.30", "1.31"}


def test_addon_round_trip(aws: Callable[..., Any], cluster: str, clock: PausableClock) -> None:
    eks = aws("eks")
    created = eks.create_addon(clusterName=cluster, addonName="vpc-cni")["addon"]
    assert created["status"] == "CREATING"
    assert created["addonVersion"] == "v1.19.6-eksbuild.1"
    active = wait_status(lambda: eks.describe_addon(clusterName=cluster, addonName="vpc-cni")["addon"], "ACTIVE")
    assert active["addonArn"] == created["addonArn"]
    assert eks.list_addons(clusterName=cluster)["addons"] == ["vpc-cni"]

    with clock.paused():
        update = eks.update_addon(
            clusterName=cluster,
            addonName="vpc-cni",
            configurationValues='{"env": {"ENABLE_PREFIX_DELEGATION": "true"}}',
            resolveConflicts="OVERWRITE",
        )["update"]
        assert update["type"] == "AddonUpdate" and update["status"] == "InProgress"
        assert eks.describe_addon(clusterName=cluster, addonName="vpc-cni")["addon"]["status"] == "UPDATING"
    wait_status(lambda: eks.describe_update(name=cluster, updateId=update["id"], addonName="vpc-cni")["update"], "Successful")
    assert eks.list_updates(name=cluster, addonName="vpc-cni")["updateIds"] == [update["id"]]
    assert eks.list_updates(name=cluster)["updateIds"] == []  # cluster-level updates only
    assert "PREFIX_DELEGATION" in eks.describe_addon(clusterName=cluster, addonName="vpc-cni")["addon"]["configurationValues"]

    deleted = eks.delete_addon(clusterName=cluster, addonName="vpc-cni")["addon"]
    assert deleted["status"] == "DELETING"
    wait_gone(lambda: eks.describe_addon(clusterName=cluster, addonName="vpc-cni"), eks.exceptions.ResourceNotFoundException)
    assert eks.list_addons(clusterName=cluster)["addons"] == []


def test_addon_errors(aws: Callable[..., Any], cluster: str) -> None:
    eks = aws("eks")
    with pytest.raises(ClientError) as exc:
        eks.create_addon(clusterName=cluster, addonName="no-such-addon")
    assert _code(exc) == "InvalidParameterException"
    with pytest.raises(ClientError) as exc:
        eks.create_addon(clusterName=cluster, addonName="coredns", addonVersion="v0.0.1")
    assert _code(exc) == "InvalidParameterException"
    eks.create_addon(clusterName=cluster, addonName="coredns")
    with pytest.raises(eks.exceptions.ResourceInUseException):
        eks.create_addon(clusterName=cluster, addonName="coredns")
    with pytest.raises(eks.exceptions.ResourceNotFoundException) as exc:
        eks.describe_addon(clusterName=cluster, addonName="kube-proxy")
    assert "No addon: kube-proxy found in cluster" in str(exc.value)
    with pytest.raises(eks.exceptions.ResourceNotFoundException):
        eks.list_addons(clusterName="no-such-cluster")


def test_describe_addon_versions(aws: Callable[..., Any]) -> None:
    eks = aws("eks")
    addons = eks.describe_addon_versions(kubernetesVersion="1.33")["addons"]
    names = {a["addonName"] for a in addons}
    assert {"vpc-cni", "coredns", "kube-proxy"} <= names
    kube_proxy = eks.describe_addon_versions(addonName="kube-proxy", kubernetesVersion="1.33")["addons"][0]
    versions = kube_proxy["addonVersions"]
    assert [v["addonVersion"] for v in versions] == ["v1.33.0-minimal-eksbuild.2"]
    assert versions[0]["compatibilities"][0]["defaultVersion"] is True


def test_access_entries_round_trip(aws: Callable[..., Any], cluster: str, network: Network) -> None:
    eks = aws("eks")
    principal = "arn:aws:iam::123456789012:role/team/platform-admins"
    with pytest.raises(ClientError) as exc:
        eks.create_access_entry(clusterName=cluster, principalArn=principal)
    assert _code(exc) == "InvalidRequestException"
    assert "authentication mode must be set to one of [API, API_AND_CONFIG_MAP]" in str(exc.value)

    update = eks.update_cluster_config(name=cluster, accessConfig={"authenticationMode": "API_AND_CONFIG_MAP"})["update"]
    assert update["type"] == "AccessConfigUpdate"
    assert update["params"] == [{"type": "AuthenticationMode", "value": "API_AND_CONFIG_MAP"}]
    wait_status(lambda: eks.describe_update(name=cluster, updateId=update["id"])["update"], "Successful")
    described = wait_cluster(eks, cluster)
    assert described["accessConfig"]["authenticationMode"] == "API_AND_CONFIG_MAP"

    entry = eks.create_access_entry(clusterName=cluster, principalArn=principal, kubernetesGroups=["platform"])["accessEntry"]
    assert entry["type"] == "STANDARD"
    assert entry["username"] == "arn:aws:sts::123456789012:assumed-role/platform-admins/{{SessionName}}"
    assert f"access-entry/{cluster}/role/123456789012/platform-admins/" in entry["accessEntryArn"]
    with pytest.raises(eks.exceptions.ResourceInUseException):
        eks.create_access_entry(clusterName=cluster, principalArn=principal)
    with pytest.raises(ClientError) as exc:
        eks.create_access_entry(
            clusterName=cluster, principalArn="arn:aws:iam::123456789012:role/x", kubernetesGroups=["system:masters"]
        )
    assert _code(exc) == "InvalidParameterException"

    updated = eks.update_access_entry(clusterName=cluster, principalArn=principal, username="platform-admin")
    assert updated["accessEntry"]["username"] == "platform-admin"
    assert eks.describe_access_entry(clusterName=cluster, principalArn=principal)["accessEntry"]["kubernetesGroups"] == [
        "platform"
    ]

    view = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"
    associated = eks.associate_access_policy(
        clusterName=cluster,
        principalArn=principal,
        policyArn=view,
        accessScope={"type": "namespace", "namespaces": ["apps"]},
    )
    assert associated["associatedAccessPolicy"]["accessScope"] == {"type": "namespace", "namespaces": ["apps"]}
    listed = eks.list_associated_access_policies(clusterName=cluster, principalArn=principal)["associatedAccessPolicies"]
    assert [p["policyArn"] for p in listed] == [view]
    assert eks.list_access_entries(clusterName=cluster, associatedPolicyArn=view)["accessEntries"] == [principal]
    with pytest.raises(ClientError) as exc:
        eks.associate_access_policy(
            clusterName=cluster, principalArn=principal, policyArn=view, accessScope={"type": "namespace"}
        )
    assert _code(exc) == "InvalidParameterException"
    policy_names = {p["name"] for p in eks.list_access_policies()["accessPolicies"]}
    assert {"AmazonEKSClusterAdminPolicy", "AmazonEKSAdminPolicy", "AmazonEKSEditPolicy", "AmazonEKSViewPolicy"} <= policy_names

    eks.disassociate_access_policy(clusterName=cluster, principalArn=principal, policyArn=view)
    assert eks.list_associated_access_policies(clusterName=cluster, principalArn=principal)["associatedAccessPolicies"] == []
    eks.delete_access_entry(clusterName=cluster, principalArn=principal)
    with pytest.raises(eks.exceptions.ResourceNotFoundException):
        eks.describe_access_entry(clusterName=cluster, principalArn=principal)


def test_authentication_mode_only_moves_forward(aws: Callable[..., Any], cluster: str, clock: PausableClock) -> None:
    eks = aws("eks")
    with pytest.raises(ClientError) as exc:
        eks.update_cluster_config(name=cluster, accessConfig={"authenticationMode": "API"})
    assert _code(exc) == "InvalidParameterException"
    assert "Unsupported authentication mode update from CONFIG_MAP to API" in str(exc.value)
    with clock.paused():
        update = eks.update_cluster_config(name=cluster, accessConfig={"authenticationMode": "API_AND_CONFIG_MAP"})["update"]
        with pytest.raises(eks.exceptions.ResourceInUseException):
            eks.update_cluster_config(name=cluster, logging={"clusterLogging": [{"types": ["api"], "enabled": True}]})
    wait_status(lambda: eks.describe_update(name=cluster, updateId=update["id"])["update"], "Successful")
    wait_cluster(eks, cluster)
    for backwards in ("CONFIG_MAP", "API_AND_CONFIG_MAP"):
        with pytest.raises(ClientError) as exc:
            eks.update_cluster_config(name=cluster, accessConfig={"authenticationMode": backwards})
        assert _code(exc) == "InvalidParameterException"


def test_update_cluster_version(aws: Callable[..., Any], cluster: str, clock: PausableClock) -> None:
    eks = aws("eks")
    with pytest.raises(ClientError) as exc:
        eks.update_cluster_version(name=cluster, version="1.34")  # two minors at once
    assert _code(exc) == "InvalidParameterException"
    with clock.paused():
        update = eks.update_cluster_version(name=cluster, version="1.33")["update"]
        assert update["type"] == "VersionUpdate" and update["status"] == "InProgress"
        assert {"type": "Version", "value": "1.33"} in update["params"]
        during = eks.describe_cluster(name=cluster)["cluster"]
        assert during["status"] == "UPDATING" and during["version"] == "1.32"
    done = wait_status(lambda: eks.describe_update(name=cluster, updateId=update["id"])["update"], "Successful")
    assert done["id"] == update["id"]
    after = wait_cluster(eks, cluster)
    assert after["version"] == "1.33"
    assert eks.list_updates(name=cluster)["updateIds"] == [update["id"]]
    with pytest.raises(eks.exceptions.ResourceNotFoundException):
        eks.describe_update(name=cluster, updateId="00000000-0000-0000-0000-000000000000")
