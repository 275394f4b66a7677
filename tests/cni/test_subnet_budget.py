"""Subnet IP budgets at max scale, and the plan warnings they produce."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from assistant.network import capacity as cap
from assistant.spec import load_spec

SPEC = """\
apiVersion: eks-assist/v1
kind: Cluster
metadata:
  name: budget
  region: us-east-1
masters:
  vpc:
    create:
      cidr: {cidr}
      azCount: 2
cni:
  prefixDelegation: {pd}
workers:
  - name: web
    instanceTypes: [m5.large]
    scaling: {{min: 1, desired: 2, max: 10}}
"""


def spec(tmp_path: Path, cidr: str, pd: bool = False) -> dict[str, Any]:
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC.format(cidr=cidr, pd=str(pd).lower()), encoding="utf-8")
    return load_spec(path).spec.canonical()


def test_small_subnets_warn_with_advice(tmp_path: Path, ec2_client: Callable[[str], Any]) -> None:
    # A /24 VPC splits into two /26 subnets: 59 usable IPs each; 5 full m5.large nodes need 150.
    warnings = cap.capacity_warnings(spec(tmp_path, "10.0.0.0/24"), ec2_client)
    assert len(warnings) == 2
    assert warnings[0].startswith(
        "subnet 10.0.0.0/26 has 59 free IPs once created but node groups web need 150 for nodes at max scale"
    )
    assert "enable cni.prefixDelegation" in warnings[0]
    assert "bigger subnets" in warnings[0]
    assert "secondary VPC CIDR" in warnings[0] and "cni.customNetworking" in warnings[0]


def test_large_subnets_do_not_warn(tmp_path: Path, ec2_client: Callable[[str], Any]) -> None:
    assert cap.capacity_warnings(spec(tmp_path, "10.0.0.0/16"), ec2_client) == []


def test_prefix_delegation_changes_the_budget(tmp_path: Path, ec2_client: Callable[[str], Any]) -> None:
    loads = cap.subnet_budget(spec(tmp_path, "10.0.0.0/24", pd=True), ec2_client)
    # 110 pods per node: 7 prefixes in use + 1 warm = 128 IPs + the ENI's primary IP; 5 nodes per subnet.
    assert [(s.ref, s.free, s.needed) for s in loads] == [("10.0.0.0/26", 59, 5 * 129), ("10.0.0.64/26", 59, 5 * 129)]


def test_existing_subnets_use_describe_subnets(ec2_client: Callable[[str], Any]) -> None:
    ec2 = ec2_client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    small = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.0.0/27", AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    big = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.64.0/18", AvailabilityZone="us-east-1b")["Subnet"]["SubnetId"]
    canonical = {
        "masters": {"vpc": {"existing": {"subnetIds": [small, big]}}},
        "cni": {},
        "workers": [{"name": "ng", "instanceTypes": ["t3.medium"], "scaling": {"max": 4}, "subnetIds": []}],
    }
    warnings = cap.capacity_warnings(canonical, ec2_client)
    assert len(warnings) == 1
    assert warnings[0].startswith(f"subnet {small} (10.9.0.0/27) has 27 free IPs but node groups ng need 36 ")


def test_unknown_type_is_left_to_preflight(ec2_client: Callable[[str], Any]) -> None:
    canonical = {
        "masters": {"vpc": {"create": {"cidr": "10.0.0.0/24", "azCount": 2}}},
        "workers": [{"name": "ng", "instanceTypes": ["m5.larg"], "scaling": {"max": 4}}],
    }
    assert cap.capacity_warnings(canonical, ec2_client) == []


def test_custom_networking_moves_pod_ips_to_the_pod_subnets(ec2_client: Callable[[str], Any]) -> None:
    ec2 = ec2_client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    ec2.associate_vpc_cidr_block(VpcId=vpc, CidrBlock="100.64.0.0/16")
    nodes = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.8.{i}.0/27", AvailabilityZone=f"us-east-1{z}")["Subnet"]["SubnetId"]
        for i, z in enumerate("ab")
    ]
    pods = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"100.64.{i * 64}.0/18", AvailabilityZone=f"us-east-1{z}")["Subnet"]["SubnetId"]
        for i, z in enumerate("ab")
    ]
    canonical = {
        "masters": {"vpc": {"existing": {"subnetIds": nodes}}},
        "cni": {
            "customNetworking": {
                "enabled": True,
                "eniConfigs": [
                    {"availabilityZone": "us-east-1a", "subnetId": pods[0]},
                    {"availabilityZone": "us-east-1b", "subnetId": pods[1]},
                ],
            }
        },
        "workers": [{"name": "ng", "instanceTypes": ["m5.large"], "scaling": {"max": 20}}],
    }
    loads = {s.ref: s for s in cap.subnet_budget(canonical, ec2_client)}
    # Nodes keep one IP each in their /27s; 20 pods per node (2 pod ENIs of 10) land in the pod subnets.
    assert [(loads[n].needed, loads[n].role) for n in nodes] == [(10, "nodes"), (10, "nodes")]
    assert [(loads[p].needed, loads[p].role) for p in pods] == [(200, "pods (custom networking)")] * 2
    assert cap.capacity_warnings(canonical, ec2_client) == []


def test_ip_targets_override_warm_prefix_target_note() -> None:
    cni = {"prefixDelegation": True, "warmPrefixTarget": 1, "warmIpTarget": 5}
    assert cap.settings_notes({"cni": cni}) == [
        "cni.warmPrefixTarget is ignored: warmIpTarget/minimumIpTarget override it with prefix delegation"
    ]
