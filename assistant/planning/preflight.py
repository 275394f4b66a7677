"""Preflight: the spec checks that need AWS, made with read-only calls only.

:func:`preflight` asks EC2 and EKS whether what the spec names exists in the region —
instance types (and their CPU architecture against the AMI type), the Kubernetes version,
existing subnets (two or more AZs, one VPC), security groups, node group subnets, and the
service CIDR against the existing VPC's CIDRs. It also checks EKS's service quotas, counting
what exists already (:mod:`assistant.planning.quotas`). Every problem is located at its field in the
spec file. Problems are returned, not raised: the caller decides (``InputError(problems)``).

API errors from a check become a problem at that check's field ("could not check ..."), so one
denied permission does not hide the other checks' findings. An API the endpoint does not
implement (the local sandbox has no DescribeClusterVersions) means "cannot check": nothing is
reported and a log line says why. Connection failures (botocore ``BotoCoreError``) propagate.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import difflib
import ipaddress
import logging
import re
import threading
from collections.abc import Callable, Iterable
from typing import Any

from botocore.exceptions import ClientError

from assistant.errors import Problem
from assistant.spec import AMI_TYPES, LoadedSpec

__all__ = ["EXTENDED_SUPPORT_NOTICE_DAYS", "clear_cache", "preflight", "preflight_report", "version_warnings"]

log = logging.getLogger(__name__)

PathT = tuple[str | int, ...]

# Listing every instance type offered in a region is several requests; names do not change
# within a process's lifetime, so one listing per (region, endpoint) serves every spec.
_OFFERED: dict[tuple[str, str], frozenset[str]] = {}
_OFFERED_LOCK = threading.Lock()

_UNSUPPORTED_CODES = frozenset({"404", "UnknownOperationException", "UnknownOperation", "InvalidAction"})
_DESCRIBE_TYPES_BATCH = 100  # DescribeInstanceTypes accepts at most 100 names
_FILTER_BATCH = 200  # EC2 accepts at most 200 values per filter


def clear_cache() -> None:
    """Forget the cached per-region instance type listings."""
    with _OFFERED_LOCK:
        _OFFERED.clear()


def preflight(loaded: LoadedSpec, client: Callable[[str], Any]) -> list[Problem]:
    """Check the spec against AWS with read-only calls; returns located problems (empty = fine).

    ``client(service)`` returns a boto3 client for ``"ec2"``, ``"eks"`` or ``"service-quotas"``,
    already configured for the spec's region and endpoint. Each client is requested only if a
    check needs it.
    """
    return preflight_report(loaded, client)[0]


def preflight_report(loaded: LoadedSpec, client: Callable[[str], Any]) -> tuple[list[Problem], list[str]]:
    """:func:`preflight`'s problems, and what the quota checks found, one line per quota (for the plan)."""
    from assistant.planning import quotas

    clients = _Clients(client)
    problems: list[Problem] = []
    problems += _check_version(loaded, clients)
    if loaded.spec.workers:
        problems += _check_instance_types(loaded, clients)
    problems += _check_network(loaded, clients)
    report = quotas.check(loaded, clients)
    problems += report.problems
    return sorted(dict.fromkeys(problems), key=lambda p: (p.line is None, p.line or 0, p.col or 0)), report.lines


class _Clients:
    """Creates each boto3 client at most once, and only when a check needs it."""

    def __init__(self, factory: Callable[[str], Any]) -> None:
        self._factory = factory
        self._made: dict[str, Any] = {}

    def __call__(self, service: str) -> Any:
        if service not in self._made:
            self._made[service] = self._factory(service)
        return self._made[service]


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _unsupported(exc: ClientError) -> bool:
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return status == 404 or _code(exc) in _UNSUPPORTED_CODES


def _could_not(what: str, exc: ClientError) -> str:
    message = str(exc.response.get("Error", {}).get("Message", "")).strip()
    return f"could not check {what}: {_code(exc) or 'error'}" + (f": {message}" if message else "")


def _version_key(version: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in version.split("."))
    except ValueError:
        return (10**6,)  # not numeric: sort last, never crash on an odd answer


