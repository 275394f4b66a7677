"""What the sandbox's EKS offers: Kubernetes versions, add-on versions and access policies."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CATALOGUE_FILE = Path(__file__).with_name("kubernetes_versions.toml")

STANDARD, EXTENDED, UNSUPPORTED = "STANDARD_SUPPORT", "EXTENDED_SUPPORT", "UNSUPPORTED"
# Statuses a cluster can be created on or upgraded to (EKS refuses UNSUPPORTED versions).
AVAILABLE = (STANDARD, EXTENDED)


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


@dataclass(frozen=True)
class KubernetesVersion:
    """One EKS Kubernetes version and its support window (UTC days)."""

    version: str
    patch: str
    platform_version: str
    release_date: dt.date
    end_of_standard_support: dt.date
    end_of_extended_support: dt.date

    def status_on(self, day: dt.date) -> str | None:
        """``STANDARD_SUPPORT``, ``EXTENDED_SUPPORT`` or ``UNSUPPORTED`` on ``day``; None before its release.

        Extended support (and its billing) starts at the beginning of the end-of-standard-support
        day, and EKS stops creating clusters on the end-of-extended-support day.
        """
        if day < self.release_date:
            return None
        if day < self.end_of_standard_support:
            return STANDARD
        if day < self.end_of_extended_support:
            return EXTENDED
        return UNSUPPORTED

    def to_api(self, day: dt.date, default: bool) -> dict[str, Any]:
        """The ``ClusterVersionInformation`` shape as of ``day``."""
        status = self.status_on(day) or UNSUPPORTED
        return {
            "clusterVersion": self.version,
            "clusterType": "eks",
            "defaultPlatformVersion": self.platform_version,
            "defaultVersion": default,
            "releaseDate": _midnight(self.release_date),
            "endOfStandardSupportDate": _midnight(self.end_of_standard_support),
            "endOfExtendedSupportDate": _midnight(self.end_of_extended_support),
            "status": status.lower().replace("_", "-"),  # the deprecated field: "extended-support"
            "versionStatus": status,
            "kubernetesPatchVersion": self.patch,
        }


def _date(entry: dict[str, Any], key: str, where: str) -> dt.date:
    value = entry.get(key)
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise ValueError(f"{where}: {key} must be a date (YYYY-MM-DD without quotes), got {value!r}")
    return value


def load_catalogue(path: Path = CATALOGUE_FILE) -> tuple[tuple[KubernetesVersion, ...], str]:
    """The versions in ``path`` (oldest first) and the configured default; ValueError says what is wrong."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    versions: list[KubernetesVersion] = []
    for i, entry in enumerate(data.get("versions") or []):
        where = f"{path.name}: versions[{i}]"
        name = entry.get("version")
        if not isinstance(name, str) or not re.fullmatch(r"\d+\.\d+", name):
            raise ValueError(f'{where}: version must be a string like "1.33", got {name!r}')
        version = KubernetesVersion(
            version=name,
            patch=str(entry.get("patch", "")),
            platform_version=str(entry.get("platform", "")),
            release_date=_date(entry, "released", where),
            end_of_standard_support=_date(entry, "end_of_standard_support", where),
            end_of_extended_support=_date(entry, "end_of_extended_support", where),
        )
        if not version.patch.startswith(name + "."):
            raise ValueError(f"{where}: patch {version.patch!r} is not a {name} release")
        if not re.fullmatch(r"eks\.\d+", version.platform_version):
            raise ValueError(f'{where}: platform must look like "eks.10", got {version.platform_version!r}')
        if not version.release_date < version.end_of_standard_support < version.end_of_extended_support:
            raise ValueError(f"{where}: dates must run released < end_of_standard_support < end_of_extended_support")
        if versions and name != next_minor(versions[-1].version):
            raise ValueError(f"{where}: {name} must follow {versions[-1].version} (oldest first, one minor at a time)")
        versions.append(version)
    if not versions:
        raise ValueError(f"{path.name}: no [[versions]]")
    default = data.get("default")
    if default not in {v.version for v in versions}:
        raise ValueError(f"{path.name}: default {default!r} is not one of the versions")
    return tuple(versions), str(default)


def next_minor(version: str) -> str:
    """``1.33`` → ``1.34``."""
    major, minor = version.split(".")[:2]
    return f"{major}.{int(minor) + 1}"


VERSIONS, CONFIGURED_DEFAULT = load_catalogue()
VERSION_NAMES: tuple[str, ...] = tuple(v.version for v in VERSIONS)


def find_version(name: str) -> KubernetesVersion | None:
    """The catalogue entry for ``name``, released or not."""
    return next((v for v in VERSIONS if v.version == name), None)


def default_version(day: dt.date) -> str:
    """The default on ``day``: the configured one while in standard support, else the newest in standard support."""
    configured = find_version(CONFIGURED_DEFAULT)
    if configured is not None and configured.status_on(day) == STANDARD:
        return CONFIGURED_DEFAULT
    standard = [v.version for v in VERSIONS if v.status_on(day) == STANDARD]
    return standard[-1] if standard else CONFIGURED_DEFAULT


def available_on(name: str, day: dt.date) -> bool:
    """True when EKS creates clusters on (or upgrades them to) ``name`` on ``day``."""
    version = find_version(name)
    return version is not None and version.status_on(day) in AVAILABLE


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
            AddonVersion("v1.12.2-eksbuild.4", ("1.33", "1.34", "1.35"), ("1.34", "1.35")),
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
