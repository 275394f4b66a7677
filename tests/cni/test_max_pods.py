"""Max pods from DescribeInstanceTypes match the EKS AMI's published eni-max-pods.txt values."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from assistant.errors import InputError
from assistant.network import capacity as cap

# awslabs/amazon-eks-ami templates/shared/runtime/eni-max-pods.txt (ENIs x (IPv4 per ENI - 1) + 2,
# default network card only).
PUBLISHED = {
    "t2.micro": 4,
    "t3.micro": 4,
    "t3.small": 11,
    "t3.medium": 17,
    "t3a.medium": 17,
    "m5.large": 29,
    "m5.xlarge": 58,
    "m5.2xlarge": 58,
    "m5.4xlarge": 234,
    "m5.8xlarge": 234,
    "m5.24xlarge": 737,
    "c5.large": 29,
    "c5.9xlarge": 234,
    "c5.18xlarge": 737,
    "r5.large": 29,
    "m6i.large": 29,
    "c6i.xlarge": 58,
    "p4d.24xlarge": 737,
    "p5.48xlarge": 100,
}


@pytest.fixture(scope="module")
def nets(ec2_client: Callable[[str], Any]) -> dict[str, cap.InstanceNetwork]:
    return cap.describe_instance_types(ec2_client, sorted(PUBLISHED))


@pytest.mark.parametrize(("instance_type", "expected"), sorted(PUBLISHED.items()))
def test_max_pods_match_published_values(nets: dict[str, cap.InstanceNetwork], instance_type: str, expected: int) -> None:
    assert cap.max_pods(nets[instance_type]).max_pods == expected


def test_multi_card_types_count_the_default_card_only(nets: dict[str, cap.InstanceNetwork]) -> None:
    p5 = nets["p5.48xlarge"]
    # 64 ENIs over 32 cards in total, but only card 0's 2 carry pods.
    assert (p5.network_cards, p5.enis, p5.ipv4_per_eni) == (32, 2, 50)
    assert cap.max_pods(p5).max_pods == 2 * 49 + 2


@pytest.mark.parametrize(
    ("instance_type", "pd_max", "recommended"),
    [
        ("m5.large", 3 * 9 * 16 + 2, 110),  # 2 vCPUs: capped at 110
        ("t3.micro", 2 * 1 * 16 + 2, 34),  # below the cap
        ("m5.24xlarge", 15 * 49 * 16 + 2, 250),  # 96 vCPUs: capped at 250
        ("c5.9xlarge", 8 * 29 * 16 + 2, 250),  # 36 vCPUs: above 30
        ("m5.8xlarge", 8 * 29 * 16 + 2, 250),  # 32 vCPUs
        ("m5.4xlarge", 8 * 29 * 16 + 2, 110),  # 16 vCPUs
    ],
)
def test_prefix_delegation_and_caps(
    nets: dict[str, cap.InstanceNetwork], instance_type: str, pd_max: int, recommended: int
) -> None:
    mp = cap.max_pods(nets[instance_type], prefix_delegation=True)
    assert (mp.prefix_delegation, mp.max_pods, mp.recommended) == (True, pd_max, recommended)


def test_recommended_caps_secondary_ip_mode_too(nets: dict[str, cap.InstanceNetwork]) -> None:
    # The calculator caps both modes unless --show-max-allowed.
    assert cap.max_pods(nets["m5.4xlarge"]).recommended == 110
    assert cap.max_pods(nets["m5.24xlarge"]).recommended == 250
    assert cap.max_pods(nets["m5.large"]).recommended == 29


def test_prefix_delegation_needs_nitro(nets: dict[str, cap.InstanceNetwork]) -> None:
    mp = cap.max_pods(nets["t2.micro"], prefix_delegation=True)
    assert (mp.prefix_delegation, mp.max_pods) == (False, 4)
    assert "not a Nitro instance" in mp.notes[0]


def test_custom_networking_and_max_eni(nets: dict[str, cap.InstanceNetwork]) -> None:
    assert cap.max_pods(nets["m5.large"], custom_networking=True).max_pods == 2 * 9 + 2
    assert cap.max_pods(nets["m5.xlarge"], max_eni=2).max_pods == 2 * 14 + 2
    assert cap.max_pods(nets["m5.xlarge"], max_eni=9).max_pods == 58  # capped at the type's ENIs
    assert cap.max_pods(nets["m5.large"], prefix_delegation=True, custom_networking=True).max_pods == 2 * 9 * 16 + 2


def test_node_ips_follow_warm_settings(nets: dict[str, cap.InstanceNetwork]) -> None:
    m5 = nets["m5.large"]
    # Default WARM_ENI_TARGET=1: an idle node holds 1 ENI (10 IPs), a full one all 3 ENIs.
    assert cap.node_ips(m5, cap.CniSettings(), 2).total == 10
    assert cap.node_ips(m5, cap.CniSettings(), 29).total == 30
    # WARM_IP_TARGET=2 with 10 pods: 8 pod IPs + 2 warm on 2 ENIs (+2 primary IPs).
    assert cap.node_ips(m5, cap.CniSettings(warm_ip_target=2), 10).total == 12
    assert cap.node_ips(m5, cap.CniSettings(minimum_ip_target=20), 2).total == 20 + 3
    # Prefix delegation, WARM_PREFIX_TARGET default 1: 110 pods use 7 prefixes + 1 warm on one ENI.
    pd = cap.node_ips(m5, cap.CniSettings(prefix_delegation=True), 110)
    assert (pd.prefixes, pd.enis, pd.total) == (8, 1, 8 * 16 + 1)
    # Custom networking: the node's subnet keeps only the primary IP.
    cn = cap.node_ips(m5, cap.CniSettings(custom_networking=True), 20)
    assert (cn.node_subnet, cn.pod_subnet) == (1, 2 * 10)


def test_unknown_instance_type_did_you_mean(ec2_client: Callable[[str], Any]) -> None:
    with pytest.raises(InputError) as exc:
        cap.describe_instance_types(ec2_client, ["m5.larg"])
    assert exc.value.exit_code == 2
    assert str(exc.value) == "unknown instance type 'm5.larg' in us-east-1; did you mean 'm5.large'?"


@pytest.mark.parametrize(
    ("cni", "field"),
    [
        ({"warmPrefixTarget": 1}, "warmPrefixTarget"),
        ({"prefixDelegation": True, "warmPrefixTarget": 0}, "warmPrefixTarget"),
        ({"prefixDelegation": True, "warmIpTarget": 0, "minimumIpTarget": 0}, "warmIpTarget"),
    ],
)
def test_rejected_cni_combinations(cni: dict[str, Any], field: str) -> None:
    problems = cap.check_settings(cap.CniSettings.from_spec(cni))
    assert [f for f, _ in problems] == [field]


def test_accepted_cni_combinations() -> None:
    for cni in ({}, {"prefixDelegation": True, "warmPrefixTarget": 2}, {"warmIpTarget": 5, "minimumIpTarget": 10}):
        assert cap.check_settings(cap.CniSettings.from_spec(cni)) == []