# --------------------------------------------------------------------------- Kubernetes version


def _cluster_versions(eks: Any) -> list[dict[str, Any]]:
    """Every version DescribeClusterVersions knows, unsupported ones included (they explain a refusal)."""
    entries: list[dict[str, Any]] = []
    for page in eks.get_paginator("describe_cluster_versions").paginate(includeAll=True):
        entries += page.get("clusterVersions", [])
    return entries


def _status(entry: dict[str, Any]) -> str:
    """``versionStatus``, or the deprecated lowercase ``status`` spelled the same way."""
    return str(entry.get("versionStatus") or str(entry.get("status") or "").upper().replace("-", "_"))


def _day(value: Any) -> dt.date | None:
    """A support date as a UTC day (botocore parses the timestamps; EKS's days are UTC)."""
    if isinstance(value, dt.datetime):
        return (value.astimezone(dt.UTC) if value.tzinfo else value).date()
    return value if isinstance(value, dt.date) else None


def _check_version(loaded: LoadedSpec, clients: _Clients) -> list[Problem]:
    spec = loaded.spec
    path: PathT = ("masters", "version")
    eks = clients("eks")
    try:
        entries = _cluster_versions(eks)
    except ClientError as exc:
        if _unsupported(exc):
            log.info("cannot check the Kubernetes version: this endpoint has no DescribeClusterVersions (%s)", _code(exc))
            return []
        return [loaded.problem(path, _could_not("the Kubernetes version", exc))]
    offered = sorted(
        {str(e["clusterVersion"]) for e in entries if e.get("clusterVersion") and _status(e) != "UNSUPPORTED"},
        key=_version_key,
    )
    if not offered:
        log.info("cannot check the Kubernetes version: EKS listed no versions")
        return []
    if spec.masters.version in offered:
        return []
    ended = next((e for e in entries if e.get("clusterVersion") == spec.masters.version), None)
    end = _day(ended.get("endOfExtendedSupportDate")) if ended else None
    reason = (
        f"Kubernetes version {spec.masters.version!r} reached the end of EKS extended support on {end} "
        "and EKS no longer creates clusters on it"
        if end
        else f"Kubernetes version {spec.masters.version!r} is not offered by EKS in {spec.metadata.region}"
    )
    return [loaded.problem(path, f"{reason}; offered: {', '.join(offered)}")]


# --------------------------------------------------------------------------- extended support

# Warn this many days before a version leaves standard support. AWS announces the end of
# standard support at least 60 days ahead (its Health notice comes about 12 months after a
# release); upgrading takes testing the workloads on the next version, then the control plane,
# add-ons and node groups one minor version at a time. A quarter gives a team one planning
# cycle to do that, and reaches them before AWS's own notice does.
EXTENDED_SUPPORT_NOTICE_DAYS = 90

# Control plane price per cluster-hour (us-east-1, as on the EKS pricing page).
_STANDARD_PRICE, _EXTENDED_PRICE = "$0.10", "$0.60"


def version_warnings(version: str, client: Callable[[str], Any], today: dt.date) -> list[str]:
    """Plan warnings for a cluster on ``version``: in extended support, or entering it within
    :data:`EXTENDED_SUPPORT_NOTICE_DAYS` of ``today``, with the dates and the version to move to.

    Read-only (DescribeClusterVersions). When EKS cannot say (an endpoint without the API, a
    denied permission), there is nothing to warn about: preflight reports what it could not check.
    """
    try:
        entries = _cluster_versions(client("eks"))
    except ClientError as exc:
        log.info("no extended-support warning: DescribeClusterVersions failed (%s)", _code(exc))
        return []
    by_version = {str(e.get("clusterVersion")): e for e in entries}
    entry = by_version.get(version)
    if entry is None:
        return []
    status = _status(entry)
    end_standard, end_extended = _day(entry.get("endOfStandardSupportDate")), _day(entry.get("endOfExtendedSupportDate"))
    if end_standard is None or end_extended is None or status == "UNSUPPORTED":
        return []  # no dates to quote; an unsupported version is preflight's error
    cost = (
        f"the control plane costs {_EXTENDED_PRICE} instead of {_STANDARD_PRICE} per cluster-hour, six times the standard price"
    )
    if status == "EXTENDED_SUPPORT" or today >= end_standard:
        lead = (
            f"Kubernetes {version} is in EKS extended support since {end_standard}: {cost}. Extended support "
            f"ends on {end_extended}; after that EKS upgrades the control plane itself."
        )
    elif (end_standard - today).days <= EXTENDED_SUPPORT_NOTICE_DAYS:
        lead = f"Kubernetes {version} leaves EKS standard support on {end_standard}: from then on {cost}, until {end_extended}."
    else:
        return []
    return [f"{lead} {_upgrade_advice(version, by_version)}"]


