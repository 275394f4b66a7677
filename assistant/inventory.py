"""Read-only AWS queries behind the front ends' pickers and dashboards.

Clusters with their node groups, add-ons and IAM mappings; the Kubernetes versions EKS
offers; VPCs and subnets with their Availability Zone and free IPs; and the instance-type
catalogue with vCPUs, memory and max pods. Every call here is a Describe/List/Get, so the
mutation guard never has anything to refuse: these run outside any approved apply.

The instance-type catalogue is large (about 1,400 types: seconds to fetch and parse), so
it is cached on disk per account, region and endpoint kind for :data:`CATALOGUE_TTL`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from assistant.identity.access import Mapping
from assistant.network.capacity import InstanceNetwork, max_pods

# What EKS offered when DescribeClusterVersions is unavailable (older endpoints, or an
# account without the permission): standard and extended support as of October 2025.
FALLBACK_VERSIONS: tuple[str, ...] = ("1.34", "1.33", "1.32", "1.31", "1.30", "1.29")
CATALOGUE_TTL = 7 * 24 * 3600.0
CATALOGUE_FORMAT = 1


@dataclass(frozen=True)
class ClusterSummary:
    """One row of the clusters dashboard."""

    name: str
    status: str
    version: str
    endpoint: str
    nodegroups: int


@dataclass(frozen=True)
class NodeGroupInfo:
    """A node group as DescribeNodegroup reports it."""

    name: str
    status: str
    version: str
    instance_types: tuple[str, ...]
    capacity_type: str
    ami_type: str
    min: int
    desired: int
    max: int


@dataclass(frozen=True)
class AddonInfo:
    """An EKS add-on and its version."""

    name: str
    version: str
    status: str


@dataclass
class ClusterDetails:
    """Everything the details view shows for one cluster."""

    name: str
    arn: str
    status: str
    version: str
    endpoint: str
    authentication_mode: str
    nodegroups: list[NodeGroupInfo] = field(default_factory=list)
    addons: list[AddonInfo] = field(default_factory=list)
    mappings: list[Mapping] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class KubernetesVersion:
    """A Kubernetes version EKS offers, with its support status in words and the day that status ends."""

    version: str
    status: str  # "standard support", "extended support" (or "" when unknown)
    default: bool
    until: str = ""  # YYYY-MM-DD: the end of standard support, or of extended support when in it


@dataclass(frozen=True)
class VpcInfo:
    """A VPC for the existing-VPC picker."""

    id: str
    cidr: str
    name: str
    is_default: bool


@dataclass(frozen=True)
class SubnetInfo:
    """A subnet with what matters for EKS: its AZ and how many addresses are free."""

    id: str
    vpc_id: str
    availability_zone: str
    cidr: str
    free_ips: int
    name: str


@dataclass(frozen=True)
class InstanceTypeInfo:
    """One instance type for the picker: size and pod capacity (VPC CNI defaults and with prefix delegation)."""

    name: str
    vcpus: int
    memory_mib: int
    max_pods: int
    max_pods_prefix: int
    architectures: tuple[str, ...]
    nitro: bool
    current_generation: bool

    @property
    def memory_gib(self) -> float:
        return self.memory_mib / 1024


def _name_tag(tags: list[dict[str, str]] | None) -> str:
    return next((t["Value"] for t in tags or [] if t.get("Key") == "Name"), "")


# -- clusters ------------------------------------------------------------------------------


def list_clusters(aws: Any) -> list[ClusterSummary]:
    """Every EKS cluster in the region, sorted by name, with its status and node-group count."""
    eks = aws.client("eks")
    out: list[ClusterSummary] = []
    for page in eks.get_paginator("list_clusters").paginate():
        for name in page["clusters"]:
            c = eks.describe_cluster(name=name)["cluster"]
            groups = sum(len(p["nodegroups"]) for p in eks.get_paginator("list_nodegroups").paginate(clusterName=name))
            out.append(ClusterSummary(name, c.get("status", ""), c.get("version", ""), c.get("endpoint") or "", groups))
    return sorted(out, key=lambda c: c.name)


def _nodegroups(eks: Any, cluster: str) -> list[NodeGroupInfo]:
    groups = []
    for page in eks.get_paginator("list_nodegroups").paginate(clusterName=cluster):
        for name in page["nodegroups"]:
            ng = eks.describe_nodegroup(clusterName=cluster, nodegroupName=name)["nodegroup"]
            sc = ng.get("scalingConfig") or {}
            groups.append(
                NodeGroupInfo(
                    name=name,
                    status=ng.get("status", ""),
                    version=ng.get("version", ""),
                    instance_types=tuple(ng.get("instanceTypes") or ()),
                    capacity_type=ng.get("capacityType", ""),
                    ami_type=ng.get("amiType", ""),
                    min=int(sc.get("minSize", 0)),
                    desired=int(sc.get("desiredSize", 0)),
                    max=int(sc.get("maxSize", 0)),
                )
            )
    return sorted(groups, key=lambda g: g.name)


def _addons(eks: Any, cluster: str) -> list[AddonInfo]:
    addons = []
    for page in eks.get_paginator("list_addons").paginate(clusterName=cluster):
        for name in page["addons"]:
            a = eks.describe_addon(clusterName=cluster, addonName=name)["addon"]
            addons.append(AddonInfo(name, a.get("addonVersion", ""), a.get("status", "")))
    return sorted(addons, key=lambda a: a.name)


def cluster_details(aws: Any, name: str) -> ClusterDetails:
    """Node groups, add-ons and IAM mappings of one cluster (InputError if it does not exist)."""
    import botocore.exceptions

    from assistant.run.runner import describe_error

    from .errors import InputError

    eks = aws.client("eks")
    try:
        c = eks.describe_cluster(name=name)["cluster"]
    except botocore.exceptions.ClientError as exc:
        if exc.response["Error"]["Code"] == "ResourceNotFoundException":
            raise InputError(f"no EKS cluster named '{name}' in {aws.region}") from None
        raise
    details = ClusterDetails(
        name=name,
        arn=c.get("arn", ""),
        status=c.get("status", ""),
        version=c.get("version", ""),
        endpoint=c.get("endpoint") or "",
        authentication_mode=(c.get("accessConfig") or {}).get("authenticationMode", "CONFIG_MAP"),
        nodegroups=_nodegroups(eks, name),
    )
    try:
        details.addons = _addons(eks, name)
    except botocore.exceptions.ClientError as exc:
        details.notes.append(f"add-ons could not be listed: {describe_error(exc)}")
    if details.status != "ACTIVE":
        details.notes.append(f"the cluster is {details.status}: its IAM mappings can be read once it is ACTIVE")
        return details
    from assistant.identity.access import read_mappings

    try:
        _mode, details.mappings, notes = read_mappings(aws, name)
        details.notes.extend(notes)
    except Exception as exc:  # an unreachable API server must not hide the rest of the details
        details.notes.append(f"IAM mappings could not be read: {describe_error(exc)}")
    return details


# -- versions, network ---------------------------------------------------------------------


def _kubernetes_version(entry: dict[str, Any]) -> KubernetesVersion:
    """One ``ClusterVersionInformation``; ``versionStatus`` first, as the deprecated ``status`` may be empty."""
    status = str(entry.get("versionStatus") or str(entry.get("status") or "").upper().replace("-", "_"))
    ends = {"STANDARD_SUPPORT": "endOfStandardSupportDate", "EXTENDED_SUPPORT": "endOfExtendedSupportDate"}.get(status)
    end = entry.get(ends) if ends else None
    until = end.astimezone(dt.UTC).date().isoformat() if isinstance(end, dt.datetime) and end.tzinfo else ""
    words = status.lower().replace("_", " ")
    return KubernetesVersion(str(entry["clusterVersion"]), words, bool(entry.get("defaultVersion")), until)


def kubernetes_versions(aws: Any) -> tuple[list[KubernetesVersion], str]:
    """(versions newest first, source): from DescribeClusterVersions, else :data:`FALLBACK_VERSIONS`.

    ``source`` is ``"eks"`` or ``"fallback"`` so a UI can say where the list came from.
    """
    import botocore.exceptions

    eks = aws.client("eks")
    try:
        found: list[KubernetesVersion] = []
        kwargs: dict[str, Any] = {}
        while True:
            page = eks.describe_cluster_versions(**kwargs)
            for v in page.get("clusterVersions", []):
                found.append(_kubernetes_version(v))
            if not page.get("nextToken"):
                break
            kwargs["nextToken"] = page["nextToken"]
    except (botocore.exceptions.ClientError, AttributeError):
        # AttributeError: a botocore too old to know the operation.
        found = []
    if found:
        return sorted(found, key=lambda v: tuple(int(p) for p in v.version.split(".")), reverse=True), "eks"
    from assistant.spec import DEFAULT_VERSION

    return [KubernetesVersion(v, "", v == DEFAULT_VERSION) for v in FALLBACK_VERSIONS], "fallback"


def vpcs(aws: Any) -> list[VpcInfo]:
    """Every VPC in the region, default VPC first, then by Name tag and ID."""
    out = []
    for page in aws.client("ec2").get_paginator("describe_vpcs").paginate():
        for v in page["Vpcs"]:
            out.append(VpcInfo(v["VpcId"], v.get("CidrBlock", ""), _name_tag(v.get("Tags")), bool(v.get("IsDefault"))))
    return sorted(out, key=lambda v: (not v.is_default, v.name, v.id))


def subnets(aws: Any, vpc_id: str | None = None) -> list[SubnetInfo]:
    """Subnets (of one VPC, or all), sorted by AZ then CIDR, with free IPs (AvailableIpAddressCount)."""
    kwargs: dict[str, Any] = {"Filters": [{"Name": "vpc-id", "Values": [vpc_id]}]} if vpc_id else {}
    out = []
    for page in aws.client("ec2").get_paginator("describe_subnets").paginate(**kwargs):
        for s in page["Subnets"]:
            out.append(
                SubnetInfo(
                    id=s["SubnetId"],
                    vpc_id=s.get("VpcId", ""),
                    availability_zone=s.get("AvailabilityZone", ""),
                    cidr=s.get("CidrBlock", ""),
                    free_ips=int(s.get("AvailableIpAddressCount", 0)),
                    name=_name_tag(s.get("Tags")),
                )
            )
    return sorted(out, key=lambda s: (s.availability_zone, s.cidr, s.id))


# -- instance types ------------------------------------------------------------------------


def instance_type_info(it: dict[str, Any]) -> InstanceTypeInfo:
    """One ``DescribeInstanceTypes`` entry as a picker row (max pods by :mod:`assistant.network.capacity`)."""
    net = InstanceNetwork.from_describe(it)
    return InstanceTypeInfo(
        name=it["InstanceType"],
        vcpus=net.vcpus,
        memory_mib=int((it.get("MemoryInfo") or {}).get("SizeInMiB") or 0),
        max_pods=max_pods(net).recommended,
        max_pods_prefix=max_pods(net, prefix_delegation=True).recommended,
        architectures=tuple((it.get("ProcessorInfo") or {}).get("SupportedArchitectures") or ()),
        nitro=net.nitro,
        current_generation=bool(it.get("CurrentGeneration")),
    )


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/eks-assist``, else ``~/.cache/eks-assist``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "eks-assist"


def _catalogue_file(aws: Any) -> Path:
    from assistant.identity.kubeconfig import is_loopback

    account, _ = aws.identity()
    # A local endpoint (the sandbox) has its own catalogue; never mix it with real AWS's.
    where = "local" if is_loopback(os.environ.get("AWS_ENDPOINT_URL")) else "aws"
    return cache_dir() / f"instance-types-{where}-{account}-{aws.region}.json"


def _read_catalogue(path: Path, now: float) -> list[InstanceTypeInfo] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != CATALOGUE_FORMAT or now - float(data["fetchedAt"]) > CATALOGUE_TTL:
            return None
        return [InstanceTypeInfo(**{**row, "architectures": tuple(row["architectures"])}) for row in data["types"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_catalogue(path: Path, types: list[InstanceTypeInfo], now: float) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(
            json.dumps({"format": CATALOGUE_FORMAT, "fetchedAt": now, "types": [asdict(t) for t in types]}), encoding="utf-8"
        )
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only home only costs the next launch a fresh fetch


def instance_types(aws: Any, *, use_cache: bool = True, clock: Callable[[], float] = time.time) -> list[InstanceTypeInfo]:
    """The region's whole instance-type catalogue, sorted by name (DescribeInstanceTypes, paginated)."""
    path = _catalogue_file(aws) if use_cache else None
    now = clock()
    if path is not None:
        cached = _read_catalogue(path, now)
        if cached is not None:
            return cached
    types: list[InstanceTypeInfo] = []
    for page in aws.client("ec2").get_paginator("describe_instance_types").paginate():
        types.extend(instance_type_info(it) for it in page["InstanceTypes"])
    types.sort(key=lambda t: t.name)
    if path is not None:
        _write_catalogue(path, types, now)
    return types


def instance_types_named(aws: Any, names: list[str]) -> dict[str, InstanceTypeInfo]:
    """Just the named types (fast: one DescribeInstanceTypes call); unknown names are left out."""
    from assistant.network.capacity import describe_known_types

    wanted = sorted({n for n in names if n})
    if not wanted:
        return {}
    return {it["InstanceType"]: instance_type_info(it) for it in describe_known_types(aws.client("ec2"), wanted)}


__all__ = [
    "CATALOGUE_TTL",
    "FALLBACK_VERSIONS",
    "AddonInfo",
    "ClusterDetails",
    "ClusterSummary",
    "InstanceTypeInfo",
    "KubernetesVersion",
    "NodeGroupInfo",
    "SubnetInfo",
    "VpcInfo",
    "cache_dir",
    "cluster_details",
    "instance_type_info",
    "instance_types",
    "instance_types_named",
    "kubernetes_versions",
    "list_clusters",
    "subnets",
    "vpcs",
]
