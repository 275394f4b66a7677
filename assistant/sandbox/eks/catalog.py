"""What the sandbox's EKS offers: Kubernetes versions, add-on versions and access policies."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

DEFAULT_VERSION = "1.33"


@dataclass(frozen=True)
class KubernetesVersion:
    """One EKS Kubernetes version and its support window."""

    version: str
    patch: str
    platform_version: str
    release_date: dt.date
    end_of_standard_support: dt.date
    end_of_extended_support: dt.date
    standard_support: bool

    def to_api(self) -> dict[str, Any]:
        """The ``ClusterVersionInformation`` shape."""

        def at(day: dt.date) -> dt.datetime:
            return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)

        status = "STANDARD_SUPPORT" if self.standard_support else "EXTENDED_SUPPORT"
        return {
            "clusterVersion": self.version,
            "clusterType": "eks",
            "defaultPlatformVersion": self.platform_version,
            "defaultVersion": self.version == DEFAULT_VERSION,
            "releaseDate": at(self.release_date),
            "endOfStandardSupportDate": at(self.end_of_standard_support),
            "endOfExtendedSupportDate": at(self.end_of_extended_support),
            "status": status.lower().replace("_", "-"),
            "versionStatus": status,
            "kubernetesPatchVersion": self.patch,
        }


def _v(version: str, patch: str, released: str, standard: bool) -> KubernetesVersion:
    day = dt.date.fromisoformat(released)
    # EKS gives each version 14 months of standard support, then 12 months of extended support.
    return KubernetesVersion(
        version=version,
        patch=patch,
        platform_version="eks.10",
        release_date=day,
        end_of_standard_support=day + dt.timedelta(days=426),
        end_of_extended_support=day + dt.timedelta(days=791),
        standard_support=standard,
    )


# Oldest first. The newest three are in standard support, the rest in extended support.
VERSIONS: tuple[KubernetesVersion, ...] = (
    _v("1.29", "1.29.15", "2024-01-23", False),
    _v("1.30", "1.30.14", "2024-05-23", False),
    _v("1.31", "1.31.10", "2024-09-26", False),
    _v("1.32", "1.32.6", "2025-01-23", True),
    _v("1.33", "1.33.2", "2025-05-29", True),
    _v("1.34", "1.34.1", "2025-10-02", True),
)
VERSION_NAMES: tuple[str, ...] = tuple(v.version for v in VERSIONS)


def next_minor(version: str) -> str:
    """``1.33`` → ``1.34``."""
    major, minor = version.split(".")[:2]
    return f"{major}.{int(minor) + 1}"


@dataclass(frozen=True)
class AddonVersion:
    """One version of an add-on and the Kubernetes versions it supports."""

    version: str
    kubernetes: tuple[str, ...]
    default_for: tuple[str, ...] = ()


def _per_minor(prefix: str, build: str) -> tuple[AddonVersion, ...]:
    return tuple(AddonVersion(f"v{k}.0-{prefix}{build}", (k,), (k,)) for k in VERSION_NAMES)


ADDONS: dict[str, tuple[str, tuple[AddonVersion, ...]]] = {
    "vpc-cni": (
        "networking",
        (
            AddonVersion("v1.19.6-eksbuild.1", VERSION_NAMES, VERSION_NAMES),
            AddonVersion("v1.19.2-eksbuild.1", VERSION_NAMES),
            AddonVersion("v1.18.6-eksbuild.1", ("1.29", "1.30", "1.31", "1.32")),
        ),
    ),
    "coredns": (
        "networking",
        (
            AddonVersion("v1.12.2-eksbuild.4", ("1.33", "1.34"), ("1.34",)),
            AddonVersion(
                "v1.11.4-eksbuild.14", ("1.29", "1.30", "1.31", "1.32", "1.33"), ("1.29", "1.30", "1.31", "1.32", "1.33")
            ),
        ),
    ),
    "kube-proxy": ("networking", _per_minor("minimal-", "eksbuild.2")),
    "aws-ebs-csi-driver": ("storage", (AddonVersion("v1.45.0-eksbuild.2", VERSION_NAMES, VERSION_NAMES),)),
    "eks-pod-identity-agent": (
        "security",
        (AddonVersion("v1.3.7-eksbuild.2", VERSION_NAMES, VERSION_NAMES),),
    ),
}


def addon_versions(addon: str, kubernetes_version: str) -> list[AddonVersion]:
    """Versions of ``addon`` that run on ``kubernetes_version``, newest first."""
    _type, versions = ADDONS.get(addon, ("", ()))
    return [v for v in versions if kubernetes_version in v.kubernetes]


def default_addon_version(addon: str, kubernetes_version: str) -> str | None:
    """The version EKS installs when none is asked for."""
    candidates = addon_versions(addon, kubernetes_version)
    for candidate in candidates:
        if kubernetes_version in candidate.default_for:
            return candidate.version
    return candidates[0].version if candidates else None


def addon_info(addon: str, kubernetes_version: str | None) -> dict[str, Any]:
    """The ``AddonInfo`` shape, filtered to one Kubernetes version when given."""
    addon_type, versions = ADDONS[addon]
    listed = []
    for version in versions:
        clusters = [k for k in version.kubernetes if kubernetes_version in (None, k)]
        if not clusters:
            continue
        listed.append(
            {
                "addonVersion": version.version,
                "architecture": ["amd64", "arm64"],
                "computeTypes": ["ec2"],
                "compatibilities": [
                    {"clusterVersion": k, "platformVersions": ["*"], "defaultVersion": k in version.default_for} for k in clusters
                ],
                "requiresConfiguration": False,
                "requiresIamPermissions": addon == "aws-ebs-csi-driver",
            }
        )
    return {"addonName": addon, "type": addon_type, "addonVersions": listed, "publisher": "eks", "owner": "aws"}


ACCESS_POLICY_PREFIX = "arn:aws:eks::aws:cluster-access-policy/"
ACCESS_POLICIES: tuple[str, ...] = (
    "AmazonEKSAdminPolicy",
    "AmazonEKSAdminViewPolicy",
    "AmazonEKSClusterAdminPolicy",
    "AmazonEKSEditPolicy",
    "AmazonEKSViewPolicy",
)


def access_policy_arns() -> list[str]:
    """ARNs of every access policy the sandbox knows."""
    return [ACCESS_POLICY_PREFIX + name for name in ACCESS_POLICIES]


# Instance types the sandbox never has capacity for, in any zone. A node group that asks only
# for these is accepted (as EKS accepts it) and goes CREATE_FAILED once its create time has
# passed, with the health issue EKS reports when its Auto Scaling group cannot launch
# instances. p5.48xlarge is scarce on real AWS too; drills use it for a permanent failure.
NO_CAPACITY_INSTANCE_TYPES: frozenset[str] = frozenset({"p5.48xlarge"})


def launch_failure(instance_types: list[str], capacity_type: str, zone: str, asg_name: str) -> dict[str, Any] | None:
    """The health issue of a node group that cannot launch any instance, or None when it can.

    One type with capacity is enough, as with a real Auto Scaling group that falls back.
    """
    if not instance_types or not set(instance_types) <= NO_CAPACITY_INSTANCE_TYPES:
        return None
    kind = "Spot" if capacity_type == "SPOT" else "On-Demand"
    message = (
        f"Could not launch {kind} Instances. InsufficientInstanceCapacity - We currently do not have sufficient "
        f"{instance_types[0]} capacity in the Availability Zone you requested ({zone}). Our system will be working on "
        "provisioning additional capacity. Launching EC2 instance failed."
    )
    return {"code": "AsgInstanceLaunchFailures", "message": message, "resourceIds": [asg_name]}