def _upgrade_advice(version: str, by_version: dict[str, dict[str, Any]]) -> str:
    standard = sorted((v for v, e in by_version.items() if _status(e) == "STANDARD_SUPPORT"), key=_version_key)
    newer = [v for v in standard if _version_key(v) > _version_key(version)]
    if not newer:
        return "No newer version is in standard support yet."
    target = newer[-1]
    until = _day(by_version[target].get("endOfStandardSupportDate"))
    advice = f"Upgrade to {target} (standard support{f' until {until}' if until else ''})"
    steps = [v for v in sorted(by_version, key=_version_key) if _version_key(version) < _version_key(v) <= _version_key(target)]
    if len(steps) <= 1:
        return f"{advice}: set masters.version to {target}."
    # EKS (and the plan) moves a running cluster one minor version per update.
    path = " -> ".join([version, *steps])
    return f"{advice}: a new cluster can start there; a running one moves one minor version per apply, {path}."


# --------------------------------------------------------------------------- instance types


def _offered_types(ec2: Any) -> frozenset[str]:
    key = (str(ec2.meta.region_name), str(ec2.meta.endpoint_url))
    with _OFFERED_LOCK:
        cached = _OFFERED.get(key)
    if cached is not None:
        return cached
    names: set[str] = set()
    for page in ec2.get_paginator("describe_instance_type_offerings").paginate(LocationType="region"):
        names.update(o["InstanceType"] for o in page.get("InstanceTypeOfferings", []))
    result = frozenset(names)
    with _OFFERED_LOCK:
        _OFFERED[key] = result
    return result


def _describe_types(ec2: Any, names: list[str]) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Instance type details by name, and the names that do not exist in the region."""
    found: dict[str, dict[str, Any]] = {}
    unknown: list[str] = []
    for start in range(0, len(names), _DESCRIBE_TYPES_BATCH):
        batch = names[start : start + _DESCRIBE_TYPES_BATCH]
        try:
            found.update(_describe_batch(ec2, batch))
            continue
        except ClientError as exc:
            if _code(exc) != "InvalidInstanceType":
                raise
            error_message = str(exc.response.get("Error", {}).get("Message", ""))
        # EC2 refuses the whole batch for one bad name; find the bad ones, then ask for the rest.
        bad: list[str] = []
        try:
            offered = _offered_types(ec2)
            bad = [n for n in batch if n not in offered]
        except ClientError:
            pass
        if not bad:  # the listing disagrees or failed: fall back to the names in EC2's message
            listed = re.search(r"\[([^\]]*)\]", error_message)
            named = {n.strip() for n in listed.group(1).split(",")} if listed else set()
            bad = [n for n in batch if n in named]
        if not bad:
            raise ClientError({"Error": {"Code": "InvalidInstanceType", "Message": error_message}}, "DescribeInstanceTypes")
        unknown += bad
        rest = [n for n in batch if n not in bad]
        if rest:
            found.update(_describe_batch(ec2, rest))
    return found, unknown


def _describe_batch(ec2: Any, names: list[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    kwargs: dict[str, Any] = {"InstanceTypes": names}
    while True:
        page = ec2.describe_instance_types(**kwargs)
        for info in page.get("InstanceTypes", []):
            found[info["InstanceType"]] = info
        token = page.get("NextToken")
        if not token:
            return found
        kwargs["NextToken"] = token


def _ami_architecture(ami_type: str) -> str | None:
    if "_ARM_64" in ami_type:
        return "arm64"
    if "_x86_64" in ami_type:
        return "x86_64"
    return None  # CUSTOM: the AMI decides, and we do not look it up


def _ami_for(ami_type: str, arch: str) -> str:
    """The same AMI family built for ``arch`` (may not exist; the caller checks)."""
    if arch == "arm64":
        return ami_type.replace("_x86_64", "_ARM_64")
    return ami_type.replace("_ARM_64", "_x86_64")


def _check_instance_types(loaded: LoadedSpec, clients: _Clients) -> list[Problem]:
    spec = loaded.spec
    region = spec.metadata.region
    wanted: dict[str, list[PathT]] = {}
    for i, ng in enumerate(spec.workers):
        for j, name in enumerate(ng.instance_types):
            wanted.setdefault(name, []).append(("workers", i, "instanceTypes", j))
    ec2 = clients("ec2")
    try:
        found, unknown = _describe_types(ec2, sorted(wanted))
    except ClientError as exc:
        return [loaded.problem(("workers",), _could_not("instance types", exc))]

    problems: list[Problem] = []
    for name in unknown:
        close: list[str] = []
        # No listing, no suggestion; the problem itself still stands.
        with contextlib.suppress(ClientError):
            close = difflib.get_close_matches(name, sorted(_offered_types(ec2)), n=1, cutoff=0.75)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        for path in wanted[name]:
            problems.append(loaded.problem(path, f"unknown instance type {name!r} in {region}{hint}"))

    for i, ng in enumerate(spec.workers):
        arch = _ami_architecture(ng.ami_type)
        if arch is None:
            continue
        for j, name in enumerate(ng.instance_types):
            info = found.get(name)
            if info is None:
                continue
            supported = list(info.get("ProcessorInfo", {}).get("SupportedArchitectures", []))
            if not supported or arch in supported:
                continue
            other = "arm64" if "arm64" in supported else supported[0]
            suggestion = _ami_for(ng.ami_type, other)
            useful = suggestion in AMI_TYPES and suggestion != ng.ami_type
            hint = f"; use amiType {suggestion}" if useful else ""
            problems.append(
                loaded.problem(
                    ("workers", i, "instanceTypes", j),
                    f"instance type {name!r} runs {'/'.join(supported)}, but amiType {ng.ami_type} is for {arch}{hint}",
                )
            )
    return problems


# --------------------------------------------------------------------------- network


def _batched(values: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _describe_subnets(ec2: Any, ids: list[str]) -> dict[str, dict[str, Any]]:
    # A filter, not SubnetIds=: EC2 fails the whole call on the first missing ID, and we want
    # to name every missing one.
    found: dict[str, dict[str, Any]] = {}
    for batch in _batched(ids, _FILTER_BATCH):
        pages = ec2.get_paginator("describe_subnets").paginate(Filters=[{"Name": "subnet-id", "Values": batch}])
        for page in pages:
            for subnet in page.get("Subnets", []):
                found[subnet["SubnetId"]] = subnet
    return found


def _describe_security_groups(ec2: Any, ids: list[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for batch in _batched(ids, _FILTER_BATCH):
        pages = ec2.get_paginator("describe_security_groups").paginate(Filters=[{"Name": "group-id", "Values": batch}])
        for page in pages:
            for group in page.get("SecurityGroups", []):
                found[group["GroupId"]] = group
    return found


def _check_network(loaded: LoadedSpec, clients: _Clients) -> list[Problem]:
    spec = loaded.spec
    region = spec.metadata.region
    existing = spec.masters.vpc.existing
    cluster_ids = list(existing.subnet_ids) if existing else []
    group_ids = list(existing.security_group_ids) if existing else []
    node_ids: dict[PathT, str] = {
        ("workers", i, "subnetIds", j): sid for i, ng in enumerate(spec.workers) for j, sid in enumerate(ng.subnet_ids)
    }
    if not cluster_ids and not group_ids and not node_ids:
        return []  # a VPC we create: nothing in AWS to check yet

    ec2 = clients("ec2")
    base: PathT = ("masters", "vpc", "existing")
    problems: list[Problem] = []
    try:
        subnets = _describe_subnets(ec2, sorted(set(cluster_ids) | set(node_ids.values())))
    except ClientError as exc:
        return [loaded.problem((*base, "subnetIds"), _could_not("subnets", exc))]

    for j, sid in enumerate(cluster_ids):
        if sid not in subnets:
            problems.append(loaded.problem((*base, "subnetIds", j), f"subnet {sid!r} does not exist in {region}"))
    present = [subnets[sid] for sid in dict.fromkeys(cluster_ids) if sid in subnets]
    vpcs = sorted({s["VpcId"] for s in present})
    cluster_vpc = vpcs[0] if len(vpcs) == 1 else None
    if len(vpcs) > 1:
        where = ", ".join(f"{s['SubnetId']} in {s['VpcId']}" for s in present)
        problems.append(
            loaded.problem(
                (*base, "subnetIds"),
                f"the subnets are in different VPCs ({where}); EKS needs them all in one VPC",
            )
        )
    zones = sorted({s["AvailabilityZone"] for s in present})
    # With a subnet missing we cannot know how many AZs were meant; that problem is reported already.
    if present and len(present) == len(set(cluster_ids)) and len(zones) < 2:
        problems.append(
            loaded.problem(
                (*base, "subnetIds"),
                f"all subnets are in one Availability Zone ({zones[0]}); EKS needs subnets in at least two Availability Zones",
            )
        )

    for path, sid in node_ids.items():
        subnet = subnets.get(sid)
        if subnet is None:
            problems.append(loaded.problem(path, f"subnet {sid!r} does not exist in {region}"))
        elif cluster_vpc is not None and subnet["VpcId"] != cluster_vpc:
            problems.append(
                loaded.problem(path, f"subnet {sid!r} is in {subnet['VpcId']}, not in the cluster's VPC {cluster_vpc}")
            )

    if group_ids:
        try:
            groups = _describe_security_groups(ec2, sorted(set(group_ids)))
        except ClientError as exc:
            problems.append(loaded.problem((*base, "securityGroupIds"), _could_not("security groups", exc)))
        else:
            for j, gid in enumerate(group_ids):
                group = groups.get(gid)
                if group is None:
                    problems.append(
                        loaded.problem((*base, "securityGroupIds", j), f"security group {gid!r} does not exist in {region}")
                    )
                elif cluster_vpc is not None and group.get("VpcId") != cluster_vpc:
                    problems.append(
                        loaded.problem(
                            (*base, "securityGroupIds", j),
                            f"security group {gid!r} is in {group.get('VpcId')}, not in the cluster's VPC {cluster_vpc}",
                        )
                    )

    if cluster_vpc is not None and spec.masters.service_cidr:
        problems += _check_service_cidr(loaded, ec2, cluster_vpc)
    return problems


def _check_service_cidr(loaded: LoadedSpec, ec2: Any, vpc_id: str) -> list[Problem]:
    path: PathT = ("masters", "serviceCidr")
    service = ipaddress.IPv4Network(str(loaded.spec.masters.service_cidr))
    try:
        vpcs = ec2.describe_vpcs(VpcIds=[vpc_id]).get("Vpcs", [])
    except ClientError as exc:
        return [loaded.problem(path, _could_not("the VPC's CIDR blocks", exc))]
    blocks: list[str] = []
    for vpc in vpcs:
        associations = vpc.get("CidrBlockAssociationSet") or [{"CidrBlock": vpc.get("CidrBlock")}]
        for assoc in associations:
            state = assoc.get("CidrBlockState", {}).get("State", "associated")
            if assoc.get("CidrBlock") and state in ("associated", "associating"):
                blocks.append(assoc["CidrBlock"])
    for block in blocks:
        net = ipaddress.ip_network(block, strict=False)
        if isinstance(net, ipaddress.IPv4Network) and service.overlaps(net):
            return [loaded.problem(path, f"service CIDR {service} overlaps the CIDR {net} of {vpc_id}")]
    return []
